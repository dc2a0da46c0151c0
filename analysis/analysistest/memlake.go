package analysistest

import (
	"context"

	"github.com/infersweep/infersweep/results"
)

// MemLake is a results lake in memory, as the analysis and the API read
// one: committed sweeps with their rows, stored frontiers and per-request
// TPOT samples, and counts of the reads a test may bound.
type MemLake struct {
	Refs          []results.SweepRef
	ManifestByID  map[string]results.Manifest
	RowsByID      map[string][]results.PointRow
	FrontiersByID map[string][]results.FrontierRow // a sweep without is one never analysed
	TPOTByKey     map[string][]float64             // by requests key
	// Reads of manifests, requests and points files: Build keeps them to
	// tonight's manifest and the few points its regressions name.
	ManifestReads, TPOTReads, StatusReads int
}

func NewMemLake() *MemLake {
	return &MemLake{ManifestByID: map[string]results.Manifest{}, RowsByID: map[string][]results.PointRow{},
		FrontiersByID: map[string][]results.FrontierRow{}, TPOTByKey: map[string][]float64{}}
}

// Add commits a synthetic sweep.
func (l *MemLake) Add(sw Sweep) {
	for key, samples := range sw.TPOT {
		l.TPOTByKey[key] = samples
	}
	m := sw.Manifest
	l.Refs = append(l.Refs, results.SweepRef{SweepID: m.SweepID, Date: m.Date, Committed: true})
	l.ManifestByID[m.SweepID], l.RowsByID[m.SweepID] = m, sw.Rows
}

// AddNight commits the night's sweep.
func (l *MemLake) AddNight(n Night) { l.Add(n.Sweep()) }

func (l *MemLake) Sweeps(_ context.Context, from, to string, _ bool) ([]results.SweepRef, error) {
	var out []results.SweepRef
	for _, r := range l.Refs {
		if (from == "" || r.Date >= from) && (to == "" || r.Date <= to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (l *MemLake) ManifestOf(_ context.Context, ref results.SweepRef) (results.Manifest, error) {
	l.ManifestReads++
	return l.ManifestByID[ref.SweepID], nil
}

func (l *MemLake) Points(_ context.Context, m results.Manifest) ([]results.PointRow, error) {
	return l.RowsByID[m.SweepID], nil
}

func (l *MemLake) Frontiers(_ context.Context, ref results.SweepRef) ([]results.FrontierRow, error) {
	rows, ok := l.FrontiersByID[ref.SweepID]
	if !ok {
		return nil, results.ErrNotFound
	}
	return rows, nil
}

func (l *MemLake) RequestTPOT(_ context.Context, key string) ([]float64, error) {
	l.TPOTReads++
	samples, ok := l.TPOTByKey[key]
	if !ok {
		return nil, results.ErrNotFound
	}
	return samples, nil
}

func (l *MemLake) PointOutcome(_ context.Context, _, hardware, sweepID, pointID string) (string, string, error) {
	l.StatusReads++
	for _, r := range l.RowsByID[sweepID] {
		if r.PointID == pointID && r.Runner == hardware {
			return r.Status, r.LaunchFingerprint, nil
		}
	}
	return "", "", results.ErrNotFound
}

// Evals: synthetic sweeps are graded on nothing.
func (l *MemLake) Evals(context.Context, results.Manifest) ([]results.EvalRow, error) {
	return nil, nil
}

// Regressions: none stored; a reader builds them.
func (l *MemLake) Regressions(context.Context, results.SweepRef) ([]results.RegressionRow, error) {
	return nil, results.ErrNotFound
}
