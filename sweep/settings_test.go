package sweep

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMaxFailureRateSetting(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		wantLimit float64
		wantErr   string
	}{
		{"unset is InferenceX's 5%", "workload:\n  seed: 1\n", 0.05, ""},
		{"set", "workload:\n  max-failure-rate: 0.2\n", 0.2, ""},
		{"zero allows no failure", "workload:\n  max-failure-rate: 0\n", 0, ""},
		{"one never fails a point", "workload:\n  max-failure-rate: 1\n", 1, ""},
		{"a percentage is refused", "workload:\n  max-failure-rate: 5\n", 0, "s.yaml:2:21: workload.max-failure-rate: 5: want a fraction from 0 (no failure allowed) to 1"},
		{"negative", "workload:\n  max-failure-rate: -0.1\n", 0, "workload.max-failure-rate: -0.1: want a fraction"},
		{"not a number", "workload:\n  max-failure-rate: .nan\n", 0, "workload.max-failure-rate: NaN: want a fraction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := ParseSettings("s.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				require.Len(t, errs, 1)
				require.Contains(t, errs[0].Error(), tt.wantErr)
				return
			}
			require.Empty(t, errs)
			require.Equal(t, tt.wantLimit, s.Workload.FailureRateLimit())
		})
	}
}

// TestSettingsErrorsNameFileLineAndField: every problem of a settings
// file at once, each at file:line:col with the field's path.
func TestSettingsErrorsNameFileLineAndField(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"every workload problem, not only the first",
			"workload:\n  range-mode: sharegpt\n  random-range-ratio: 2\n  prompts-per-conc: 0\n  request-rate: fast\nretry:\n  point-attempts: 0\n",
			[]string{
				`s.yaml:2:15: workload.range-mode: "sharegpt": want inferencemax or vllm`,
				"s.yaml:3:23: workload.random-range-ratio: 2: want 0 to 1",
				"s.yaml:4:21: workload.prompts-per-conc: 0: want at least 1",
				`s.yaml:5:17: workload.request-rate: "fast": want inf or a positive rate`,
				"s.yaml:7:19: retry.point-attempts: 0: want at least 1",
			}},
		{"type errors in every section",
			"workload:\n  seed: -1\n  prompts-per-conc: many\nretry:\n  load-timeout: soon\nhardware:\n  h100: { all-in-kw-per-gpu: [1] }\n",
			[]string{
				`s.yaml:2:9: workload.seed: got "-1", want a whole number of 0 or more`,
				`s.yaml:3:21: workload.prompts-per-conc: got "many", want a whole number`,
				`s.yaml:5:17: retry.load-timeout: got "soon", want a duration like 10m or 6h`,
				"s.yaml:7:30: hardware.h100.all-in-kw-per-gpu: got a list, want a number",
			}},
		{"unknown and repeated keys, nested too",
			"workload:\n  seed: 1\n  seed: 2\npools:\n  h200: { capacity: 3, size: 4 }\nengine: {}\n",
			[]string{
				"s.yaml:3:3: workload.seed: duplicate key (first at line 2)",
				"s.yaml:5:24: pools.h200.size: unknown field (want one of capacity)",
				"s.yaml:6:1: engine: unknown field (want one of workload, goodput, hardware, retry, pools, engines, analysis, evals, agentic, node-hardware)",
			}},
		{"every agentic problem",
			"agentic:\n  trace: \"\"\n  trace-format: aiperf\n  block-size: 0\n  duration-s: -5\n  warmup-per-lane: -1\n  max-idle-gap-s: -2\n  start-fraction: [0.8, 0.2]\n",
			[]string{
				"s.yaml:2:10: agentic.trace: empty: want a path, lake:<key> or synth",
				`s.yaml:3:17: agentic.trace-format: "aiperf": want auto, mooncake or infersweep`,
				"s.yaml:4:15: agentic.block-size: 0: want at least 1 token",
				"s.yaml:5:15: agentic.duration-s: -5: want 0 (the point's) or more",
				"s.yaml:6:20: agentic.warmup-per-lane: -1: want 0 or more",
				"s.yaml:7:19: agentic.max-idle-gap-s: -2: want 0 (as recorded) or more",
				"s.yaml:8:19: agentic.start-fraction: [0.8 0.2]: want [lo, hi] with 0 ≤ lo ≤ hi < 1",
			}},
		{"synthesized sessions need a count", "agentic:\n  synth: { sessions: 0 }\n",
			[]string{"s.yaml:2:22: agentic.synth.sessions: 0: want at least 1"}},
		{"a section of the wrong shape", "engines: [vllm]\nanalysis:\n  targets: 20\n",
			[]string{"s.yaml:1:10: engines: got a list, want a mapping", `s.yaml:3:12: analysis.targets: got "20", want a list`}},
		{"not YAML", "workload:\n  seed: 1\n  x: y: z\n", []string{"s.yaml:3:1: not valid YAML: mapping values are not allowed in this context"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := ParseSettings("s.yaml", []byte(tt.yaml))
			require.EqualError(t, errs.Err(), strings.Join(tt.want, "\n"))
		})
	}
}

// TestSettingsFileOverDefaults: a file names what it changes; a map entry
// it names replaces the default one whole, as yaml.v3 always did.
func TestSettingsFileOverDefaults(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(t *testing.T, s Settings)
	}{
		{"comments only", "# nothing set\n", func(t *testing.T, s Settings) { require.Equal(t, DefaultSettings(), s) }},
		{"null section keeps defaults", "workload:\n", func(t *testing.T, s Settings) { require.Equal(t, DefaultSettings().Workload, s.Workload) }},
		{"one price", "hardware:\n  h200: { neocloud-usd-per-gpu-hour: 2.5 }\n", func(t *testing.T, s Settings) {
			require.InDelta(t, 2.5, s.Hardware["h200"].Neocloud, 0)
			require.Equal(t, DefaultSettings().Hardware["h100"], s.Hardware["h100"])
		}},
		{"durations and engines", "retry:\n  start-timeout: 10m\nengines:\n  vllm: { args: [--enforce-eager], env: { A: b } }\n", func(t *testing.T, s Settings) {
			require.Equal(t, 10*time.Minute, s.Retry.StartTimeout)
			require.Equal(t, 2*time.Hour, s.Retry.LoadTimeout)
			require.Equal(t, EngineSettings{Args: []string{"--enforce-eager"}, Env: map[string]string{"A": "b"}}, s.Engines["vllm"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := ParseSettings("s.yaml", []byte(tt.yaml))
			require.NoError(t, errs.Err())
			tt.check(t, s)
		})
	}
}
