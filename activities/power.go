package activities

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/infersweep/infersweep/launch"
)

// PowerSampler reads the node's GPU power, watts per GPU.
type PowerSampler interface {
	Sample(ctx context.Context) (float64, error)
}

// NvidiaSMI samples power with nvidia-smi. (AMD nodes report through the
// engine's own power metric for now.)
type NvidiaSMI struct {
	Exec launch.Runner
}

// Sample averages power.draw over the node's GPUs.
func (n NvidiaSMI) Sample(ctx context.Context) (float64, error) {
	out, err := n.Exec.Run(ctx, "nvidia-smi", "--query-gpu=power.draw", "--format=csv,noheader,nounits")
	if err != nil {
		return 0, err
	}
	var sum float64
	var gpus int
	for _, line := range strings.Fields(out) {
		w, err := strconv.ParseFloat(line, 64)
		if err != nil {
			return 0, fmt.Errorf("nvidia-smi power.draw %q: %w", line, err)
		}
		sum += w
		gpus++
	}
	if gpus == 0 {
		return 0, fmt.Errorf("nvidia-smi reported no GPUs")
	}
	return sum / float64(gpus), nil
}

// samplePower reads power once a second until stop is called, and returns
// the mean of the readings (false when none succeeded).
func samplePower(ctx context.Context, s PowerSampler) (stop func() (float64, bool)) {
	var mu sync.Mutex
	var sum float64
	var n int
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			if w, err := s.Sample(ctx); err == nil {
				mu.Lock()
				sum, n = sum+w, n+1
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return func() (float64, bool) {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if n == 0 {
			return 0, false
		}
		return sum / float64(n), true
	}
}
