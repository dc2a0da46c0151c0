package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/loadgen"
)

func newTraceCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Make and describe agentic session traces for loadgen --trace",
		Long: `trace synthesizes coding-agent session traces, seeded, so replays need no
downloaded dataset, and describes a trace (yours or a synthetic one) in the
terms synth takes, so a synthetic trace can be fitted to a recorded one.`,
		Example: `  infersweep trace synth --sessions 50 --out-file agent.jsonl
  infersweep trace stats agent.jsonl -o json`,
		Args: noArgs,
	}
	cmd.AddCommand(newTraceSynthCommand(), newTraceStatsCommand(g))
	return cmd
}

// logNormalFlag is a LogNormal set as MEDIAN:SIGMA.
type logNormalFlag struct{ d *loadgen.LogNormal }

func (f logNormalFlag) String() string { return f.d.String() }
func (f logNormalFlag) Type() string   { return "median:sigma" }
func (f logNormalFlag) Set(s string) error {
	d, err := loadgen.ParseLogNormal(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

func newTraceSynthCommand() *cobra.Command {
	c := loadgen.DefaultSynth()
	var outFile string
	cmd := &cobra.Command{
		Use:   "synth",
		Short: "Write synthetic coding-agent sessions as an infersweep trace (JSONL)",
		Long: `synth draws coding-agent sessions: every session opens with one shared system
prompt, then a task with the files read for it (first input); every later turn
adds a tool result (turn input) after an idle gap, and the conversation so far is
resent each turn. Some turns spawn sub-agents (fan-out), which open with a
sub-agent system prompt of their own, run side by side and hold their parent
until they finish. A session ends at its drawn turn count or before its prompt
would pass --max-context.

Quantities are log-normal, given as MEDIAN:SIGMA (SIGMA the standard deviation
of ln x; MEDIAN alone is a constant): exactly the median and log_sigma that
'infersweep trace stats' reports, so fitting your own trace is copying them.
The defaults are an illustrative coding agent, not fitted to a published trace.
The same flags and --seed write the same bytes.

The trace is written to --out-file, or to stdout.`,
		Example: `  # 50 sessions for a demo
  infersweep trace synth --sessions 50 --out-file agent.jsonl

  # longer sessions, bigger tool results, no sub-agents
  infersweep trace synth --turns 60:0.5 --turn-input 1500:1.2 --subagent-probability 0 > long.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.Validate(); err != nil {
				return usageError{err}
			}
			t, err := loadgen.Synthesize(c)
			if err != nil {
				return err
			}
			return writeTraceTo(cmd.OutOrStdout(), cmd.ErrOrStderr(), outFile, t)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&c.Sessions, "sessions", c.Sessions, "top-level sessions to draw")
	fl.Uint64Var(&c.Seed, "seed", c.Seed, "seed: the same flags and seed give the same trace")
	fl.IntVar(&c.SystemPromptTokens, "system-prompt", c.SystemPromptTokens, "tokens of the system prompt every session shares")
	fl.Var(logNormalFlag{&c.Turns}, "turns", "turns per session")
	fl.Var(logNormalFlag{&c.FirstInputTokens}, "first-input", "tokens of a session's first input after the system prompt")
	fl.Var(logNormalFlag{&c.TurnInputTokens}, "turn-input", "tokens of each later turn's new input (context growth)")
	fl.Var(logNormalFlag{&c.OutputTokens}, "output", "output tokens per turn (max_tokens)")
	fl.Var(logNormalFlag{&c.IdleGapMs}, "idle-gap-ms", "milliseconds between an answer and the next turn")
	fl.IntVar(&c.MaxContextTokens, "max-context", c.MaxContextTokens, "a session ends before its prompt would pass this many tokens")
	fl.Float64Var(&c.SubAgentProbability, "subagent-probability", c.SubAgentProbability, "chance that a turn spawns sub-agents")
	fl.IntVar(&c.MaxFanOut, "max-fan-out", c.MaxFanOut, "sub-agents per spawn, uniform from 1")
	fl.Var(logNormalFlag{&c.SubAgentTurns}, "subagent-turns", "turns per sub-agent")
	fl.IntVar(&c.SubAgentSystemTokens, "subagent-system-prompt", c.SubAgentSystemTokens, "tokens of the system prompt every sub-agent shares")
	fl.StringVar(&outFile, "out-file", "", "write the trace here instead of stdout")
	return cmd
}

func writeTraceTo(stdout, stderr io.Writer, path string, t *loadgen.Trace) error {
	if path == "" {
		return loadgen.WriteTrace(stdout, t)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := loadgen.WriteTrace(f, t); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	requests := 0
	for i := range t.Sessions {
		requests += t.Sessions[i].Requests()
	}
	fmt.Fprintf(stderr, "wrote %d sessions, %d requests to %s\n", len(t.Sessions), requests, path)
	return nil
}

func newTraceStatsCommand(g *globalFlags) *cobra.Command {
	var format string
	var blockSize int
	cmd := &cobra.Command{
		Use:   "stats FILE",
		Short: "Describe a trace's sessions in the distributions synth takes",
		Long: `stats reads a trace (mooncake or infersweep format) and reports, per quantity,
count, mean, p50, p90, max and the fitted log-normal (median, log_sigma) that
'infersweep trace synth' takes as MEDIAN:SIGMA; also the tokens shared across
sessions, sub-agent fan-out, and the prefix-cache hit rate an unbounded cache
would reach replaying the trace once (the client's estimate).

Exit status: 0; 2 when the file cannot be read as a trace (the message names
file:line and field).`,
		Example: `  infersweep trace stats agent.jsonl
  infersweep trace stats mooncake_trace.jsonl --trace-format mooncake -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("%s takes one trace file, got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			t, err := loadgen.ReadTraceFile(args[0], loadgen.TraceFormat(format), blockSize)
			if err != nil {
				return usageError{err}
			}
			st := t.Stats()
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), st)
			}
			return writeTraceStats(cmd.OutOrStdout(), st)
		},
	}
	cmd.Flags().StringVar(&format, "trace-format", string(loadgen.TraceAuto), "auto, mooncake or infersweep")
	cmd.Flags().IntVar(&blockSize, "block-size", loadgen.DefaultBlockSize, "tokens per mooncake hash_id")
	return cmd
}

