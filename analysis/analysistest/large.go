package analysistest

import (
	"fmt"
	"math/rand/v2"

	"github.com/infersweep/infersweep/results"
)

// largeConcs are the concurrencies of every series of a large night; as
// in Sweep, 24 is dominated by 16.
var largeConcs = []int32{1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128}

// largeSeries is how many (runner, framework) series each group of a
// large night has: 8 runner labels × 2 frameworks.
const largeSeries = 16

// Large builds a night of points points, all succeeded, in the shape a
// production matrix has: as many groups (models) as it takes, each with
// 16 series over 8 runner labels and 12 concurrencies on Sweep's curve,
// and 100 TPOT samples per point. Series and groups are filled in order,
// so the last group may be partial.
func (n Night) Large(points int) Sweep {
	m := results.Manifest{SweepID: n.ID, Date: n.Date, Status: "complete", WrittenAt: n.At, Counts: map[string]int{"succeeded": points}}
	out := Sweep{Rows: make([]results.PointRow, 0, points), TPOT: map[string][]float64{}}
	m.Points = make([]results.ManifestPoint, 0, points)
	for i := range points {
		g, si, ci := i/(largeSeries*len(largeConcs)), i/len(largeConcs)%largeSeries, i%len(largeConcs)
		runner, framework := fmt.Sprint("hw", si/2), []string{"vllm", "sglang"}[si%2]
		factor := n.factor(runner + "/" + framework)
		row := n.row(fmt.Sprintf("model-%03d", g), runner, framework, si, ci, largeConcs[ci], factor, "succeeded")
		out.Rows = append(out.Rows, row)
		keys := map[string]string{}
		for _, table := range []string{results.TablePoints, results.TableRequests} {
			keys[table] = results.TableKey(table, n.Date, runner, n.ID, row.PointID)
		}
		m.Points = append(m.Points, results.ManifestPoint{PointID: row.PointID, Hardware: runner, Status: "succeeded", Keys: keys})
		r := rand.New(rand.NewPCG(uint64(i), uint64(len(n.ID))))
		samples := make([]float64, 100)
		for j := range samples {
			samples[j] = *row.TPOT.Median / factor * (1 + 0.02*r.NormFloat64())
		}
		out.TPOT[keys[results.TableRequests]] = samples
	}
	out.Manifest = m
	// A night this large comes from paged pools, in parts of 250.
	out.PartSize = 250
	return out
}
