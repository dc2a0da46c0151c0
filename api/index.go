package api

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infersweep/infersweep/results"
)

// The index is refreshed with ListObjectsV2 from a StartAfter key, not
// from an index object the commit would update: the manifest is already
// the lake's one commit marker, and a second object written after it
// could be missing or stale after a crash between the two writes, and
// would need the workflow to change. A listing from StartAfter costs one
// request per 1,000 keys whatever the lake holds before it.
const (
	// relistDays is how far before the newest date seen an incremental
	// listing starts: a sweep is dated by its night and commits hours
	// later, so the newest partitions can still gain sweeps.
	relistDays = 2
	// fullEvery bounds how long a sweep committed into an older partition
	// (a backfill) can stay unseen: the whole lake is listed again.
	fullEvery = 10 * time.Minute
)

// index is every sweep of the lake, committed and running, in the lake's
// order: by date, then id.
type index struct {
	lake       Lake
	now        func() time.Time
	refreshing sync.Mutex
	snap       atomic.Pointer[snapshot]
}

type snapshot struct {
	refs   []results.SweepRef
	byID   map[string]results.SweepRef
	listed time.Time
	fullAt time.Time
}

// get answers from the index, listing the lake first when the index is
// older than maxAge. While one request lists, the others answer from the
// index they have rather than queue behind it.
func (x *index) get(ctx context.Context, maxAge time.Duration) (*snapshot, error) {
	s := x.snap.Load()
	if s != nil && x.now().Sub(s.listed) < maxAge {
		return s, nil
	}
	if s != nil && !x.refreshing.TryLock() {
		return s, nil
	}
	if s == nil {
		x.refreshing.Lock()
		if s = x.snap.Load(); s != nil {
			x.refreshing.Unlock()
			return s, nil
		}
	}
	defer x.refreshing.Unlock()
	next, err := x.list(ctx, s)
	if err != nil {
		return nil, err
	}
	x.snap.Store(next)
	return next, nil
}

// list reads the lake again from relistDays before the newest date known,
// keeping what came before; the first listing, and one every fullEvery,
// reads it all.
func (x *index) list(ctx context.Context, old *snapshot) (*snapshot, error) {
	now := x.now()
	next := &snapshot{listed: now, fullAt: now, byID: map[string]results.SweepRef{}}
	since := ""
	if old != nil && len(old.refs) > 0 && now.Sub(old.fullAt) < fullEvery {
		newest, err := time.Parse(time.DateOnly, old.refs[len(old.refs)-1].Date)
		if err == nil {
			since = newest.AddDate(0, 0, -relistDays).Format(time.DateOnly)
			next.fullAt = old.fullAt
		}
	}
	fresh, err := x.lake.Sweeps(ctx, since, "", true)
	if err != nil {
		return nil, fmt.Errorf("index the lake's sweeps: %w", err)
	}
	if since != "" {
		keep, _ := slices.BinarySearchFunc(old.refs, since, func(r results.SweepRef, date string) int { return cmp.Compare(r.Date, date) })
		next.refs = append(slices.Clip(old.refs[:keep]), fresh...)
	} else {
		next.refs = fresh
	}
	for _, r := range next.refs {
		next.byID[r.SweepID] = r
	}
	return next, nil
}

// between is the sweeps dated from..to (inclusive; "" is unbounded),
// committed ones only unless running.
func (s *snapshot) between(from, to string, running bool) []results.SweepRef {
	lo := sort.Search(len(s.refs), func(i int) bool { return from == "" || s.refs[i].Date >= from })
	hi := sort.Search(len(s.refs), func(i int) bool { return to != "" && s.refs[i].Date > to })
	out := make([]results.SweepRef, 0, max(hi-lo, 0))
	for _, r := range s.refs[lo:max(hi, lo)] {
		if running || r.Committed {
			out = append(out, r)
		}
	}
	return out
}

// committed is the committed sweep id names.
func (s *snapshot) committed(id string) (results.SweepRef, error) {
	if r, ok := s.byID[id]; ok && r.Committed {
		return r, nil
	}
	return results.SweepRef{}, fmt.Errorf("%w %q", results.ErrNoSweep, id)
}

// newestDate is the date of the newest committed sweep, "" for none.
func (s *snapshot) newestDate() string {
	for i := len(s.refs) - 1; i >= 0; i-- {
		if s.refs[i].Committed {
			return s.refs[i].Date
		}
	}
	return ""
}
