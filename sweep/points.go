package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Point is one benchmark to run: an engine layout at one concurrency.
// Multinode rows become one point per concurrency, sharing a deployment
// id: the points one deployment serves in order.
type Point struct {
	ID            string     `json:"id"`
	Entry         string     `json:"entry"`
	Scenario      string     `json:"scenario"`
	Image         string     `json:"image"`
	Model         string     `json:"model"`
	ModelPrefix   string     `json:"model_prefix"`
	Runner        string     `json:"runner"`
	RunnerLabel   string     `json:"runner_label"`
	Node          string     `json:"node,omitempty"`
	Precision     string     `json:"precision"`
	Framework     string     `json:"framework"`
	ISL           int        `json:"isl,omitempty"`
	OSL           int        `json:"osl,omitempty"`
	Conc          int        `json:"conc"`
	TP            int        `json:"tp,omitempty"`
	EP            int        `json:"ep,omitempty"`
	PP            int        `json:"pp,omitempty"`
	DPAttn        bool       `json:"dp_attn"`
	DCPSize       int        `json:"dcp_size,omitempty"`
	PCPSize       int        `json:"pcp_size,omitempty"`
	SpecDecoding  string     `json:"spec_decoding"`
	Router        *Component `json:"router,omitempty"`
	KVP2PTransfer string     `json:"kv_p2p_transfer,omitempty"`
	KVOffloading  string     `json:"kv_offloading,omitempty"`
	KVOffloadBack *Component `json:"kv_offload_backend,omitempty"`
	// TotalCPUDRAMGB is the KV offload budget of one agentic server node.
	TotalCPUDRAMGB  int      `json:"total_cpu_dram_gb,omitempty"`
	DurationSeconds int      `json:"duration_s,omitempty"`
	Multinode       bool     `json:"multinode"`
	Disagg          bool     `json:"disagg"`
	Prefill         *Workers `json:"prefill,omitempty"`
	Decode          *Workers `json:"decode,omitempty"`
	DeploymentID    string   `json:"deployment_id,omitempty"`
	// Roles place a multinode deployment's workers on Nodes nodes, which
	// the pool leases as one gang.
	Roles []RoleShape `json:"roles,omitempty"`
	Nodes int         `json:"nodes,omitempty"`
	// RecipeFingerprint is upstream's recipe-fingerprint of the point's
	// row: the same for every point one launch recipe serves.
	RecipeFingerprint string `json:"recipe_fingerprint"`
	GPUs              int    `json:"gpus"`
	MaxModelLen       int    `json:"max_model_len,omitempty"`
	ExpName           string `json:"exp_name"`
	// Eval: an accuracy eval runs against this point's engine; EvalOnly:
	// only the eval, no throughput measurement.
	Eval     bool `json:"eval,omitempty"`
	EvalOnly bool `json:"eval_only,omitempty"`
	// Launch is the engine launch its recipe renders for it (package
	// recipes); nil where no recipe serves the point yet (agentic
	// points). A multinode point's launch has one launch per role.
	Launch *Launch `json:"launch,omitempty"`
}

// EvalMaxModelLen is the context an eval-only point's engine serves:
// benchmark_lib.sh's setup_eval_context, ISL+OSL+256. Upstream caps it at
// the model's native context, read on the node; the cap never binds for
// the models it benchmarks (recipes/render.go says why).
func (p Point) EvalMaxModelLen() int { return p.ISL + p.OSL + 256 }

// RunKey is what a point runs: its config and its engine launch. A point
// whose recipe changed is a new run of the same config (--changed-since
// plans it again); points planned before recipes have no launch.
func (p Point) RunKey() string {
	if p.Launch == nil {
		return p.ID
	}
	return p.ID + "@" + p.Launch.Fingerprint
}

