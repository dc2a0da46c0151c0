package recipes

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/specyaml"
	"github.com/infersweep/infersweep/sweep"
)

// srtLoader reads the srt-slurm recipes points name, each file once per
// plan, from the upstream checkout.
type srtLoader struct {
	src   sweep.LaunchSources
	files map[string]*srtFile
	errs  map[string]error
}

func newSrtLoader(src sweep.LaunchSources) *srtLoader {
	return &srtLoader{src: src, files: map[string]*srtFile{}, errs: map[string]error{}}
}

// forPoint is the srt-slurm recipe rc renders p's workers from, checked
// against p; nil where rc renders none, the plan has no upstream
// checkout, or the entry names no CONFIG_FILE (upstream's legacy
// script path).
func (l *srtLoader) forPoint(rc *Recipe, p sweep.Point) (*srtFile, error) {
	config := settings(p)["CONFIG_FILE"]
	if rc.SrtSlurm == nil || l.src.Upstream == "" || config == "" {
		return nil, nil
	}
	f, err := l.load(config)
	if err != nil {
		return nil, err
	}
	return f, f.check(rc, p)
}

func (l *srtLoader) load(config string) (*srtFile, error) {
	file, selector := srtLocation(config)
	if f, ok := l.files[file]; ok || l.errs[file] != nil {
		return f, l.errs[file]
	}
	f, err := l.read(file, selector)
	l.files[file], l.errs[file] = f, err
	return f, err
}

func (l *srtLoader) read(file, selector string) (*srtFile, error) {
	if selector != "" {
		return nil, specyaml.Errors{{File: file, Msg: fmt.Sprintf("CONFIG_FILE selects variant %q of an override file: srt-slurm's override selectors are not rendered yet", selector)}}
	}
	readFile := l.src.ReadFile
	if readFile == nil {
		return nil, errors.New("no ReadFile to read srt-slurm recipes with")
	}
	data, err := readFile(filepath.Join(l.src.Upstream, filepath.FromSlash(file)))
	if err != nil {
		why := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			why = "not in the upstream checkout " + l.src.Upstream + " (upstream's runner may take it from the srt-slurm branch it clones)"
		}
		return nil, specyaml.Errors{{File: file, Msg: "cannot read the entry's CONFIG_FILE: " + why}}
	}
	f, errs := parseSrtFile(file, data)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// srtParallelism are the config keys that say a role's parallelism, per
// backend, in the spellings each engine accepts.
var srtParallelism = map[string]struct{ tp, ep, dp, dpAttn []string }{
	"sglang": {tp: []string{"tensor-parallel-size", "tp-size", "tp"}, ep: []string{"expert-parallel-size", "ep-size", "ep"},
		dp: []string{"data-parallel-size", "dp-size", "dp"}, dpAttn: []string{"enable-dp-attention"}},
	"trtllm": {tp: []string{"tensor_parallel_size"}, ep: []string{"moe_expert_parallel_size"}, dpAttn: []string{"enable_attention_dp"}},
	"vllm":   {dp: []string{"data-parallel-size", "data_parallel_size"}},
}

// check refuses a file that deploys something else than p says: another
// backend, or, for any role of p's deployment, other worker counts,
// nodes, GPUs per worker or engine parallelism. What the file leaves out
// is the engine's default and not compared.
func (f *srtFile) check(rc *Recipe, p sweep.Point) error {
	backend := rc.SrtSlurm.Backend
	var errs specyaml.Errors
	r := specyaml.Reporter{File: f.file, Errs: &errs}
	if f.backend != backend {
		r.At(nil, "backend.type", "%q, but framework %s runs srt-slurm's %s backend", f.backend, p.Framework, backend)
		return errs
	}
	if want := rc.SrtSlurm.Frontend; want != "" && f.frontendType != want {
		r.At(f.frontendAt, "frontend.type", "%q: the recipe starts srt-slurm's %s frontend only", f.frontendType, want)
	}
	for _, shape := range p.Roles {
		rf, ok := f.roles[shape.Role]
		if !ok {
			continue
		}
		w := p.Prefill
		if shape.Role == sweep.RoleDecode {
			w = p.Decode
		}
		f.checkRole(r, rf, shape, w)
	}
	return errs.Err()
}

func (f *srtFile) checkRole(r specyaml.Reporter, rf *srtRoleFile, shape sweep.RoleShape, w *sweep.Workers) {
	role := shape.Role
	compare := func(n *yaml.Node, field string, got, want int, what string) {
		if n != nil && got != want {
			r.At(n, field, "%d, but the point's deployment has %d %s %s", got, want, role, what)
		}
	}
	if rf.workersAt == nil {
		r.At(nil, rf.resourcesPrefix+"_workers", "the file deploys no %s workers, but the point has %d", role, shape.Workers)
		return
	}
	compare(rf.workersAt, rf.resourcesPrefix+"_workers", rf.workers, shape.Workers, "workers")
	compare(rf.nodesAt, rf.resourcesPrefix+"_nodes", rf.nodes, shape.Nodes, "nodes")
	if got := rf.gpus; got != shape.GPUsPerWorker {
		r.At(firstNode(rf.gpusAt, rf.nodesAt, rf.workersAt), "resources.gpus_per_"+srtSides[role].resources,
			"%d GPUs per worker, but the point's %s workers have %d (tp %d × pp %d)", got, role, shape.GPUsPerWorker, w.TP, max(w.PP, 1))
	}
	keys := srtParallelism[f.backend]
	intKey := func(names []string, want int, what string) {
		for _, k := range names {
			if n := child(rf.config, k); n != nil {
				if v, err := specyaml.ParseInt(n); err != nil || v != want {
					r.At(n, rf.configPath+"."+k, "%s, but the point's %s workers have %s %d", n.Value, role, what, want)
				}
				return
			}
		}
	}
	for _, k := range keys.dpAttn {
		if n := child(rf.config, k); n != nil {
			if on, _ := specyaml.ParseBool(n); on != w.DPAttn {
				r.At(n, rf.configPath+"."+k, "%s, but the point's %s workers have dp-attn %t", n.Value, role, w.DPAttn)
			}
		}
	}
	intKey(keys.tp, w.TP, "tp")
	intKey(keys.ep, max(w.EP, 1), "ep")
	if w.DPAttn {
		intKey(keys.dp, w.TP, "dp-attn over tp")
	}
}

func firstNode(nodes ...*yaml.Node) *yaml.Node {
	for _, n := range nodes {
		if n != nil {
			return n
		}
	}
	return nil
}
