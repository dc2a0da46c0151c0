package workers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func TestPayloadGuard(t *testing.T) {
	var logs bytes.Buffer
	g := guardPayloads(converter.GetDefaultDataConverter(), slog.New(slog.NewTextHandler(&logs, nil)))
	tests := []struct {
		name    string
		value   any
		warns   bool
		refused bool
	}{
		{"small", strings.Repeat("x", 1000), false, false},
		{"over the warning size", strings.Repeat("x", 100<<10), true, false},
		{"over Temporal's limit", strings.Repeat("x", 3<<20), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			_, err := g.ToPayloads(tt.value)
			require.Equal(t, tt.warns, strings.Contains(logs.String(), "large Temporal payload"), logs.String())
			if !tt.refused {
				require.NoError(t, err)
				return
			}
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr))
			require.True(t, appErr.NonRetryable())
			require.Equal(t, ErrPayloadTooLarge, appErr.Type())
			require.Contains(t, err.Error(), "a string payload of 3145759 bytes is over Temporal's 2097152-byte limit")
		})
	}
}

// TestAnOversizedActivityResultFailsAtOnce: the hang of a pool whose
// points did not fit one result becomes one failed attempt that says why.
func TestAnOversizedActivityResultFailsAtOnce(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetDataConverter(guardPayloads(converter.GetDefaultDataConverter(), slog.New(slog.DiscardHandler)))
	attempts := 0
	huge := func(context.Context) (string, error) { attempts++; return strings.Repeat("p", 3<<20), nil }
	env.RegisterActivityWithOptions(huge, activity.RegisterOptions{Name: "Huge"})
	env.ExecuteWorkflow(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 10}})
		return workflow.ExecuteActivity(ctx, "Huge").Get(ctx, nil)
	})
	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), "payload of 3145759 bytes is over Temporal's 2097152-byte limit")
	require.Equal(t, 1, attempts, "not retried")
}
