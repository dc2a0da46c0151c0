package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/loadgen"
	"github.com/infersweep/infersweep/sweep"
)

// replayTrace is a trace ready to replay, with what the row records of it.
type replayTrace struct {
	trace  *loadgen.Trace
	digest string // of its bytes, or of the synthesizer's settings
	source string
}

// replayConfig translates an agentic point and the sweep's settings into
// a trace replay: the point's concurrency is its concurrent sessions, its
// duration the measured window (in the engine's time: a time-scaled
// simulated engine's window is shorter on the wall clock).
func (a *Activities) replayConfig(ctx context.Context, in LoadInput) (loadgen.ReplayConfig, replayTrace, error) {
	planned, err := a.planSettings(ctx, in.Date, in.SweepID)
	if err != nil {
		return loadgen.ReplayConfig{}, replayTrace{}, err
	}
	s := planned.Agentic
	if s.Trace == "" { // a plan stored before agentic settings existed
		s = sweep.DefaultAgenticSettings()
	}
	tr, err := a.agenticTrace(ctx, s)
	if err != nil {
		return loadgen.ReplayConfig{}, replayTrace{}, err
	}
	p := in.Point
	w := loadgen.DefaultWorkload()
	w.Model, w.Seed = p.Model, in.Workload.Seed
	scale := max(in.TimeScale, 1)
	seconds := s.Duration(p)
	if seconds <= 0 {
		return loadgen.ReplayConfig{}, replayTrace{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("agentic point %s has no duration: set agentic.duration-s in the settings", p.ID), ErrConfig, nil)
	}
	cfg := loadgen.ReplayConfig{
		BaseURL: in.Engine.BaseURL, Workload: w, Trace: tr.trace, Sessions: p.Conc,
		Duration:      time.Duration(float64(seconds) * float64(time.Second) / scale),
		WarmupPerLane: s.WarmupPerLane, MaxIdleGap: time.Duration(s.MaxIdleGapS * float64(time.Second)),
		StartFraction: [2]float64{s.StartFraction[0], s.StartFraction[1]},
		TimeScale:     in.TimeScale, ScrapeMetrics: true, GPUs: p.GPUs,
		StallTimeout: stallTimeout(in.TimeScale),
		Goodput:      loadgen.SLO{TTFTms: in.Goodput.TTFTms, TPOTms: in.Goodput.TPOTms, E2ELms: in.Goodput.E2ELms},
		OnProgress:   loadProgress(ctx),
	}
	if err := cfg.Validate(); err != nil {
		return loadgen.ReplayConfig{}, replayTrace{}, temporal.NewNonRetryableApplicationError("agentic replay: "+err.Error(), ErrConfig, nil)
	}
	return cfg, tr, nil
}

// agenticTrace reads (or synthesizes) the settings' trace once per worker.
func (a *Activities) agenticTrace(ctx context.Context, s sweep.AgenticSettings) (replayTrace, error) {
	keyBytes, err := json.Marshal([]any{s.Trace, s.TraceFormat, s.BlockSize, s.Synth})
	if err != nil {
		return replayTrace{}, err
	}
	key := string(keyBytes)
	a.evalsCache.mu.Lock()
	tr, ok := a.evalsCache.traces[key]
	a.evalsCache.mu.Unlock()
	if ok {
		return tr, nil
	}
	if tr, err = a.loadTrace(ctx, s, keyBytes); err != nil {
		return replayTrace{}, temporal.NewNonRetryableApplicationError("agentic trace: "+err.Error(), ErrConfig, nil)
	}
	a.evalsCache.mu.Lock()
	defer a.evalsCache.mu.Unlock()
	cachePut(&a.evalsCache.traces, key, tr)
	return tr, nil
}

func (a *Activities) loadTrace(ctx context.Context, s sweep.AgenticSettings, settingsBytes []byte) (replayTrace, error) {
	if s.Trace == sweep.TraceSynth {
		c := loadgen.DefaultSynth()
		c.Sessions, c.Seed = s.Synth.Sessions, s.Synth.Seed
		t, err := loadgen.Synthesize(c)
		if err != nil {
			return replayTrace{}, err
		}
		sum := sha256.Sum256(settingsBytes)
		return replayTrace{trace: t, digest: "synth:" + hex.EncodeToString(sum[:8]), source: fmt.Sprintf("synth (sessions %d, seed %d)", c.Sessions, c.Seed)}, nil
	}
	raw, err := a.specReader(ctx)(s.Trace)
	if err != nil {
		return replayTrace{}, fmt.Errorf("read %s: %w", s.Trace, err)
	}
	t, err := loadgen.ReadTrace(bytes.NewReader(raw), s.Trace, loadgen.TraceFormat(s.TraceFormat), s.BlockSize)
	if err != nil {
		return replayTrace{}, err
	}
	sum := sha256.Sum256(raw)
	return replayTrace{trace: t, digest: hex.EncodeToString(sum[:8]), source: s.Trace}, nil
}
