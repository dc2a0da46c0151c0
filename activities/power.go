package activities

import (
	"context"
	"encoding/json"
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

// NvidiaSMI samples power with nvidia-smi.
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

// AMDSMI samples power with amd-smi (ROCm 6+): socket power per GPU, as
// MI300-class parts report it.
type AMDSMI struct {
	Exec launch.Runner
}

// Sample averages socket_power over the node's GPUs. amd-smi has printed
// the value as a number, as {"value": N, "unit": "W"|"mW"} and as "N/A"
// across releases, and wraps the list in {"gpu_data": […]} in some; all
// are read, and a GPU without a reading is left out of the mean.
func (a AMDSMI) Sample(ctx context.Context) (float64, error) {
	out, err := a.Exec.Run(ctx, "amd-smi", "metric", "--power", "--json")
	if err != nil {
		return 0, err
	}
	type gpu struct {
		Power struct {
			Socket json.RawMessage `json:"socket_power"`
		} `json:"power"`
	}
	var gpus []gpu
	if err := json.Unmarshal([]byte(out), &gpus); err != nil {
		var wrapped struct {
			GPUData []gpu `json:"gpu_data"`
		}
		if err2 := json.Unmarshal([]byte(out), &wrapped); err2 != nil {
			return 0, fmt.Errorf("amd-smi metric --power --json: %w", err)
		}
		gpus = wrapped.GPUData
	}
	var sum float64
	var n int
	for _, g := range gpus {
		if w, ok := amdWatts(g.Power.Socket); ok {
			sum += w
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("amd-smi reported no socket power for %d GPUs", len(gpus))
	}
	return sum / float64(n), nil
}

func amdWatts(raw json.RawMessage) (float64, bool) {
	var v float64
	if json.Unmarshal(raw, &v) == nil {
		return v, true
	}
	var withUnit struct {
		Value *float64 `json:"value"`
		Unit  string   `json:"unit"`
	}
	if json.Unmarshal(raw, &withUnit) == nil && withUnit.Value != nil {
		switch strings.ToLower(withUnit.Unit) {
		case "mw":
			return *withUnit.Value / 1000, true
		case "w", "":
			return *withUnit.Value, true
		}
	}
	return 0, false
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
