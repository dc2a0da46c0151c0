package results

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEvalRowsRoundTripWithNulls(t *testing.T) {
	v, se, th, pass := 0.5, 0.05, 0.9, false
	rows := []EvalRow{
		{SweepID: "s", PointID: "p", Task: "gsm8k", LMEvalTask: "gsm8k", Metric: "exact_match", Filter: "strict-match", Status: EvalScored,
			Value: &v, Stderr: &se, N: 100, Threshold: &th, ThresholdSource: "default.gsm8k", Pass: &pass, DatasetSHA256: "abc",
			Start: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{SweepID: "s", PointID: "p", Task: "gpqa", Metric: "exact_match", Status: EvalSkipped, Note: "no dataset configured", Start: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
	}
	data, err := Encode(rows, nil)
	require.NoError(t, err)
	got, err := Decode[EvalRow](bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	require.Equal(t, rows, got)
	require.True(t, got[0].Failed())
	require.False(t, got[1].Failed(), "a skipped task has no score, so it fails nothing")
	require.Nil(t, got[1].Value)
}
