package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/infersweep/infersweep/simengine"
	"github.com/infersweep/infersweep/sweep"
)

// Placeholders a rendered launch keeps for the backend to fill in at
// start: what only the node knows then (the simulated engine's recipe
// uses all; InferenceX's listen on 0.0.0.0 and need the port only).
const (
	PortVar      = "${PORT}"
	HostVar      = "${HOST}"
	BinaryVar    = "${INFERSWEEP}"
	TimeScaleVar = "${TIME_SCALE}"
	SeedVar      = "${SEED}"
)

// data is what templates see of a point; a role of a multinode
// deployment sees its deployment too (roleData).
type data struct {
	Model, ModelPrefix, Precision, Framework, Hardware, Runner, Image, SpecDecoding string
	TP, EP, PP, DCPSize, Conc, ISL, OSL, MaxModelLen, GPUs                          int
	DPAttn                                                                          bool
	Port, Host, Binary, TimeScale, Seed                                             string

	// EvalOnly: the sweep runs only the point's accuracy eval (upstream's
	// EVAL_ONLY=true), and scripts start their server for it on their
	// eval-only branch. EvalMaxModelLen is the context that branch serves,
	// benchmark_lib.sh's setup_eval_context: ISL+OSL+256 capped at the
	// model's native max, which upstream reads from the node's HF config
	// at run time. The cap is left out because it never binds: evals run
	// at 8k1k only (9472 tokens), and every model the snapshot benchmarks
	// is served well above that by upstream itself (--max-model-len 16384
	// in its speedbench scripts for DeepSeek-R1/V4, Qwen3.5, GLM-5,
	// Kimi-K2.5 and MiniMax-M3; 1048576 in its agentic ones for
	// DeepSeek-V4, GLM-5.2 and Kimi-K3), as simengine's catalogue records
	// (131072 and up for each).
	EvalOnly        bool
	EvalMaxModelLen int

	// An agentic point's facts, as upstream's workflow exports them to its
	// script: KV_OFFLOADING (none or dram; empty for fixed-seq-len),
	// KV_OFFLOAD_BACKEND's name and version, TOTAL_CPU_DRAM_GB (the
	// node's offload budget, 0 without offloading) and DURATION.
	Scenario, KVOffloading, KVOffloadBackend, KVOffloadBackendVersion string
	TotalCPUDRAMGB, Duration                                          int

	// A multinode role's facts: its workers and the nodes one spans, both
	// sides of the deployment, its KV transfer, router and the entry's
	// additional-settings (index .Settings "CONFIG_FILE").
	Role                                   string
	Workers, NodesPerWorker, GPUsPerWorker int
	Prefill, Decode                        workerData
	Nodes, PrefillNodes, DecodeNodes       int
	KVTransfer, Router                     string
	Settings                               map[string]string
	NodeRank, NNodes, MasterAddr, Worker   string
	PrefillURLs, DecodeURLs, WorkerURLs    string
	ControlAddr                            string

	// A Dynamo worker's srt-slurm recipe, and its frontend's part, where
	// the recipe renders from one and the plan has the file (SrtSlurm);
	// nil otherwise.
	Srt         *srtRole
	SrtFrontend *srtFrontend
}

func pointData(p sweep.Point) data {
	d := data{Model: p.Model, ModelPrefix: p.ModelPrefix, Precision: p.Precision, Framework: p.Framework, Hardware: hardware(p),
		Runner: or(p.RunnerLabel, p.Runner), Image: p.Image, SpecDecoding: specDecoding(p), TP: p.TP, EP: p.EP, PP: p.PP, DCPSize: p.DCPSize,
		Conc: p.Conc, ISL: p.ISL, OSL: p.OSL, MaxModelLen: p.MaxModelLen, GPUs: p.GPUs, DPAttn: p.DPAttn,
		Port: PortVar, Host: HostVar, Binary: BinaryVar, TimeScale: TimeScaleVar, Seed: SeedVar, Settings: map[string]string{},
		Scenario: scenario(p), KVOffloading: p.KVOffloading, TotalCPUDRAMGB: p.TotalCPUDRAMGB, Duration: p.DurationSeconds,
		EvalOnly: p.EvalOnly, EvalMaxModelLen: p.EvalMaxModelLen()}
	if p.KVOffloadBack != nil {
		d.KVOffloadBackend, d.KVOffloadBackendVersion = p.KVOffloadBack.Name, p.KVOffloadBack.Version
	}
	return d
}

