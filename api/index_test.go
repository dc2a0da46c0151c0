package api

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
)

// TestIndexPicksUpASweepCommittedAfterStart commits a sweep once the
// server has listed the lake, on the date of the newest night and later
// than it, and expects the list, its id and the latest page to follow.
func TestIndexPicksUpASweepCommittedAfterStart(t *testing.T) {
	ctx := context.Background()
	lake := apiLake(t)
	h := New(lake, Config{IndexMaxAge: 50 * time.Millisecond})
	require.Equal(t, []string{"n0", "n1", "n2"}, listIDs(t, h, "/api/v1/sweeps"))

	late := apiNight(2)
	late.ID, late.At = "n2-late", late.At.Add(time.Hour)
	require.NoError(t, late.Sweep().Write(ctx, lake))
	require.NoError(t, apiNight(3).Sweep().Write(ctx, lake))

	require.Eventually(t, func() bool { return len(listIDs(t, h, "/api/v1/sweeps")) == 5 }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{"n0", "n1", "n2", "n2-late", "n3"}, listIDs(t, h, "/api/v1/sweeps"))
	tests := []struct{ path, want string }{
		{"/dates/" + late.Date, "/sweeps/n2-late"},
		{"/", "/sweeps/n3"},
	}
	for _, tc := range tests {
		rec := get(t, h, tc.path, "")
		require.Equal(t, 302, rec.Code)
		require.Equal(t, tc.want, rec.Header().Get("Location"), tc.path)
	}
	require.Equal(t, 200, get(t, h, "/api/v1/sweeps/n3/points", "").Code)
}

func listIDs(t *testing.T, h *Server, path string) []string {
	t.Helper()
	rec := get(t, h, path, "")
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var refs []results.SweepRef
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &refs))
	return sweepIDs(refs)
}

func TestSweepsPageByCursor(t *testing.T) {
	h := New(apiLake(t), Config{})
	var pages [][]string
	next := "/api/v1/sweeps?limit=2&from=2026-11-24"
	for next != "" {
		rec := get(t, h, next, "")
		require.Equal(t, 200, rec.Code, rec.Body.String())
		var refs []results.SweepRef
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &refs))
		pages = append(pages, sweepIDs(refs))
		next = ""
		if m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(rec.Header().Get("Link")); m != nil {
			next = m[1]
			u, err := url.Parse(next)
			require.NoError(t, err)
			require.Equal(t, "2026-11-24", u.Query().Get("from"), "the next page keeps the filters")
		}
	}
	require.Equal(t, [][]string{{"n0", "n1"}, {"n2"}}, pages)

	bad := []struct{ path, want string }{
		{"/api/v1/sweeps?limit=0", `limit=\"0\": want a number from 1 to 1000`},
		{"/api/v1/sweeps?limit=1001", `limit=\"1001\": want a number from 1 to 1000`},
		{"/api/v1/sweeps?cursor=bm9zbGFzaA", "cursor: not one this API handed out"},
	}
	for _, tc := range bad {
		rec := get(t, h, tc.path, "")
		require.Equal(t, 400, rec.Code)
		require.Contains(t, rec.Body.String(), tc.want)
	}
}

// countingLake records the from date of every listing.
type countingLake struct {
	Lake
	froms []string
}

func (l *countingLake) Sweeps(ctx context.Context, from, to string, running bool) ([]results.SweepRef, error) {
	l.froms = append(l.froms, from)
	return l.Lake.Sweeps(ctx, from, to, running)
}

// TestIndexListsOnlyTheNewestNights checks what each refresh asks of the
// lake: all of it first, then from two days before the newest night, and
// all of it again once fullEvery has passed.
func TestIndexListsOnlyTheNewestNights(t *testing.T) {
	lake := &countingLake{Lake: apiLake(t)}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	x := &index{lake: lake, now: func() time.Time { return now }}
	steps := []struct {
		advance  time.Duration
		wantFrom []string
	}{
		{0, []string{""}},
		{time.Second, []string{""}}, // within maxAge: no listing
		{time.Minute, []string{"", "2026-11-24"}},
		{fullEvery, []string{"", "2026-11-24", ""}},
	}
	for i, step := range steps {
		now = now.Add(step.advance)
		snap, err := x.get(context.Background(), 30*time.Second)
		require.NoError(t, err)
		require.Equal(t, []string{"n0", "n1", "n2"}, sweepIDs(snap.between("", "", false)), "step %d", i)
		require.Equal(t, step.wantFrom, lake.froms, "step %d", i)
	}
}
