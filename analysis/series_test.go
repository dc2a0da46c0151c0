package analysis

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/results"
)

// MTP and plain points of one hardware and framework are two curves; a
// plain series keeps the name it always had.
func TestSpeculativeDecodingIsASeriesOfItsOwn(t *testing.T) {
	for _, tt := range []struct{ spec, want string }{{"", "h200/sglang"}, {"none", "h200/sglang"}, {"mtp", "h200/sglang+mtp"}} {
		require.Equal(t, tt.want, SeriesName(results.PointRow{Runner: "h200", Framework: "sglang", SpecDecoding: tt.spec}))
	}
	point := func(id, spec string, tput, inter float64) results.PointRow {
		return results.PointRow{PointID: id, Status: "succeeded", Model: "dsr1", Precision: "fp8", ISL: 8192, OSL: 1024, Runner: "h200",
			Framework: "sglang", SpecDecoding: spec, TputPerGPU: &tput, Interactivity: &inter}
	}
	groups := Analyze([]results.PointRow{point("a", "none", 900, 40), point("b", "none", 500, 80), point("c", "mtp", 700, 90)}, nil, TierHyperscaler, nil)
	require.Len(t, groups, 1)
	var names []string
	for _, s := range groups[0].Series {
		names = append(names, s.Key)
		if s.Key == "h200/sglang+mtp" {
			require.Equal(t, "mtp", s.SpecDecoding)
			require.Equal(t, 1, s.Points)
		}
	}
	require.ElementsMatch(t, []string{"h200/sglang", "h200/sglang+mtp"}, names)
}
