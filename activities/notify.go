package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/infersweep/infersweep/results"
)

// Kinds of notification, each sent at most once per sweep (per pool for
// routed ones) and each turned on or off in INFERSWEEP_ALERT_KINDS.
const (
	NoticeSummary      = "summary"       // the committed sweep's results and regressions
	NoticeSweepFailed  = "sweep-failed"  // the sweep failed or was cancelled before committing
	NoticeFailedPoints = "failed-points" // more than ALERT_FAILED_POINTS_PCT of its points failed
	NoticeQuarantined  = "quarantined"   // a pool's nodes quarantined by the sweep, with their first faults
	NoticeStalled      = "stalled"       // the watchdog saw no point finish for ALERT_STALL_AFTER
	NoticeMissedNight  = "missed-night"  // a schedule did not start a night it was due to
	NoticeLateNight    = "late-night"    // a scheduled night still runs ALERT_NIGHT_DEADLINE after it was due
	// NoticeAccuracyFailed names a pool's points whose eval scored under
	// its threshold.
	NoticeAccuracyFailed = "accuracy-failed"
)

// NoticeKinds are every kind, in the order a team reads them.
var NoticeKinds = []string{NoticeSummary, NoticeSweepFailed, NoticeFailedPoints, NoticeAccuracyFailed, NoticeQuarantined, NoticeStalled, NoticeMissedNight, NoticeLateNight}

// Notice is one notification: what happened to a sweep, whom it is for.
type Notice struct {
	Kind    string `json:"kind"`
	SweepID string `json:"sweep_id"`
	Date    string `json:"date"`
	// Pool routes the notice (ALERT_ROUTES) and is part of its key: a
	// storm over several pools is one message per pool, not one per node.
	Pool  string `json:"pool,omitempty"`
	Title string `json:"title"`
	// Lines are the facts, counts first; Link is the sweep in the UI.
	Lines []string `json:"lines,omitempty"`
	Link  string   `json:"link,omitempty"`
}

// enabled: no kinds named (a config not read from the environment) is
// every kind.
func (c AlertConfig) enabled(kind string) bool {
	return len(c.Kinds) == 0 || slices.Contains(c.Kinds, kind)
}

// webhook is where a pool's notices go: its route, else the default.
func (c AlertConfig) webhook(pool string) string {
	if url, ok := c.Routes[pool]; ok && pool != "" {
		return url
	}
	return c.WebhookURL
}

// Notify posts a notice once: a marker in the lake, written after a
// delivered POST, makes any repeat (a retried activity, a watchdog that
// sees the same stall again, another control worker) a no-op, and the
// Idempotency-Key lets a receiver drop the one duplicate left possible.
func (a *Activities) Notify(ctx context.Context, n Notice) (string, error) {
	url := a.Alerts.webhook(n.Pool)
	if !a.Alerts.enabled(n.Kind) || url == "" {
		return AlertNotConfigured, nil
	}
	key := n.Kind
	if n.Pool != "" {
		key += "-" + n.Pool
	}
	marker := results.NoticeKey(n.Date, cmp.Or(n.SweepID, "unnamed"), key)
	if _, err := a.Lake.Store().Size(ctx, marker); err == nil {
		return AlertAlreadySent, nil
	} else if !errors.Is(err, results.ErrNotFound) {
		return "", err
	}
	if n.Link == "" && a.Alerts.UIURL != "" && n.SweepID != "" {
		n.Link = strings.TrimRight(a.Alerts.UIURL, "/") + "/namespaces/default/workflows/sweep-" + n.SweepID
	}
	body, err := a.noticeBody(n)
	if err != nil {
		return "", err
	}
	if err := a.post(ctx, url, body, "infersweep-"+key+"-"+n.SweepID); err != nil {
		return "", err
	}
	if err := a.Lake.Store().Put(ctx, marker, body, "application/json"); err != nil {
		return "", fmt.Errorf("%s notice for sweep %s delivered, marker not stored: %w", n.Kind, n.SweepID, err)
	}
	return AlertSent, nil
}

func (a *Activities) noticeBody(n Notice) ([]byte, error) {
	if a.Alerts.Format != "slack" {
		return json.Marshal(n)
	}
	text := fmt.Sprintf("infersweep %s: %s", n.Kind, n.Title)
	for _, l := range n.Lines {
		text += "\n• " + l
	}
	if n.Link != "" {
		text += "\n" + n.Link
	}
	return json.Marshal(map[string]string{"text": text})
}

