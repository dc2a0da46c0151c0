package loadgen

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSLO(t *testing.T) {
	tests := []struct {
		spec    string
		want    SLO
		wantErr string
	}{
		{"", SLO{}, ""},
		{"ttft:500 tpot:50", SLO{TTFTms: 500, TPOTms: 50}, ""},
		{"ttft:500,e2el:20000", SLO{TTFTms: 500, E2ELms: 20000}, ""},
		{"latency:5", SLO{}, `metric "latency" is not ttft, tpot or e2el`},
		{"ttft:-1", SLO{}, "want name:milliseconds pairs"},
	}
	for _, tt := range tests {
		got, err := ParseSLO(tt.spec)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, tt.spec)
			continue
		}
		require.NoError(t, err, tt.spec)
		require.Equal(t, tt.want, got, tt.spec)
	}
}

func TestWriteTextNamesWhatWasNotMeasured(t *testing.T) {
	s := Summary{Completed: 9, Failed: 1, MedianTTFTms: 12.5, RequestGoodput: Metric(math.NaN()), Unmeasured: []string{"median_itl_ms"}}
	var out strings.Builder
	s.WriteText(&out)
	text := out.String()
	require.Contains(t, text, "Successful requests:                     9\n")
	require.NotContains(t, text, "Request goodput", "goodput only with SLOs")
	require.Contains(t, text, "Not measured (left out of the JSON):     median_itl_ms\n")
}

// TestParseRequestRateAndMetadata: benchmark_serving's flag values.
func TestParseRequestRateAndMetadata(t *testing.T) {
	rates := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{"inf", math.Inf(1), ""},
		{"20", 20, ""},
		{"0.5", 0.5, ""},
		{"0", 0, `"0": want a positive number or inf`},
		{"fast", 0, `"fast": want a positive number or inf`},
	}
	for _, tt := range rates {
		got, err := ParseRequestRate(tt.in)
		requireParsed(t, tt.want, tt.wantErr, got, err)
	}
	metadata := []struct {
		in      []string
		want    map[string]string
		wantErr string
	}{
		{nil, nil, ""},
		{[]string{" model = llama ", "args=--a=1"}, map[string]string{"model": "llama", "args": "--a=1"}, ""},
		{[]string{"novalue"}, nil, `"novalue": want KEY=VALUE`},
	}
	for _, tt := range metadata {
		got, err := ParseMetadata(tt.in)
		requireParsed(t, tt.want, tt.wantErr, got, err)
	}
}

// requireParsed checks a parse: the value, or the error it should be.
func requireParsed[T any](t *testing.T, want T, wantErr string, got T, err error) {
	t.Helper()
	if wantErr != "" {
		require.EqualError(t, err, wantErr)
		return
	}
	require.NoError(t, err)
	require.Equal(t, want, got)
}