var funcs = template.FuncMap{
	"add": func(vs ...int) int {
		sum := 0
		for _, v := range vs {
			sum += v
		}
		return sum
	},
	"mul": func(vs ...int) int {
		prod := 1
		for _, v := range vs {
			prod *= v
		}
		return prod
	},
	"sub": func(a, b int) int { return a - b },
	"div": func(a, b int) (int, error) {
		if b == 0 {
			return 0, errors.New("division by zero")
		}
		return a / b, nil
	},
	"max": func(a, b int) int { return max(a, b) },
	"mod": func(a, b int) (int, error) {
		if b == 0 {
			return 0, errors.New("division by zero")
		}
		return a % b, nil
	},
	// hundreds lists 100, 200, … n*100: the CUDA-graph sizes a script adds
	// as (100 200 300 400 500).
	"hundreds": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = (i + 1) * 100
		}
		return out
	},
	// pow2 lists the powers of two from lo to hi: the CUDA-graph buckets
	// a script adds in a `for t in 64 128 … 8192` loop.
	"pow2": func(lo, hi int) []int {
		var out []int
		for v := 1; v <= hi; v *= 2 {
			if v >= lo {
				out = append(out, v)
			}
		}
		return out
	},
	// seq lists lo … hi: a script's $(seq lo hi), as server_sglang.sh
	// writes --cuda-graph-bs from a models.yaml range.
	"seq": func(lo, hi int) []int {
		var out []int
		for v := lo; v <= hi; v++ {
			out = append(out, v)
		}
		return out
	},
	// fail is a script's `exit 1` for a point it has no launch for: the
	// point gets none, and the plan says why.
	"fail": func(reason string) (string, error) { return "", errors.New(reason) },
	"min":  func(a, b int) int { return min(a, b) },
	// atoi reads a number from additional-settings (DECODE_MTP_SIZE=3);
	// a value left out is 0, as scripts default it.
	"atoi": func(s string) (int, error) {
		if s == "" {
			return 0, nil
		}
		return strconv.Atoi(s)
	},
	"simModel":       simModel,
	"upper":          strings.ToUpper,
	"simHardware":    simHardware,
	"simMaxModelLen": simMaxModelLen,
	"offload":        offload,
}

// offload is benchmark_lib.sh's require_agentic_kv_offload_backend (and,
// given no backend, require_agentic_kv_offload_none): false for a point
// without KV offloading, true for one offloading to DRAM through one of
// the backends the script implements, and for any other the script's
// exit 1, so the plan says why the point has no launch.
func offload(d data, backends ...string) (bool, error) {
	switch d.KVOffloading {
	case "", "none":
		if d.KVOffloadBackend != "" {
			return false, fmt.Errorf("kv-offload-backend %s needs kv-offloading dram, not none", d.KVOffloadBackend)
		}
		return false, nil
	case "dram":
	default:
		return false, fmt.Errorf("kv-offloading %q: the script knows none and dram", d.KVOffloading)
	}
	switch {
	case len(backends) == 0:
		return false, errors.New("the script runs without KV offloading only: kv-offloading must be none")
	case !slices.Contains(backends, d.KVOffloadBackend):
		return false, fmt.Errorf("kv-offloading dram through %q: the script implements %s", d.KVOffloadBackend, strings.Join(backends, ", "))
	case d.TotalCPUDRAMGB < 1:
		return false, fmt.Errorf("kv-offloading dram needs a positive total-cpu-dram-gb, got %d", d.TotalCPUDRAMGB)
	}
	return true, nil
}

// simMaxModelLen is the simulated model's own context: what an agentic
// point, which replays traces at the model's native limit as upstream's
// do, serves.
func simMaxModelLen(model string) (int, error) {
	m, err := simengine.LookupModel(simModel(model))
	if err != nil {
		return 0, err
	}
	return m.MaxModelLen, nil
}