func writeTraceStats(out io.Writer, st loadgen.TraceStats) error {
	fmt.Fprintf(out, "format %s: %d sessions, %d sub-agent sessions, %d requests\n", st.Format, st.Sessions, st.SubAgentSessions, st.Requests)
	fmt.Fprintf(out, "shared prefix: %d distinct tokens used by more than one session\n", st.SharedPrefixTokens)
	fmt.Fprintf(out, "sub-agents: %.1f%% of turns spawn them\n", 100*st.SpawnShare)
	fmt.Fprintf(out, "estimated prefix-cache hit rate (unbounded cache, one pass): %.1f%%\n\n", 100*st.EstPrefixHitRate)
	tw := newTable(out)
	fmt.Fprintln(tw, "QUANTITY\tSYNTH FLAG\tCOUNT\tMEAN\tP50\tP90\tMAX\tMEDIAN:SIGMA")
	for _, q := range []struct {
		name, flag string
		fit        loadgen.Fit
	}{
		{"turns per session", "--turns", st.TurnsPerSession},
		{"first input (tokens)", "--first-input", st.FirstInputTokens},
		{"turn input (tokens)", "--turn-input", st.TurnInputTokens},
		{"output (tokens)", "--output", st.OutputTokens},
		{"idle gap (ms)", "--idle-gap-ms", st.IdleGapMs},
		{"shared tokens per session", "--system-prompt", st.SharedTokensPerSession},
		{"fan-out (sub-agents)", "--max-fan-out", st.FanOut},
		{"sub-agent turns", "--subagent-turns", st.SubAgentTurns},
		{"prompt (tokens)", "", st.PromptTokens},
		{"final context (tokens)", "--max-context", st.FinalContextTokens},
	} {
		f := q.fit
		num := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
		fit := "-"
		if f.Count > 0 {
			fit = strconv.FormatFloat(f.Median, 'g', 4, 64) + ":" + strconv.FormatFloat(f.LogSigma, 'f', 2, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", q.name, q.flag, f.Count, num(f.Mean), num(f.P50), num(f.P90), num(f.Max), fit)
	}
	return tw.Flush()
}
