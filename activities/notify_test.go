package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
)

// webhook records what it receives, by path.
type webhook struct {
	mu    sync.Mutex
	posts map[string][]string
	srv   *httptest.Server
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{posts: map[string][]string{}}
	w.srv = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.posts[r.URL.Path] = append(w.posts[r.URL.Path], string(body))
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhook) received(path string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.posts[path]
}

func TestOutcomeNoticesNameWhatNeedsAHuman(t *testing.T) {
	m := results.Manifest{SweepID: "s", Date: "2026-12-07", Counts: map[string]int{"succeeded": 8, "failed": 2},
		Quarantined: map[string][]string{"h100": {"n1"}, "b200": nil},
		NodeFaults:  map[string]map[string][]string{"h100": {"n1": {"p1 (e, conc 4): the engine died", "p2: gone"}}}}
	tests := []struct {
		name      string
		failedPct float64
		want      []Notice
	}{
		{"20% failed over a 10% threshold", 10, []Notice{
			{Kind: NoticeFailedPoints, SweepID: "s", Date: "2026-12-07", Title: "sweep s: 2 of 10 points failed (20%, more than 10%)"},
			{Kind: NoticeQuarantined, SweepID: "s", Date: "2026-12-07", Pool: "h100", Title: "sweep s: 1 node(s) of pool h100 quarantined: n1",
				Lines: []string{"n1: 2 fault(s), first: p1 (e, conc 4): the engine died"}},
		}},
		{"20% failed under a 25% threshold", 25, []Notice{
			{Kind: NoticeQuarantined, SweepID: "s", Date: "2026-12-07", Pool: "h100", Title: "sweep s: 1 node(s) of pool h100 quarantined: n1",
				Lines: []string{"n1: 2 fault(s), first: p1 (e, conc 4): the engine died"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, outcomeNotices(m, tt.failedPct))
		})
	}
}

// Each kind is sent once per sweep (per pool), to the pool's route when
// it has one, and not at all when turned off.
func TestNotifyOncePerSweepKindAndPool(t *testing.T) {
	lake := testLake(t)
	hook := newWebhook(t)
	a := &Activities{Lake: lake, Alerts: AlertConfig{WebhookURL: hook.srv.URL + "/team", Format: "json", UIURL: "http://ui.example/",
		Routes: Routes{"mi355x": hook.srv.URL + "/amd"}, Kinds: []string{NoticeQuarantined, NoticeStalled}}}
	ctx := context.Background()
	send := func(n Notice) string {
		got, err := a.Notify(ctx, n)
		require.NoError(t, err)
		return got
	}
	q := Notice{Kind: NoticeQuarantined, SweepID: "s", Date: "2026-12-07", Pool: "mi355x", Title: "quarantined"}
	require.Equal(t, AlertSent, send(q))
	require.Equal(t, AlertAlreadySent, send(q), "a storm is one message")
	q.Pool = "h100"
	require.Equal(t, AlertSent, send(q), "another pool's is its own")
	require.Equal(t, AlertSent, send(Notice{Kind: NoticeStalled, SweepID: "s", Date: "2026-12-07", Title: "stalled"}))
	require.Equal(t, AlertNotConfigured, send(Notice{Kind: NoticeSweepFailed, SweepID: "s", Date: "2026-12-07", Title: "failed"}), "turned off")

	require.Len(t, hook.received("/amd"), 1, "the pool's route")
	require.Len(t, hook.received("/team"), 2)
	var got Notice
	require.NoError(t, json.Unmarshal([]byte(hook.received("/team")[1]), &got))
	require.Equal(t, Notice{Kind: NoticeStalled, SweepID: "s", Date: "2026-12-07", Title: "stalled", Link: "http://ui.example/namespaces/default/workflows/sweep-s"}, got)
}

func TestSweepFailedNoticeInSlack(t *testing.T) {
	hook := newWebhook(t)
	a := &Activities{Lake: testLake(t), Alerts: AlertConfig{WebhookURL: hook.srv.URL, Format: "slack"}}
	got, err := a.NotifySweepFailed(context.Background(), FailureNotice{SweepID: "s", Date: "2026-12-07", Cancelled: true, Reason: "canceled"})
	require.NoError(t, err)
	require.Equal(t, AlertSent, got)
	var body map[string]string
	require.NoError(t, json.Unmarshal([]byte(hook.received("/")[0]), &body))
	require.Equal(t, "infersweep sweep-failed: sweep s (2026-12-07) was cancelled before committing its results\n• canceled", body["text"])
}

func TestAlertConfigFromTheEnvironment(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c AlertConfig)
	}{
		{nil, "", func(t *testing.T, c AlertConfig) {
			require.Equal(t, NoticeKinds, c.Kinds, "every kind by default")
			require.Equal(t, 10.0, c.FailedPointsPct)
			require.Equal(t, "30m0s", c.StallAfter.String())
		}},
		{map[string]string{"INFERSWEEP_ALERT_KINDS": "stalled,sweep-failed", "INFERSWEEP_ALERT_ROUTES": "mi355x=http://amd.example/hook, h100=http://nv.example/hook"}, "",
			func(t *testing.T, c AlertConfig) {
				require.Equal(t, []string{"stalled", "sweep-failed"}, c.Kinds)
				require.Equal(t, "http://amd.example/hook", c.webhook("mi355x"))
			}},
		{map[string]string{"INFERSWEEP_ALERT_KINDS": "stalled,everything"}, `INFERSWEEP_ALERT_KINDS: "everything": want some of summary, sweep-failed, failed-points, accuracy-failed, quarantined, stalled, missed-night, late-night`, nil},
		{map[string]string{"INFERSWEEP_ALERT_ROUTES": "mi355x"}, `envconfig.Process: assigning INFERSWEEP_ALERT_ROUTES to Routes: converting 'mi355x' to type activities.Routes. details: "mi355x": want pool=http(s)://webhook`, nil},
		{map[string]string{"INFERSWEEP_ALERT_STALL_AFTER": "0s"}, "INFERSWEEP_ALERT_STALL_AFTER=0s: want a positive duration", nil},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := LoadAlertConfig()
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}
