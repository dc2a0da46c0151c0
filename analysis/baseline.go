package analysis

import (
	"context"
	"errors"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/infersweep/infersweep/results"
)

// baselineReaders bounds the points rows read at once while looking for
// the earlier sweeps that measured tonight's regression points.
const baselineReaders = 16

// sweepPoint names one point of one sweep.
type sweepPoint struct{ sweep, point string }

// measuredEarlier finds, for each point tonight's regressions name, the
// newest earlier night that measured it, marks it in that night's
// PointIDs (where Regressions looks for a baseline sweep) and gives how
// the point ended there. A night's frontiers already name points it
// measured, which succeeded; any other point is looked up by its points
// row, newest night first, until a night has one. Earlier manifests,
// which list every point and run to megabytes, are never read.
func measuredEarlier(ctx context.Context, lake Lake, groups []Group, nights []Night, hardware map[string]string, targets []float64) (map[sweepPoint]string, error) {
	ids := regressionPoints(groups, targets)
	type found struct {
		night          int
		status, launch string
	}
	got := make([]found, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(baselineReaders)
	for i, id := range ids {
		g.Go(func() (err error) {
			got[i].night, got[i].status, got[i].launch, err = newestMeasured(gctx, lake, nights, hardware[id], id)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	statuses := map[sweepPoint]string{}
	for i, id := range ids {
		if f := got[i]; f.night >= 0 {
			nights[f.night].PointIDs[id] = true
			if f.launch != "" {
				nights[f.night].Launches[id] = f.launch
			}
			statuses[sweepPoint{nights[f.night].SweepID, id}] = f.status
		}
	}
	return statuses, nil
}

// newestMeasured is the index in nights (newest first) of the first that
// measured the point, and the point's status and launch fingerprint there
// (a frontier point's is the night's own record); -1 if none did. A
// points row is in the lake for every point a manifest lists, failed and
// skipped ones included, save one whose failure could not even be
// recorded: such a sweep measured nothing of the point, and the search
// goes on to an older one where reading its manifest stopped there.
func newestMeasured(ctx context.Context, lake Lake, nights []Night, hardware, id string) (int, string, string, error) {
	for i, n := range nights {
		if n.PointIDs[id] {
			return i, "succeeded", n.Launches[id], nil
		}
		status, launch, err := lake.PointOutcome(ctx, n.Date, hardware, n.SweepID, id)
		if errors.Is(err, results.ErrNotFound) {
			continue
		}
		if err != nil {
			return -1, "", "", err
		}
		return i, status, launch, nil
	}
	return -1, "", "", nil
}

// regressionPoints are the points Regressions names: each series'
// frontier point nearest each target, once each, in order.
func regressionPoints(groups []Group, targets []float64) []string {
	var ids []string
	for _, g := range groups {
		for _, s := range g.Series {
			for _, target := range targets {
				if id := nearest(s.Frontier, target); id != "" {
					ids = append(ids, id)
				}
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// attachPValues tests, for each regression row whose point succeeded in
// its baseline sweep, tonight's per-request TPOT against that sweep's.
// The earlier requests file's key derives from ids (TableKey); a sweep
// that kept none gives no p-value, as when its manifest listed none.
// Each pair of files is read once.
func attachPValues(ctx context.Context, lake Lake, regs []Regression, m results.Manifest, nights []Night, hardware map[string]string, statuses map[sweepPoint]string) error {
	tonight := map[string]string{}
	for _, p := range m.Points {
		if k, ok := p.Keys[results.TableRequests]; ok && p.Status == "succeeded" {
			tonight[p.PointID] = k
		}
	}
	dates := map[string]string{}
	for _, n := range nights {
		dates[n.SweepID] = n.Date
	}
	memo := map[sweepPoint]*float64{}
	for i := range regs {
		r := &regs[i]
		pr := sweepPoint{r.BaselineSweep, r.PointID}
		if r.BaselineSweep == "" {
			continue
		}
		if p, ok := memo[pr]; ok {
			r.PValue = p
			continue
		}
		a := tonight[r.PointID]
		if a == "" || statuses[pr] != "succeeded" {
			memo[pr] = nil
			continue
		}
		b := results.TableKey(results.TableRequests, dates[r.BaselineSweep], hardware[r.PointID], r.BaselineSweep, r.PointID)
		p, err := pValue(ctx, lake, a, b)
		if err != nil {
			return err
		}
		r.PValue, memo[pr] = p, p
	}
	return nil
}

// pValue is the Mann–Whitney p-value of two requests files' TPOT; nil
// when b is missing or either side has too few samples.
func pValue(ctx context.Context, lake Lake, a, b string) (*float64, error) {
	sb, err := lake.RequestTPOT(ctx, b)
	if errors.Is(err, results.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sa, err := lake.RequestTPOT(ctx, a)
	if err != nil {
		return nil, err
	}
	if _, p, ok := MannWhitney(sa, sb); ok {
		return &p, nil
	}
	return nil, nil
}
