package workers_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/infersweep/infersweep/devstack/devstacktest"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workers"
)

// TestStartPoolsPollsEveryQueue runs a two-pool fleet in this process and
// checks each queue a sweep needs has a poller: the control queue, each
// pool's queue and each node's own.
func TestStartPoolsPollsEveryQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack := devstacktest.Start(ctx, t)
	c := devstacktest.Dial(ctx, t, stack)
	lake, err := stack.Lake(ctx)
	require.NoError(t, err)
	setup := workers.Setup{Lake: lake, Logger: slog.New(slog.DiscardHandler)}

	control, err := workers.StartControl(c, setup)
	require.NoError(t, err)
	defer control.Stop()
	runners := sweep.Runners{Labels: map[string][]string{"sim-h100": {"a", "b"}, "sim-mi355x": {"c"}}}
	pools, nodes, err := workers.StartPools(c, setup, runners)
	require.NoError(t, err)
	defer pools.Stop()
	require.Equal(t, 3, nodes)
	require.Len(t, pools, 6, "a pool worker and a node worker per node")

	// The names running workers and recorded histories share.
	queues := []string{"infersweep-control", "hw-sim-h100", "hw-sim-mi355x", "hw-sim-h100.a", "hw-sim-h100.b", "hw-sim-mi355x.c"}
	for _, q := range queues {
		require.Eventually(t, func() bool {
			d, err := c.DescribeTaskQueue(ctx, q, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
			return err == nil && len(d.GetPollers()) > 0
		}, time.Minute, 100*time.Millisecond, "a poller on %s", q)
	}
}

func TestMetricsServeAnswersHealthAndMetrics(t *testing.T) {
	m, err := workers.NewMetrics()
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	stop, err := m.Serve(addr, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer stop()

	for path, want := range map[string]string{"/healthz": "ok\n", "/metrics": "go_goroutines"} {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, string(body), want, path)
	}
	_, err = m.Serve(addr, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, addr, "a busy address is named")
}
