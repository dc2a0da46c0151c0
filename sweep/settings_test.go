package sweep

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMaxFailureRateSetting(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		wantLimit float64
		wantErr   string
	}{
		{"unset is InferenceX's 5%", "workload:\n  seed: 1\n", 0.05, ""},
		{"set", "workload:\n  max-failure-rate: 0.2\n", 0.2, ""},
		{"zero allows no failure", "workload:\n  max-failure-rate: 0\n", 0, ""},
		{"one never fails a point", "workload:\n  max-failure-rate: 1\n", 1, ""},
		{"a percentage is refused", "workload:\n  max-failure-rate: 5\n", 0, "s.yaml: workload.max-failure-rate: 5: want a fraction from 0 (no failure allowed) to 1"},
		{"negative", "workload:\n  max-failure-rate: -0.1\n", 0, "workload.max-failure-rate: -0.1: want a fraction"},
		{"not a number", "workload:\n  max-failure-rate: .nan\n", 0, "workload.max-failure-rate: NaN: want a fraction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := ParseSettings("s.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				require.Len(t, errs, 1)
				require.Contains(t, errs[0].Error(), tt.wantErr)
				return
			}
			require.Empty(t, errs)
			require.Equal(t, tt.wantLimit, s.Workload.FailureRateLimit())
		})
	}
}
