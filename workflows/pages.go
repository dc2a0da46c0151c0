package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// A paged pool (HardwareInput.Paged) keeps no list that grows with the
// sweep: it reads its points from the plan a page at a time and writes
// what became of them to the lake in manifest parts, so every payload
// (activity inputs and results, the carry, the pool's result) stays the
// same size at 200 points or 20,000.
const (
	// pageSize points are ~35 KB of payload.
	pageSize = 64
	// partSize outcomes are ~15 KB of payload.
	partSize = 250
	// maxFailureLines keeps the failures a result names; the lake has all.
	maxFailureLines = 50
	// maxPending node-fault failures wait for retry-failed; past that the
	// pool is sick, not unlucky, and further ones are recorded at once.
	maxPending = 100
)

// pointSource hands a pool its points in run order: from memory for
// pools started before paging, else from the plan, a page at a time.
type pointSource struct {
	all      []sweep.Point
	paged    bool
	load     func(from, limit int) (activities.PoolPage, error)
	total    int
	canaries int
	digest   string
	err      error // a page that could not be read ends the run
}

// loadPoints reads the pool's first page at from (or, unpaged, all of it).
func loadPoints(ctx workflow.Context, in HardwareInput, from int) (*pointSource, error) {
	var a *activities.Activities
	actx := workflow.WithActivityOptions(ctx, recordOptions)
	if !in.Paged {
		var loaded activities.RunnerPoints
		if err := workflow.ExecuteActivity(actx, a.LoadRunnerPoints, in.PlanKey, in.Runner).Get(ctx, &loaded); err != nil {
			return nil, err
		}
		s := &pointSource{digest: loaded.ConfigDigest, total: len(loaded.Points)}
		s.all, s.canaries = sweep.RunOrder(loaded.Points)
		return s, nil
	}
	s := &pointSource{paged: true, load: func(from, limit int) (activities.PoolPage, error) {
		var page activities.PoolPage
		err := workflow.ExecuteActivity(actx, a.LoadPoolPage, activities.PoolPageInput{PlanKey: in.PlanKey, Runner: in.Runner, From: from, Limit: limit}).Get(ctx, &page)
		return page, err
	}}
	first, err := s.load(from, 0)
	if err != nil {
		return nil, err
	}
	s.total, s.canaries, s.digest = first.Total, first.Canaries, first.ConfigDigest
	return s, nil
}

// span iterates points from..to of the run order.
func (s *pointSource) span(from, to int) func() (sweep.Point, bool) {
	next := from
	var page []sweep.Point
	return func() (sweep.Point, bool) {
		if next >= to || s.err != nil {
			return sweep.Point{}, false
		}
		if !s.paged {
			next++
			return s.all[next-1], true
		}
		if len(page) == 0 {
			loaded, err := s.load(next, min(pageSize, to-next))
			if err == nil && len(loaded.Points) == 0 {
				// A write-once plan cannot shrink; say so rather than
				// continue as new forever short of the end.
				err = temporal.NewNonRetryableApplicationError(fmt.Sprintf("the plan has no points at %d of %d", next, s.total), activities.ErrConfig, nil)
			}
			if err != nil {
				s.err = err
				return sweep.Point{}, false
			}
			page = loaded.Points
		}
		p := page[0]
		page = page[1:]
		next++
		return p, true
	}
}

// finished takes a point's manifest entry: into the result for pools
// started before parts, else into the next manifest part.
func (r *poolRun) finished(ctx workflow.Context, mp results.ManifestPoint) {
	if !r.in.Paged {
		r.result.Points = append(r.result.Points, mp)
		return
	}
	if r.result.Counts == nil {
		r.result.Counts = map[string]int{}
	}
	r.result.Counts[mp.Status]++
	r.outcomes = append(r.outcomes, results.OutcomeOf(mp))
	if len(r.outcomes) >= partSize {
		r.flush(ctx)
	}
}

// flush writes the outcomes held so far as the pool's next manifest part.
func (r *poolRun) flush(ctx workflow.Context) {
	if len(r.outcomes) == 0 {
		return
	}
	batch, part := r.outcomes, r.result.Parts
	r.outcomes = nil
	r.result.Parts++
	var a *activities.Activities
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, recordOptions), a.WriteManifestPart, activities.ManifestPartInput{
		SweepID: r.in.SweepID, Date: r.in.Date, Runner: r.in.Runner, Part: part, Outcomes: batch,
	}).Get(ctx, nil)
	if err != nil && r.partErr == nil {
		r.partErr = err
	}
}

// keepNodeFaults writes what was charged to the pool's nodes to the lake,
// for the manifest and the report.
func (r *poolRun) keepNodeFaults(ctx workflow.Context) error {
	if !r.in.Paged || len(r.progress.Evidence) == 0 {
		return nil
	}
	// Pools that paged before then ended without it.
	if workflow.GetVersion(ctx, "node-faults-in-lake", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	var a *activities.Activities
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, recordOptions), a.WriteNodeFaults, activities.NodeFaultsInput{
		SweepID: r.in.SweepID, Date: r.in.Date, Runner: r.in.Runner, Faults: r.progress.Evidence,
	}).Get(ctx, nil)
}

// failed notes a failure line; a paged pool names the first few only.
func (r *poolRun) failed(line string) {
	if r.in.Paged && len(r.result.Failures) >= maxFailureLines {
		r.result.MoreFailures++
		return
	}
	r.result.Failures = append(r.result.Failures, line)
}

// PointCount is how many points the pool finished, in either form.
func (h HardwareResult) PointCount() int {
	n := len(h.Points)
	for _, c := range h.Counts {
		n += c
	}
	return n
}
