package calibrate

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/simengine"
)

// A fit tries values on copies of the calibration: setting a parameter
// never changes the file it was copied from, and reads back what was set.
func TestParamsSetCopiesAndReadBack(t *testing.T) {
	mbu := func(c *simengine.CalibrationEntry) *float64 { return &c.MBU }
	all := func(int) bool { return true }
	tests := []struct {
		name  string
		param Param
		table func(simengine.CalibrationFile) map[string]simengine.CalibrationEntry
		key   string
	}{
		{"hardware", hwParam("h100", "mbu", 0.3, 0.95, all, mbu), func(f simengine.CalibrationFile) map[string]simengine.CalibrationEntry { return f.Hardware }, "h100"},
		{"framework", fwParam("vllm", "mbu", 0.3, 0.95, all, mbu), func(f simengine.CalibrationFile) map[string]simengine.CalibrationEntry { return f.Frameworks }, "vllm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var start simengine.CalibrationFile
			tried := start
			tt.param.set(&tried, 0.7)
			require.Equal(t, 0.7, tt.param.get(tried))
			require.Equal(t, 0.7, tt.table(tried)[tt.key].MBU)
			require.Empty(t, tt.table(start), "the file the fit started from is untouched")

			again := tried
			tt.param.set(&again, 0.4)
			require.Equal(t, 0.4, tt.param.get(again))
			require.Equal(t, 0.7, tt.param.get(tried), "an earlier candidate keeps its value")
		})
	}
}
