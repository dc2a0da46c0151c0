package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/schedules"
)

func newScheduleCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Nightly sweeps as Temporal Schedules, managed from schedules.yaml",
		Long: `schedule keeps Temporal Schedules in step with a schedules.yaml: each starts a
SweepWorkflow on its times, with its spec files uploaded to the lake by content
(v1/specs/<sha256>.yaml). A scheduled sweep is named <schedule>-YYYYMMDD-HHMM
after its nominal time and dated in the schedule's time zone, so backfilled
nights land under their own date. The schedules show in the Temporal UI and CLI
too ('temporal schedule list').`,
		Example: `  infersweep schedule apply -f examples/schedules.yaml --dry-run
  infersweep schedule backfill nightly --from 2026-11-20 --to 2026-11-22`,
	}
	cmd.AddCommand(newScheduleApplyCommand(g), newScheduleLsCommand(g), newScheduleDescribeCommand(g), newSchedulePauseCommand(g),
		newScheduleUnpauseCommand(g), newScheduleTriggerCommand(g), newScheduleBackfillCommand(g), newScheduleDeleteCommand(g))
	return cmd
}

func newScheduleApplyCommand(g *globalFlags) *cobra.Command {
	var file string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply -f schedules.yaml",
		Short: "Create or update the schedules a file describes; unchanged ones are left alone",
		Long: `apply validates the whole file first (every schedule's specs must plan;
nothing is created if one is wrong), then for each schedule: uploads its files to
the lake by content, creates it if missing, updates it when its definition
changed (printing what changed), and leaves it alone otherwise. Paused state is
never touched: use pause and unpause. --dry-run says what would change and
writes nothing.`,
		Example: `  infersweep schedule apply -f examples/schedules.yaml --dry-run
  infersweep schedule apply -f examples/schedules.yaml -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			scheds, err := schedules.ReadFile(file)
			if err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			c, lake, err := dialWithLake(ctx, g, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer c.Close()
			changes, err := schedules.Apply(ctx, c, lake, scheds, dryRun)
			if asJSON {
				if jsonErr := writeJSON(cmd.OutOrStdout(), changes); jsonErr != nil {
					return jsonErr
				}
				return err
			}
			tw := newTable(cmd.OutOrStdout())
			for _, ch := range changes {
				fmt.Fprintf(tw, "%s\t%s\n", ch.ID, ch.Action)
				for _, d := range ch.Diff {
					fmt.Fprintf(tw, "\t%s\n", d)
				}
			}
			return errors.Join(tw.Flush(), err)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "schedules.yaml")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would change; write nothing")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func newScheduleLsCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Short:   "List schedules with their next and last runs",
		Example: "  infersweep schedule ls\n  infersweep schedule ls -o json",
		Args:    noArgs,
		RunE: withTemporal(g, func(cmd *cobra.Command, _ []string, c client.Client, asJSON bool) error {
			rows, err := schedules.List(cmd.Context(), c)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rows)
			}
			out := cmd.OutOrStdout()
			tw := newTable(out)
			fmt.Fprintln(tw, "ID\tSTATE\tNEXT\tSPEC")
			for _, r := range rows {
				state, next := "active", "-"
				if r.Paused {
					state = "paused"
				}
				if len(r.Next) > 0 {
					next = r.Next[0].Local().Format("2006-01-02 15:04 MST")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, state, next, strings.Join(r.Spec, "; "))
			}
			return tw.Flush()
		}),
	}
}

func newScheduleDescribeCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "describe ID",
		Short:   "Show one schedule: state, times, policies, recent sweeps",
		Example: "  infersweep schedule describe nightly -o json",
		Args:    cobra.ExactArgs(1),
		RunE: withTemporal(g, func(cmd *cobra.Command, args []string, c client.Client, asJSON bool) error {
			row, err := schedules.Describe(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), row)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "schedule %s: paused=%t, %d sweeps started, overlap %s, time zone %s\n  times: %s\n", row.ID, row.Paused, row.ActionsRun, row.Overlap, row.TimeZone, strings.Join(row.Spec, "; "))
			if row.Note != "" {
				fmt.Fprintf(out, "  note: %s\n", row.Note)
			}
			for _, t := range row.Next {
				fmt.Fprintf(out, "  next: %s\n", t.Local().Format(time.RFC3339))
			}
			for _, w := range row.Workflows {
				fmt.Fprintf(out, "  recent: %s\n", w)
			}
			return nil
		}),
	}
}

// scheduleAction is a one-argument schedule command on its handle.
func scheduleAction(g *globalFlags, use, short, example string, do func(cmd *cobra.Command, h client.ScheduleHandle) (string, error)) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: withTemporal(g, func(cmd *cobra.Command, args []string, c client.Client, _ bool) error {
			ctx := cmd.Context()
			done, err := do(cmd, c.ScheduleClient().GetHandle(ctx, args[0]))
			if err != nil {
				return fmt.Errorf("schedule %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schedule %s %s\n", args[0], done)
			return nil
		}),
	}
}

func newSchedulePauseCommand(g *globalFlags) *cobra.Command {
	var note string
	cmd := scheduleAction(g, "pause ID", "Stop starting sweeps; a running one goes on", `  infersweep schedule pause nightly --note "H100 pool in maintenance"`,
		func(cmd *cobra.Command, h client.ScheduleHandle) (string, error) {
			return "paused", h.Pause(cmd.Context(), client.SchedulePauseOptions{Note: note})
		})
	cmd.Flags().StringVar(&note, "note", "paused with infersweep", "why, shown in the UI and describe")
	return cmd
}

func newScheduleUnpauseCommand(g *globalFlags) *cobra.Command {
	var note string
	cmd := scheduleAction(g, "unpause ID", "Start sweeps on schedule again", "  infersweep schedule unpause nightly",
		func(cmd *cobra.Command, h client.ScheduleHandle) (string, error) {
			return "unpaused", h.Unpause(cmd.Context(), client.ScheduleUnpauseOptions{Note: note})
		})
	cmd.Flags().StringVar(&note, "note", "unpaused with infersweep", "why")
	return cmd
}

func newScheduleTriggerCommand(g *globalFlags) *cobra.Command {
	return scheduleAction(g, "trigger ID", "Start the schedule's sweep now (its overlap policy applies)", "  infersweep schedule trigger nightly",
		func(cmd *cobra.Command, h client.ScheduleHandle) (string, error) {
			return "triggered", h.Trigger(cmd.Context(), client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED})
		})
}

func newScheduleBackfillCommand(g *globalFlags) *cobra.Command {
	var from, to string
	cmd := scheduleAction(g, "backfill ID --from DATE --to DATE", "Run the nights a schedule missed, each under its own date",
		"  infersweep schedule backfill nightly --from 2026-11-20 --to 2026-11-23",
		func(cmd *cobra.Command, h client.ScheduleHandle) (string, error) {
			start, end, err := schedules.BackfillRange(from, to)
			if err != nil {
				return "", usageError{fmt.Errorf("backfill: %w", err)}
			}
			err = schedules.Backfill(cmd.Context(), h, start, end)
			return fmt.Sprintf("backfilling %s … %s", start.Format(time.RFC3339), end.Format(time.RFC3339)), err
		})
	cmd.Flags().StringVar(&from, "from", "", "first day (YYYY-MM-DD) or time (RFC 3339)")
	cmd.Flags().StringVar(&to, "to", "", "last day, inclusive, or time")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func newScheduleDeleteCommand(g *globalFlags) *cobra.Command {
	return scheduleAction(g, "delete ID", "Delete a schedule; sweeps it started and their results stay", "  infersweep schedule delete nightly",
		func(cmd *cobra.Command, h client.ScheduleHandle) (string, error) {
			return "deleted", h.Delete(cmd.Context())
		})
}