// Launch is how a point's engine starts: a recipe rendered for the point,
// with the values only the backend knows at start left as ${PORT} (and,
// for the simulated engine, ${INFERSWEEP}, ${TIME_SCALE} and ${SEED}).
type Launch struct {
	Recipe string `json:"recipe"`
	// Fingerprint digests what runs (image, arguments, environment,
	// files, mounts): it changes exactly when the launch does.
	Fingerprint string            `json:"fingerprint"`
	Family      string            `json:"family"`
	Image       string            `json:"image,omitempty"`
	Args        []string          `json:"args"`
	Env         map[string]string `json:"env,omitempty"`
	// Files are written before the engine starts, at their paths as the
	// arguments name them.
	Files map[string]string `json:"files,omitempty"`
	// ReadyPath answers 200 once the engine serves; on ReadyPort where
	// it is not the engine's ${PORT} (a control plane's etcd, 2379).
	ReadyPath string `json:"ready_path"`
	ReadyPort int    `json:"ready_port,omitempty"`
	// ConfigFailures are log lines that mean this configuration cannot
	// run (not a node fault).
	ConfigFailures []string `json:"config_failures,omitempty"`
	Mounts         []string `json:"mounts,omitempty"`
	StopGraceS     float64  `json:"stop_grace_s,omitempty"`
	// Roles launch a multinode deployment, one entry per role of the
	// point's Roles plus its frontend; the fields above are then empty
	// but Recipe, Fingerprint and Family. Role launches keep, beside the
	// placeholders above, ${NODE_RANK}, ${NNODES} and ${MASTER_ADDR} (the
	// worker's rank, its node count and its rank 0's address), ${WORKER}
	// (its index in the role), and for the frontend ${PREFILL_URLS},
	// ${DECODE_URLS} and ${WORKER_URLS} (comma-separated base URLs), and
	// ${CONTROL_ADDR}, the control plane's address, where the recipe gives
	// one (its entry comes first).
	Roles []RoleLaunch `json:"roles,omitempty"`
}

// RoleLaunch is how each worker of one role of a deployment starts.
type RoleLaunch struct {
	Role   string `json:"role"`
	Launch Launch `json:"launch"`
}

// Points turns rows into points: one per concurrency of a row. An
// eval-only multinode row yields only the points its eval runs at.
func Points(rows []Row) []Point {
	var points []Point
	for i := range rows {
		r := &rows[i]
		p := Point{
			Entry: r.Entry, Scenario: r.Scenario, Image: r.Image, Model: r.Model, ModelPrefix: r.ModelPrefix,
			Runner: PoolName(r.Label), RunnerLabel: r.Label, Precision: r.Precision, Framework: r.Framework,
			ISL: r.ISL, OSL: r.OSL, SpecDecoding: r.SpecDecoding, Router: r.Router, KVP2PTransfer: r.KVP2PTransfer,
			TotalCPUDRAMGB: r.TotalCPUDRAMGB, DurationSeconds: r.Duration, Multinode: r.Multinode, Disagg: r.Disagg,
			MaxModelLen: r.MaxModelLen, ExpName: r.ExpName, EvalOnly: r.EvalOnly, RecipeFingerprint: r.RecipeFingerprint(),
		}
		if r.Runner != r.Label {
			p.Node = r.Runner
		}
		if r.Scenario == ScenarioAgentic {
			p.KVOffloading, p.KVOffloadBack = r.KVOffloading, r.KVOffloadBackend
		}
		if r.Multinode {
			p.Prefill, p.Decode = r.Prefill, r.Decode
			for _, w := range []*Workers{r.Prefill, r.Decode} {
				p.GPUs += w.NumWorker * w.TP * w.PP * w.PCPSize
			}
			p.DeploymentID = pointID(p)
		} else {
			p.TP, p.EP, p.PP, p.DPAttn, p.DCPSize, p.PCPSize = r.TP, r.EP, r.PP, r.DPAttn, r.DCPSize, r.PCPSize
			p.GPUs = r.TP * r.PP * r.PCPSize
		}
		for _, c := range r.Conc {
			p := p
			p.Conc = c
			p.Eval = r.RunEval && (!r.Multinode || r.EvalAllConcs || r.EvalConc == c)
			if p.EvalOnly && !p.Eval {
				continue
			}
			p.ID = pointID(p)
			points = append(points, p)
		}
	}
	return points
}

