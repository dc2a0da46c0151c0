// Package analysistest makes synthetic sweeps for tests of the analysis
// and of what serves it: known curves, a planted failure and a chosen
// slowdown, so tests can assert frontiers and verdicts by value.
package analysistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/infersweep/infersweep/results"
)

// Night shapes one synthetic sweep: every series' throughput scaled by
// Factor (per "runner/framework", "" for all), one failed point, and Entry
// in every row (hostile names test escaping).
type Night struct {
	ID, Date string
	At       time.Time
	Factor   map[string]float64
	Entry    string
}

// Sweep is a night as the lake holds it: its manifest, its point rows and
// each point's per-request TPOT samples by requests key.
type Sweep struct {
	Manifest results.Manifest
	Rows     []results.PointRow
	TPOT     map[string][]float64
	// PartSize > 0 writes the points in manifest parts of that many, as
	// paged pools do, and lists their points files in the manifest.
	PartSize int
}

// Series are the (runner, framework) curves of every synthetic night.
var Series = []struct{ Runner, Framework string }{{"h100", "vllm"}, {"h100", "sglang"}, {"mi355x", "vllm"}}

// Sweep builds the night: two groups, three series, seven concurrencies
// each, on a throughput–interactivity curve. Its point in the second
// group, third series, sixth concurrency failed.
func (n Night) Sweep() Sweep {
	m := results.Manifest{SweepID: n.ID, Date: n.Date, Status: "partial", WrittenAt: n.At, Counts: map[string]int{}}
	out := Sweep{TPOT: map[string][]float64{}}
	for gi, model := range []string{"llama-70b", "dsr1"} {
		for si, s := range Series {
			factor := n.factor(s.Runner + "/" + s.Framework)
			// conc 24 is dominated: slower per user than conc 16 and no faster per GPU.
			for ci, conc := range []int32{4, 8, 16, 32, 64, 128, 24} {
				status := "succeeded"
				if gi == 1 && si == 2 && ci == 5 {
					status = "failed"
				}
				row := n.row(model, s.Runner, s.Framework, si, ci, conc, factor, status)
				out.Rows = append(out.Rows, row)
				keys := map[string]string{}
				for _, table := range []string{results.TablePoints, results.TableRequests} {
					keys[table] = results.TableKey(table, n.Date, s.Runner, n.ID, row.PointID)
				}
				m.Points = append(m.Points, results.ManifestPoint{PointID: row.PointID, Hardware: s.Runner, Status: status, Keys: keys})
				m.Counts[status]++
				r := rand.New(rand.NewPCG(uint64(len(n.ID)), uint64(ci)))
				samples := make([]float64, 200)
				tpot := 8 + float64(conc)*0.6 + float64(si)
				for i := range samples {
					samples[i] = tpot / factor * (1 + 0.02*r.NormFloat64())
				}
				out.TPOT[keys[results.TableRequests]] = samples
			}
		}
	}
	out.Manifest = m
	return out
}

func (n Night) factor(series string) float64 {
	if f := n.Factor[series]; f != 0 {
		return f
	}
	if f := n.Factor[""]; f != 0 {
		return f
	}
	return 1
}

func (n Night) row(model, runner, framework string, si, ci int, conc int32, factor float64, status string) results.PointRow {
	tpot := 8 + float64(conc)*0.6 + float64(si)
	inter := 1000 / tpot
	tput := factor * (400 + 60*float64(conc)) * (1 + 0.2*float64(si))
	if conc == 24 {
		tput = factor * (400 + 60*16) * (1 + 0.2*float64(si)) * 0.8
	}
	e2el := tpot * 1024
	row := results.PointRow{SweepID: n.ID, PointID: fmt.Sprintf("%s-%d-%d", model, si, ci), Entry: n.Entry, Model: model, Precision: "fp8",
		Framework: framework, Runner: runner, Node: runner + "_0" + fmt.Sprint(ci%2), TP: 8, EP: 1, ISL: 1024, OSL: 1024, Conc: conc,
		Status: status, Attempts: 1, TimeBasis: "simulated (time scale 10)", InfersweepVersion: "v0.test", EngineVersion: "sim-1",
		Start: n.At.Add(time.Duration(ci) * time.Minute), End: n.At.Add(time.Duration(ci)*time.Minute + 40*time.Second)}
	if status == "succeeded" {
		row.TputPerGPU, row.Interactivity, row.TPOT.Median, row.E2EL.Median = &tput, &inter, &tpot, &e2el
	} else {
		row.ErrorClass, row.Error, row.Attempts = "node", "engine died mid-load: "+n.Entry, 3
	}
	return row
}

// Write commits the sweep to a real lake: one points file and one
// requests file (its TPOT samples) per point, then the manifest. Points
// are written 8 at a time, as a night of thousands would otherwise wait
// out one round trip after another.
func (s Sweep) Write(ctx context.Context, lake *results.Lake) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, p := range s.Manifest.Points {
		g.Go(func() error { return s.writePoint(gctx, lake, s.Rows[i], p) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := s.writeParts(ctx, lake); err != nil {
		return err
	}
	return lake.WriteManifest(ctx, s.Manifest)
}

// writeParts writes the manifest's points in parts of PartSize per
// hardware, in manifest order.
func (s *Sweep) writeParts(ctx context.Context, lake *results.Lake) error {
	if s.PartSize <= 0 {
		return nil
	}
	byHardware := map[string][]results.Outcome{}
	var order []string
	for _, p := range s.Manifest.Points {
		if _, seen := byHardware[p.Hardware]; !seen {
			order = append(order, p.Hardware)
		}
		byHardware[p.Hardware] = append(byHardware[p.Hardware], results.OutcomeOf(p))
	}
	m := &s.Manifest
	for _, hw := range order {
		for part, chunk := range slices.Collect(slices.Chunk(byHardware[hw], s.PartSize)) {
			if err := lake.PutManifestPart(ctx, m.Date, m.SweepID, hw, part, chunk); err != nil {
				return err
			}
			m.PointParts = append(m.PointParts, results.PointPartKey(m.Date, m.SweepID, hw, part))
		}
	}
	return nil
}

func (s Sweep) writePoint(ctx context.Context, lake *results.Lake, row results.PointRow, p results.ManifestPoint) error {
	points, err := results.Encode([]results.PointRow{row}, nil)
	if err != nil {
		return err
	}
	if err := lake.PutOnce(ctx, p.Keys[results.TablePoints], points, "application/vnd.apache.parquet"); err != nil {
		return err
	}
	samples := s.TPOT[p.Keys[results.TableRequests]]
	reqs := make([]results.RequestRow, len(samples))
	for j, v := range samples {
		tpot := float32(v)
		reqs[j] = results.RequestRow{PointID: p.PointID, Index: int32(j), TPOTms: &tpot, OutputTokens: 1024}
	}
	body, err := results.Encode(reqs, nil)
	if err != nil {
		return err
	}
	return lake.PutOnce(ctx, p.Keys[results.TableRequests], body, "application/vnd.apache.parquet")
}
