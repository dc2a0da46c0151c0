package loadgen

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSummarizeMatchesNumpy(t *testing.T) {
	// Expected values computed with numpy 1.26: np.mean, np.median,
	// np.std (ddof=0), np.percentile(x, [90, 99, 99.9]).
	tests := []struct {
		name   string
		values []float64
		want   Distribution
	}{
		{
			name:   "one to ten",
			values: []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1},
			want:   Distribution{Count: 10, Mean: 5.5, Median: 5.5, Std: 2.8722813232690143, P90: 9.1, P99: 9.91, P999: 9.991},
		},
		{
			name:   "skewed",
			values: []float64{1, 1, 1, 1, 100},
			want:   Distribution{Count: 5, Mean: 20.8, Median: 1, Std: 39.6, P90: 60.4, P99: 96.04, P999: 99.604},
		},
		{
			name:   "single",
			values: []float64{42},
			want:   Distribution{Count: 1, Mean: 42, Median: 42, Std: 0, P90: 42, P99: 42, P999: 42},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(tt.values, 1)
			require.Equal(t, tt.want.Count, got.Count)
			for _, pair := range [][2]float64{{tt.want.Mean, got.Mean}, {tt.want.Median, got.Median}, {tt.want.Std, got.Std}, {tt.want.P90, got.P90}, {tt.want.P99, got.P99}, {tt.want.P999, got.P999}} {
				require.InDelta(t, pair[0], pair[1], 1e-9)
			}
		})
	}
}

func TestSummarizeUnitsAndEmpty(t *testing.T) {
	// Microsecond ITLs reported in milliseconds.
	got := summarize([]uint32{1500, 500, 1000}, 1e-3)
	require.InDelta(t, 1.0, got.Median, 1e-12)
	require.InDelta(t, 1.0, got.Mean, 1e-12)

	empty := summarize([]int64(nil), 1)
	require.Zero(t, empty.Count)
	require.True(t, math.IsNaN(empty.P99), "an unmeasured percentile must not read as 0")
}