// pointID hashes the point's normalized config: every field in a fixed
// order, so the id does not depend on the order of keys or entries in the
// files, and not on where the entry is defined. Written by hand rather than
// through JSON: expansion hashes every point, and reflection would be most
// of its cost. Fields added later are hashed only when set, so the ids of
// points that do not use them stay what earlier plans recorded.
func pointID(p Point) string {
	h := sha256.New()
	buf := make([]byte, 0, 512)
	str := func(v string) { buf = append(strconv.AppendInt(buf, int64(len(v)), 10), ':'); buf = append(buf, v...) }
	num := func(v int) { buf = append(strconv.AppendInt(buf, int64(v), 10), ';') }
	flag := func(v bool) { buf = strconv.AppendBool(buf, v); buf = append(buf, ';') }
	comp := func(c *Component) {
		if c == nil {
			str("")
			return
		}
		str(c.Name)
		str(c.Version)
	}
	workers := func(w *Workers) {
		if w == nil {
			num(-1)
			return
		}
		for _, v := range []int{w.NumWorker, w.TP, w.PP, w.EP, w.DCPSize, w.PCPSize} {
			num(v)
		}
		flag(w.DPAttn)
		str(w.Hardware)
		num(len(w.AdditionalSettings))
		for _, a := range w.AdditionalSettings {
			str(a)
		}
	}
	// The empty string sits where a trace source was hashed before the
	// agentic scenario took its current form.
	for _, v := range []string{p.Entry, p.Scenario, p.Image, p.Model, p.ModelPrefix, p.Runner, p.Precision, p.Framework, "", p.SpecDecoding, p.KVP2PTransfer, p.KVOffloading, p.ExpName} {
		str(v)
	}
	for _, v := range []int{p.ISL, p.OSL, p.Conc, p.TP, p.EP, p.PP, p.DCPSize, p.PCPSize, p.GPUs, p.MaxModelLen} {
		num(v)
	}
	flag(p.DPAttn)
	flag(p.Multinode)
	flag(p.Disagg)
	comp(p.Router)
	comp(p.KVOffloadBack)
	workers(p.Prefill)
	workers(p.Decode)
	for _, extra := range []struct {
		name  string
		value string
	}{
		{"node", p.Node}, {"dram", itoaIfSet(p.TotalCPUDRAMGB)}, {"duration", itoaIfSet(p.DurationSeconds)},
		{"eval", boolIfSet(p.Eval)}, {"eval-only", boolIfSet(p.EvalOnly)},
	} {
		if extra.value != "" {
			str(extra.name)
			str(extra.value)
		}
	}
	h.Write(buf)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}

func itoaIfSet(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

func boolIfSet(v bool) string {
	if !v {
		return ""
	}
	return "true"
}

// Counts summarises a plan for humans: points per scenario, node type,
// runner, framework and sequence length.
type Counts struct {
	Total       int            `json:"total"`
	Deployments int            `json:"multinode_deployments"`
	Evals       int            `json:"eval_points"`
	ByScenario  map[string]int `json:"by_scenario"`
	ByNodes     map[string]int `json:"by_node_type"`
	ByRunner    map[string]int `json:"by_runner"`
	ByFramework map[string]int `json:"by_framework"`
	BySeqLen    map[string]int `json:"by_seq_len"`
	GPUs        map[string]int `json:"gpu_points_by_runner"`
}

// Count tallies points (by pool name, the runner of a point).
func Count(points []Point) Counts {
	c := Counts{Total: len(points), ByScenario: map[string]int{}, ByNodes: map[string]int{}, ByRunner: map[string]int{},
		ByFramework: map[string]int{}, BySeqLen: map[string]int{}, GPUs: map[string]int{}}
	deployments := map[string]bool{}
	for _, p := range points {
		c.ByScenario[p.Scenario]++
		nodes := "single-node"
		if p.Multinode {
			nodes = "multi-node"
			deployments[p.DeploymentID] = true
		}
		c.ByNodes[nodes]++
		c.ByRunner[p.Runner]++
		c.ByFramework[p.Framework]++
		seq := ScenarioAgentic
		if p.Scenario == ScenarioFixedSeqLen {
			seq = SeqLenName(p.ISL) + SeqLenName(p.OSL)
		}
		c.BySeqLen[seq]++
		c.GPUs[p.Runner] += p.GPUs
		if p.Eval {
			c.Evals++
		}
	}
	c.Deployments = len(deployments)
	return c
}

// ParseSeqLens reads "1k1k,8k1k" into names, checking their shape.
func ParseSeqLens(spec string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Count(s, "k") < 1 {
			return nil, fmt.Errorf("seq-lens %q: want names like 1k1k or 8k1k", s)
		}
		out = append(out, s)
	}
	return out, nil
}