// outcomeNotices are what a committed sweep's manifest needs a human for:
// too many failed points, and each pool's quarantined nodes.
func outcomeNotices(m results.Manifest, failedPct float64) []Notice {
	var out []Notice
	total, failed := 0, m.Counts["failed"]
	for _, n := range m.Counts {
		total += n
	}
	if total > 0 && float64(failed)*100/float64(total) > failedPct {
		out = append(out, Notice{Kind: NoticeFailedPoints, SweepID: m.SweepID, Date: m.Date,
			Title: fmt.Sprintf("sweep %s: %d of %d points failed (%.0f%%, more than %g%%)", m.SweepID, failed, total, float64(failed)*100/float64(total), failedPct)})
	}
	for _, pool := range slices.Sorted(maps.Keys(m.Quarantined)) {
		nodes := m.Quarantined[pool]
		if len(nodes) == 0 {
			continue
		}
		n := Notice{Kind: NoticeQuarantined, SweepID: m.SweepID, Date: m.Date, Pool: pool,
			Title: fmt.Sprintf("sweep %s: %d node(s) of pool %s quarantined: %s", m.SweepID, len(nodes), pool, strings.Join(nodes, ", "))}
		for _, node := range nodes {
			if faults := m.NodeFaults[pool][node]; len(faults) > 0 {
				n.Lines = append(n.Lines, fmt.Sprintf("%s: %d fault(s), first: %s", node, len(faults), faults[0]))
			}
		}
		out = append(out, n)
	}
	return out
}

// FailureNotice is a sweep that ended without committing.
type FailureNotice struct {
	SweepID, Date string
	Cancelled     bool
	Reason        string
}

// NotifySweepFailed tells the team a sweep failed or was cancelled, with
// the reason (which pool, what) and a link to its workflow.
func (a *Activities) NotifySweepFailed(ctx context.Context, in FailureNotice) (string, error) {
	what := "failed"
	if in.Cancelled {
		what = "was cancelled"
	}
	return a.Notify(ctx, Notice{Kind: NoticeSweepFailed, SweepID: in.SweepID, Date: in.Date,
		Title: fmt.Sprintf("sweep %s (%s) %s before committing its results", in.SweepID, in.Date, what), Lines: []string{in.Reason}})
}

// AccuracyFailure is one score under its threshold, naming its point.
type AccuracyFailure struct {
	PointID   string  `json:"point_id"`
	Hardware  string  `json:"hardware"`
	Model     string  `json:"model"`
	Framework string  `json:"framework"`
	Precision string  `json:"precision"`
	Conc      int32   `json:"conc"`
	Task      string  `json:"task"`
	Filter    string  `json:"filter"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
}

func (f AccuracyFailure) String() string {
	return fmt.Sprintf("%s %s %s %s conc %d (point %s): %s %s %.3f < %.2f", f.Hardware, f.Model, f.Framework, f.Precision, f.Conc, f.PointID, f.Task, f.Filter, f.Value, f.Threshold)
}

// accuracyFailures are the eval rows under their thresholds.
func accuracyFailures(rows []results.EvalRow) []AccuracyFailure {
	var out []AccuracyFailure
	for _, r := range rows {
		if r.Failed() {
			out = append(out, AccuracyFailure{PointID: r.PointID, Hardware: r.Runner, Model: r.Model, Framework: r.Framework, Precision: r.Precision,
				Conc: r.Conc, Task: r.Task, Filter: r.Filter, Value: *r.Value, Threshold: *r.Threshold})
		}
	}
	return out
}

// accuracyNotices are one notice per pool naming its accuracy-failed
// points, routed like the pool's other notices.
func accuracyNotices(m results.Manifest, failures []AccuracyFailure) []Notice {
	byPool := map[string][]AccuracyFailure{}
	for _, f := range failures {
		byPool[f.Hardware] = append(byPool[f.Hardware], f)
	}
	var out []Notice
	for _, pool := range slices.Sorted(maps.Keys(byPool)) {
		points := map[string]bool{}
		n := Notice{Kind: NoticeAccuracyFailed, SweepID: m.SweepID, Date: m.Date, Pool: pool}
		for _, f := range byPool[pool] {
			points[f.PointID] = true
			n.Lines = append(n.Lines, f.String())
		}
		n.Title = fmt.Sprintf("sweep %s: %d point(s) of pool %s scored under their eval thresholds (accuracy-failed)", m.SweepID, len(points), pool)
		out = append(out, n)
	}
	return out
}
