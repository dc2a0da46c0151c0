// Package devfleet runs infersweep on one machine: the dev stack, a
// control worker and one simulated worker per node of a runners file, the
// example schedules (paused unless armed) and the demo's sweep, with the
// built-in examples wherever no file is given. It is what `infersweep dev`
// and `infersweep demo` start; the commands parse flags and print.
package devfleet

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/examples"
	"github.com/infersweep/infersweep/schedules"
	"github.com/infersweep/infersweep/sweep"
	"github.com/infersweep/infersweep/workers"
)

// Options say what to run. Empty file names are the built-in examples.
type Options struct {
	Stack devstack.Options
	// Setup is what the workers share (logger, build version); the lake
	// is the stack's.
	Setup              workers.Setup
	Runners, Schedules string
	// NoWorkers runs the stack alone: no workers, no schedules.
	NoWorkers bool
	// ArmSchedules unpauses the schedules it applies.
	ArmSchedules bool
	// Demo plans the demo's sweep (Specs, with Settings and Filters)
	// before anything starts, and skips the schedules.
	Demo     bool
	Specs    []string
	Settings string
	Filters  sweep.Filters
	// Simulate takes Runners as a real fleet: each of its labels that
	// the plan uses becomes a pool of simulated nodes of its hardware,
	// sized to the plan's widest deployment.
	Simulate bool
}

// InputError is a file the user gave (or the built-in one it replaced)
// that cannot be used; nothing was started.
type InputError struct{ Err error }

func (e InputError) Error() string { return e.Err.Error() }
func (e InputError) Unwrap() error { return e.Err }

// Fleet is a running stack with its workers and schedules.
type Fleet struct {
	Stack *devstack.Stack
	// Workers is nil when none run (NoWorkers, or no runners file).
	Workers *devstack.Workers
	// StackStartup is how long the stack took to come up.
	StackStartup time.Duration
	// Examples is where the built-in examples were written; Runners,
	// Schedules, Specs and Settings are the files used.
	Examples                     string
	Runners, Schedules, Settings string
	Specs                        []string
	// RealRunners are the runners per label of the fleet a --simulate
	// demo stands in for.
	RealRunners map[string]int
	Changes     []schedules.Change
	filters     sweep.Filters
	simulate    bool
	plan        *sweep.Plan
	cleanup     func()
}

// Start checks the files first (a wrong one starts nothing), then starts
// the stack, the workers of the runners file (if it exists) and, for dev,
// applies the schedules file (if it exists).
func Start(ctx context.Context, o Options) (*Fleet, error) {
	dir, cleanup, err := examples.Place(o.Stack.StateDir, o.Stack.Ephemeral)
	if err != nil {
		return nil, err
	}
	f := &Fleet{Examples: dir, cleanup: cleanup, Runners: examples.Or(o.Runners, dir, "runners.yaml"), Schedules: examples.Or(o.Schedules, dir, "schedules.yaml"),
		Specs: []string{examples.Or("", dir, "sweep.yaml")}, Settings: examples.Or(o.Settings, dir, "settings.yaml"), filters: o.Filters, simulate: o.Simulate}
	if len(o.Specs) > 0 {
		f.Specs = nil
		for _, spec := range o.Specs {
			f.Specs = append(f.Specs, examples.Or(spec, dir, "sweep.yaml"))
		}
	}
	if o.Demo && len(o.Specs) > 0 && (o.Runners == "" || o.Simulate) {
		real := ""
		if o.Runners != "" {
			real = f.Runners
		}
		shape, err := sizedRunners(f.Specs, real, f.Settings, o.Filters, o.Simulate, dir)
		if err != nil {
			cleanup()
			return nil, InputError{err}
		}
		f.Runners, f.RealRunners = shape.runners, shape.realRunners
	}
	scheds, err := f.check(o)
	if err != nil {
		cleanup()
		return nil, err
	}
	started := time.Now()
	devstack.TuneGC()
	o.Stack.Logger = o.Setup.Logger
	if f.Stack, err = devstack.Start(ctx, o.Stack); err != nil {
		cleanup()
		return nil, err
	}
	f.StackStartup = time.Since(started)
	if err := f.startWorkers(ctx, o, scheds); err != nil {
		f.Stop(ctx)
		return nil, err
	}
	return f, nil
}

// check reads what will run: the demo's plan, or dev's schedules.
func (f *Fleet) check(o Options) ([]schedules.Schedule, error) {
	if o.Demo {
		plan, err := sweep.LoadPlan(sweep.Sources{Masters: f.Specs, Runners: f.Runners, Settings: f.Settings, Launches: launches(f.simulate)}, f.filters)
		if err != nil {
			return nil, InputError{err}
		}
		f.plan = plan
		return nil, nil
	}
	if _, err := os.Stat(f.Schedules); err != nil || o.NoWorkers {
		return nil, nil
	}
	scheds, err := schedules.ReadFile(f.Schedules)
	if err != nil {
		return nil, InputError{err}
	}
	return scheds, nil
}

func (f *Fleet) startWorkers(ctx context.Context, o Options, scheds []schedules.Schedule) error {
	if o.NoWorkers {
		return nil
	}
	if _, err := os.Stat(f.Runners); err != nil && !o.Demo {
		return nil // dev without a runners file: the stack alone
	}
	runners, err := sweep.ReadRunners(f.Runners)
	if err != nil {
		return InputError{err}
	}
	if f.Workers, err = f.Stack.StartWorkers(ctx, runners, o.Setup); err != nil {
		return err
	}
	if len(scheds) == 0 {
		return nil
	}
	f.Changes, err = schedules.ApplyArmed(ctx, f.Workers.Client, f.Workers.Lake, scheds, o.ArmSchedules)
	return err
}

// shutdownTimeout is the promise made to a user pressing Ctrl-C.
const shutdownTimeout = 10 * time.Second

// Stop stops the workers first (they say goodbye to a server that is
// still there), then the stack, within shutdownTimeout, and removes
// temporary examples.
func (f *Fleet) Stop(ctx context.Context) error {
	defer f.cleanup()
	if f.Workers != nil {
		f.Workers.Stop()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := f.Stack.Stop(ctx); err != nil {
		return fmt.Errorf("stop dev stack: %w", err)
	}
	return nil
}
