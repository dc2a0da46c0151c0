package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/devfleet"
	"github.com/infersweep/infersweep/devstack"
)

type devFlags struct {
	opts            devstack.Options
	runners         string
	noWorkers       bool
	schedules       string
	scheduleEnabled bool
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
	fleet, err := startFleet(ctx, devfleet.Options{Stack: f.opts, Setup: workerSetup(nil, logger), Runners: f.runners, Schedules: f.schedules,
		NoWorkers: f.noWorkers, ArmSchedules: f.scheduleEnabled}, "another process holds the port")
	if err != nil {
		return err
	}
	if err := printDevStack(out, fleet.Stack, asJSON, fleet.StackStartup); err != nil {
		_ = fleet.Stop(ctx)
		return err
	}
	if !asJSON && !f.noWorkers {
		printDevFleet(out, fleet, f.scheduleEnabled)
	}
	<-ctx.Done()
	fmt.Fprintln(out, "stopping…")
	if err := fleet.Stop(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

// startFleet starts a dev stack and its fleet; a wrong file or a busy
// port is the user's to fix, and hint says who may hold the port.
func startFleet(ctx context.Context, o devfleet.Options, hint string) (*devfleet.Fleet, error) {
	fleet, err := devfleet.Start(ctx, o)
	var busy *devstack.PortInUseError
	var input devfleet.InputError
	switch {
	case errors.As(err, &busy):
		return nil, usageError{fmt.Errorf("%w\n  %s: stop it, or pass %s with a free port", err, hint, portFlags[busy.Service])}
	case errors.As(err, &input):
		return nil, usageError{err}
	}
	return fleet, err
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

// printDevFleet says what runs beside the stack and how to use it.
func printDevFleet(out io.Writer, fleet *devfleet.Fleet, armed bool) {
	if fleet.Workers == nil {
		fmt.Fprintf(out, "no workers: %s not found (pass --runners)\n", fleet.Runners)
		return
	}
	fmt.Fprintf(out, "Workers: control + %d simulated nodes from %s. Try:\n  infersweep sweep run -f %s --runners %s --settings %s --time-scale 10 --wait\n",
		fleet.Workers.Nodes, fleet.Runners, fleet.Specs[0], fleet.Runners, fleet.Settings)
	state := "paused (--schedule-enabled arms it)"
	if armed {
		state = "armed"
	}
	for _, ch := range fleet.Changes {
		fmt.Fprintf(out, "Schedule %s from %s: %s, %s\n", ch.ID, fleet.Schedules, ch.Action, state)
	}
}
