package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/devstack"
	"github.com/infersweep/infersweep/examples"
	"github.com/infersweep/infersweep/schedules"
	"github.com/infersweep/infersweep/sweep"
)

// devShutdownTimeout is the promise made to a user pressing Ctrl-C.
const devShutdownTimeout = 10 * time.Second

type devFlags struct {
	opts            devstack.Options
	runners         string
	noWorkers       bool
	schedules       string
	scheduleEnabled bool
	examples        string // where the built-in examples were written
}

func newDevCommand(g *globalFlags) *cobra.Command {
	f := &devFlags{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run Temporal, its Web UI and an S3 store on this machine",
		Long: `dev starts, in this one process, everything infersweep needs:

  - a Temporal server (frontend on --port) persisted in SQLite under --state-dir,
    namespace "default", with infersweep's search attributes registered
    (SweepId, SweepDate, Hardware, Framework, Model, Precision);
  - the Temporal Web UI on --ui-port;
  - an S3-compatible store on --s3-port persisted under --state-dir, with the
    lake's bucket created. It does not check request signatures: keep it on
    loopback.

A restarted dev on the same --state-dir shows every earlier workflow and
object. It prints the export lines a worker in another terminal needs, and
stops cleanly on Ctrl-C or SIGTERM.`,
		Example: `  # start with state in ./.infersweep
  infersweep dev

  # throwaway stack on other ports, addresses as JSON
  infersweep dev --ephemeral --port 17233 --ui-port 18233 --s3-port 19000 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.opts.StateDir, "state-dir", ".infersweep", "directory for the Temporal database and the S3 store")
	fl.BoolVar(&f.opts.Ephemeral, "ephemeral", false, "keep everything in memory; nothing survives exit")
	fl.StringVar(&f.opts.IP, "ip", "127.0.0.1", "address to listen on")
	fl.IntVar(&f.opts.TemporalPort, "port", 7233, "Temporal frontend gRPC port")
	fl.IntVar(&f.opts.UIPort, "ui-port", 8233, "Temporal Web UI port")
	fl.IntVar(&f.opts.S3Port, "s3-port", 9000, "S3 store port")
	fl.StringVar(&f.opts.Namespace, "namespace", "default", "Temporal namespace to create")
	fl.StringVar(&f.opts.Bucket, "bucket", "infersweep", "S3 bucket to create")
	fl.StringVar(&f.runners, "runners", "", "run a control worker and one simulated node per entry of this runners file (default: examples/runners.yaml, built in)")
	fl.BoolVar(&f.noWorkers, "no-workers", false, "run the stack only, no workers")
	fl.StringVar(&f.schedules, "schedules", "", "apply these schedules, created paused (default: examples/schedules.yaml, built in)")
	fl.BoolVar(&f.scheduleEnabled, "schedule-enabled", false, "arm the schedules: unpause them")
	return cmd
}

// startStack starts the dev stack; a busy port is the user's to free,
// and hint says who may hold it.
func startStack(ctx context.Context, opts devstack.Options, hint string) (*devstack.Stack, error) {
	devstack.TuneGC()
	stack, err := devstack.Start(ctx, opts)
	var busy *devstack.PortInUseError
	if errors.As(err, &busy) {
		return nil, usageError{fmt.Errorf("%w\n  %s: stop it, or pass %s with a free port", err, hint, portFlags[busy.Service])}
	}
	return stack, err
}

// portFlags tells the user which flag moves a busy port.
var portFlags = map[devstack.Service]string{
	devstack.ServiceTemporal: "--port",
	devstack.ServiceUI:       "--ui-port",
	devstack.ServiceS3:       "--s3-port",
}

func runDev(ctx context.Context, out, logOut io.Writer, g *globalFlags, f *devFlags) error {
	asJSON, err := g.jsonOutput()
	if err != nil {
		return err
	}
	logger, err := g.logger(logOut)
	if err != nil {
		return err
	}
	f.opts.Logger = logger
	dir, cleanup, err := examples.Place(f.opts.StateDir, f.opts.Ephemeral)
	if err != nil {
		return err
	}
	defer cleanup()
	f.runners, f.schedules = examples.Or(f.runners, dir, "runners.yaml"), examples.Or(f.schedules, dir, "schedules.yaml")
	f.examples = dir

	// A bad schedules file is refused before anything starts.
	var scheds []schedules.Schedule
	if _, err := os.Stat(f.schedules); err == nil && !f.noWorkers {
		if scheds, err = schedules.ReadFile(f.schedules); err != nil {
			return usageError{err}
		}
	}
	started := time.Now()
	stack, err := startStack(ctx, f.opts, "another process holds the port")
	if err != nil {
		return err
	}
	if err := printDevStack(out, stack, asJSON, time.Since(started)); err != nil {
		_ = stack.Stop(context.WithoutCancel(ctx))
		return err
	}
	stopWorkers := func() {}
	if !f.noWorkers {
		if stopWorkers, err = startDevWorkers(ctx, out, stack, f.runners, f.examples, logger, asJSON); err != nil {
			_ = stack.Stop(context.WithoutCancel(ctx))
			return err
		}
		if err := applyDevSchedules(ctx, out, stack, scheds, f, asJSON); err != nil {
			stopWorkers()
			_ = stack.Stop(context.WithoutCancel(ctx))
			return err
		}
	}

	<-ctx.Done()
	fmt.Fprintln(out, "stopping…")
	// Workers first: they say goodbye to a server that is still there.
	stopWorkers()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), devShutdownTimeout)
	defer cancel()
	if err := stack.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop dev stack: %w", err)
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

func printDevStack(out io.Writer, stack *devstack.Stack, asJSON bool, startup time.Duration) error {
	if asJSON {
		return writeJSON(out, map[string]any{
			"temporal_address": stack.Temporal.Address,
			"namespace":        stack.Temporal.Namespace,
			"ui_url":           stack.UIURL,
			"s3_endpoint":      stack.S3.Endpoint,
			"bucket":           stack.S3.Bucket,
			"state_dir":        stack.StateDir,
			"env":              stack.Env(),
			"startup_seconds":  startup.Seconds(),
		})
	}
	state := stack.StateDir
	if state == "" {
		state = "(in memory: --ephemeral)"
	}
	fmt.Fprintf(out, `infersweep dev stack is up (started in %.1fs)

  Temporal   %s   namespace %s
  Web UI     %s
  S3         %s   bucket %s
  State      %s

To use it from another terminal:

`, startup.Seconds(), stack.Temporal.Address, stack.Temporal.Namespace, stack.UIURL, stack.S3.Endpoint, stack.S3.Bucket, state)
	for _, kv := range stack.Env() {
		fmt.Fprintf(out, "  export %s\n", kv)
	}
	_, err := fmt.Fprintln(out, "\nPress Ctrl-C to stop.")
	return err
}

// startDevFleet runs the control worker and every node of a runners file
// in this process.
func startDevFleet(ctx context.Context, stack *devstack.Stack, runnersFile string, logger *slog.Logger) (*devstack.Workers, error) {
	runners, err := sweep.ReadRunners(runnersFile)
	if err != nil {
		return nil, usageError{err}
	}
	return stack.StartWorkers(ctx, runners, workerSetup(nil, logger))
}

// startDevWorkers runs the fleet inside dev, so `infersweep sweep run`
// works against it.
func startDevWorkers(ctx context.Context, out io.Writer, stack *devstack.Stack, runnersFile, examplesDir string, logger *slog.Logger, quiet bool) (func(), error) {
	if _, err := os.Stat(runnersFile); err != nil {
		if !quiet {
			fmt.Fprintf(out, "no workers: %s not found (pass --runners)\n", runnersFile)
		}
		return func() {}, nil
	}
	fleet, err := startDevFleet(ctx, stack, runnersFile, logger)
	if err != nil {
		return nil, err
	}
	if !quiet {
		fmt.Fprintf(out, "Workers: control + %d simulated nodes from %s. Try:\n  infersweep sweep run -f %s --runners %s --settings %s --time-scale 10 --wait\n",
			fleet.Nodes, runnersFile, filepath.Join(examplesDir, "sweep.yaml"), runnersFile, filepath.Join(examplesDir, "settings.yaml"))
	}
	return fleet.Stop, nil
}

// applyDevSchedules applies the example schedules, paused unless enabled:
// the nightly exists in the UI without sweeping a laptop by surprise.
func applyDevSchedules(ctx context.Context, out io.Writer, stack *devstack.Stack, scheds []schedules.Schedule, f *devFlags, quiet bool) error {
	if len(scheds) == 0 {
		return nil
	}
	c, err := stack.Dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	lake, err := stack.Lake(ctx)
	if err != nil {
		return err
	}
	changes, err := schedules.ApplyArmed(ctx, c, lake, scheds, f.scheduleEnabled)
	if err != nil || quiet {
		return err
	}
	state := "paused (--schedule-enabled arms it)"
	if f.scheduleEnabled {
		state = "armed"
	}
	for _, ch := range changes {
		fmt.Fprintf(out, "Schedule %s from %s: %s, %s\n", ch.ID, f.schedules, ch.Action, state)
	}
	return nil
}