// simHardware is the GPU a simulated runner label names: sim-h100 and
// sim-h100-multinode are h100.
func simHardware(runner string) string {
	if sku := sweep.SKU(runner, sweep.DefaultNodeHardware()); sku != "" {
		return sku
	}
	return strings.TrimPrefix(runner, "sim-")
}

// simModel maps a Hugging Face id to the simulated engine's catalogue.
func simModel(model string) string {
	name := strings.ToLower(model[strings.LastIndex(model, "/")+1:])
	for _, suffix := range []string{"-instruct", "-0528"} {
		name = strings.TrimSuffix(name, suffix)
	}
	return name
}

// Render is the recipe's launch of p.
func (rc *Recipe) Render(p sweep.Point) (*sweep.Launch, error) {
	return rc.render(p, nil)
}

// render is Render with the point's srt-slurm recipe, where a multinode
// recipe renders its workers from one.
func (rc *Recipe) render(p sweep.Point, srt *srtFile) (*sweep.Launch, error) {
	if rc.Match.Multinode {
		return rc.renderRoles(p, srt)
	}
	l, err := rc.renderLaunch(rc.templates, pointData(p), p.Image)
	if err != nil {
		return nil, err
	}
	fam := families[rc.Family]
	l.Recipe, l.Family, l.ReadyPath, l.StopGraceS, l.Mounts = rc.Name, rc.Family, fam.ready, rc.StopGrace.Seconds(), rc.Mounts
	l.ConfigFailures = append(append([]string(nil), fam.failures...), rc.ConfigFailures...)
	if rc.Ready != nil {
		l.ReadyPath, l.ReadyPort = rc.Ready.Path, rc.Ready.Port
	}
	l.Fingerprint = Fingerprint(l)
	return l, nil
}

// renderLaunch executes one launch's templates over d: its image (image
// where they render none), arguments, environment and files.
func (rc *Recipe) renderLaunch(t parsed, d data, image string) (*sweep.Launch, error) {
	exec := func(t *template.Template) (string, error) {
		var b strings.Builder
		if err := t.Execute(&b, d); err != nil {
			return "", fmt.Errorf("recipe %s (%s) does not render: %s", rc.Name, rc.at, templateProblem(err))
		}
		return b.String(), nil
	}
	l := &sweep.Launch{Recipe: rc.Name, Family: rc.Family, Image: image}
	command, err := exec(t.command)
	if err != nil {
		return nil, err
	}
	if l.Args, err = SplitArgs(command); err != nil {
		return nil, fmt.Errorf("recipe %s (%s): command: %w", rc.Name, rc.at, err)
	}
	if image, err := exec(t.image); err != nil {
		return nil, err
	} else if image = strings.TrimSpace(image); image != "" {
		l.Image = image
	}
	for _, m := range []struct {
		from map[string]*template.Template
		to   *map[string]string
	}{{t.env, &l.Env}, {t.files, &l.Files}} {
		for k, t := range m.from {
			v, err := exec(t)
			if err != nil {
				return nil, err
			}
			if v == "" && m.to == &l.Env || strings.TrimSpace(v) == "" && m.to == &l.Files {
				// Exported or written only on some branches, as scripts
				// do: unset, or not written, here.
				continue
			}
			if *m.to == nil {
				*m.to = map[string]string{}
			}
			(*m.to)[k] = v
		}
	}
	return l, nil
}

// Fingerprint digests what a launch runs: image, arguments, environment,
// files and mounts, not its name or how failures are read.
func Fingerprint(l *sweep.Launch) string {
	what, _ := json.Marshal(struct {
		Image  string            `json:"image"`
		Args   []string          `json:"args"`
		Env    map[string]string `json:"env"`
		Files  map[string]string `json:"files"`
		Mounts []string          `json:"mounts"`
	}{l.Image, l.Args, l.Env, l.Files, l.Mounts})
	sum := sha256.Sum256(what)
	return hex.EncodeToString(sum[:])
}

// SplitArgs splits a rendered command as a POSIX shell would without
// expansion: blanks (newlines too) separate arguments, '…' and "…"
// group, a backslash in "…" escapes " and \.
func SplitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unclosed ' at byte %d", i)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inArg = true
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\') {
					j++
				}
				cur.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unclosed \" at byte %d", i)
			}
			i = j
			inArg = true
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, errors.New("renders to nothing")
	}
	return args, nil
}
