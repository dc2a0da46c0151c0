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
			API: "chat", PromptFormat: "inferencex", MaxTokens: 12288, Start: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
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

// Rows written before the API and prompt format were recorded read
// empty there, not an error: those lakes stay readable.
func TestEvalRowsWithoutAPIStayReadable(t *testing.T) {
	type before struct {
		SweepID   string `parquet:"sweep_id,dict"`
		Task      string `parquet:"task,dict"`
		MaxTokens int32  `parquet:"max_tokens"`
	}
	data, err := Encode([]before{{SweepID: "s", Task: "gsm8k", MaxTokens: 12288}}, nil)
	require.NoError(t, err)
	got, err := Decode[EvalRow](bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "gsm8k", got[0].Task)
	require.EqualValues(t, 12288, got[0].MaxTokens)
	require.Empty(t, got[0].API)
	require.Empty(t, got[0].PromptFormat)
}
