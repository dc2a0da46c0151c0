package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/infersweep/infersweep/specyaml"
	"github.com/infersweep/infersweep/sweep"
)

// RoleRecipe is how each worker of one role of a multinode deployment
// starts; its fields are templates as a single-node recipe's are.
type RoleRecipe struct {
	Image   string            `yaml:"image"`
	Command string            `yaml:"command"`
	Env     map[string]string `yaml:"env"`
	Files   map[string]string `yaml:"files"`
	Ready   *Ready            `yaml:"ready"`
}

// FrontendRecipe is the deployment's one router; it needs no GPU.
type FrontendRecipe struct {
	Image   string            `yaml:"image"`
	Command string            `yaml:"command"`
	Env     map[string]string `yaml:"env"`
	Ready   *Ready            `yaml:"ready"`
}

// ControlPlaneRecipe is a deployment's control plane, started first on
// its first node. Without a ready path it is ready once it runs.
type ControlPlaneRecipe struct {
	Image   string            `yaml:"image"`
	Command string            `yaml:"command"`
	Env     map[string]string `yaml:"env"`
	Ready   *Ready            `yaml:"ready"`
}

// Placeholders of role launches, filled per worker when the deployment
// starts (launch.RenderRole): where it runs is known only then.
const (
	NodeRankVar    = "${NODE_RANK}"
	NNodesVar      = "${NNODES}"
	MasterAddrVar  = "${MASTER_ADDR}"
	WorkerVar      = "${WORKER}"
	PrefillURLsVar = "${PREFILL_URLS}"
	DecodeURLsVar  = "${DECODE_URLS}"
	WorkerURLsVar  = "${WORKER_URLS}"
	// ControlAddrVar is the control plane's address (its first node's).
	ControlAddrVar = "${CONTROL_ADDR}"
)

// workerRoles are the roles a deployment's workers take (sweep.Shape):
// a recipe launches prefill and decode together, aggregated alone, or
// all three.
var workerRoles = []string{sweep.RolePrefill, sweep.RoleDecode, sweep.RoleAggregated}

// checkRoles validates a multinode recipe: roles in place of a command,
// prefill and decode both or neither, and a frontend.
func checkRoles(r specyaml.Reporter, nodes specyaml.Nodes, path string, rc *Recipe) {
	at := func(field string) *yaml.Node { return nodes.Of(specyaml.Join(path, field)) }
	field := func(f string) string { return specyaml.Join(path, f) }
	if strings.TrimSpace(rc.Command) != "" {
		r.At(at("command"), field("command"), "a multinode recipe has no command: each of its roles has one")
	}
	_, prefill := rc.Roles[sweep.RolePrefill]
	_, decode := rc.Roles[sweep.RoleDecode]
	_, aggregated := rc.Roles[sweep.RoleAggregated]
	switch {
	case len(rc.Roles) == 0:
		r.At(at("roles"), field("roles"), "required: a multinode recipe launches prefill and decode, or aggregated, workers")
	case prefill != decode:
		r.At(at("roles"), field("roles"), "a disaggregated deployment gets both prefill and decode workers: give both roles")
	case !prefill && !aggregated:
		r.At(at("roles"), field("roles"), "give prefill and decode, or aggregated")
	}
	rc.roles = map[string]parsed{}
	for _, role := range slices.Sorted(maps.Keys(rc.Roles)) {
		rr := rc.Roles[role]
		rpath := field("roles." + role)
		if !slices.Contains(workerRoles, role) {
			r.At(nodes.Of(rpath), rpath, "%q is no role: want one of %s", role, strings.Join(workerRoles, ", "))
			continue
		}
		if strings.TrimSpace(rr.Command) == "" {
			r.At(nodes.Of(specyaml.Join(rpath, "command")), specyaml.Join(rpath, "command"), "required: the %s worker's command line", role)
		}
		checkReady(r, nodes, rpath, rr.Ready)
		rc.roles[role] = parseTemplates(r, nodes, rpath, rc.Name+"."+role, rr.Image, rr.Command, rr.Env, rr.Files)
	}
	if cp := rc.ControlPlane; cp != nil {
		if strings.TrimSpace(cp.Command) == "" {
			r.At(at("control-plane"), field("control-plane.command"), "required: what starts the control plane (etcd, nats-server)")
		}
		checkReady(r, nodes, field("control-plane"), cp.Ready)
		rc.controlPlane = parseTemplates(r, nodes, field("control-plane"), rc.Name+".control-plane", cp.Image, cp.Command, cp.Env, nil)
	}
	if rc.Frontend == nil || strings.TrimSpace(rc.Frontend.Command) == "" {
		r.At(at("frontend"), field("frontend.command"), "required: the router in front of the workers")
		return
	}
	checkReady(r, nodes, field("frontend"), rc.Frontend.Ready)
	rc.frontend = parseTemplates(r, nodes, field("frontend"), rc.Name+".frontend", rc.Frontend.Image, rc.Frontend.Command, rc.Frontend.Env, nil)
}

func checkReady(r specyaml.Reporter, nodes specyaml.Nodes, path string, ready *Ready) {
	if ready == nil {
		return
	}
	if !strings.HasPrefix(ready.Path, "/") {
		field := specyaml.Join(path, "ready.path")
		r.At(nodes.Of(field), field, "%q: want a path starting with /", ready.Path)
	}
	if ready.Port < 0 || ready.Port > 65535 {
		field := specyaml.Join(path, "ready.port")
		r.At(nodes.Of(field), field, "%d: want a TCP port (1-65535), or none for the engine's own", ready.Port)
	}
}

// workerData is one side of a disaggregated deployment as templates see
// it.
type workerData struct {
	NumWorker, TP, EP, PP int
	DPAttn                bool
}

func workerOf(w *sweep.Workers) workerData {
	if w == nil {
		return workerData{}
	}
	return workerData{NumWorker: w.NumWorker, TP: w.TP, EP: w.EP, PP: w.PP, DPAttn: w.DPAttn}
}

// settings are a deployment's additional-settings as KEY→value, the
// decode's after the prefill's: upstream exports both to one script.
func settings(p sweep.Point) map[string]string {
	out := map[string]string{}
	for _, w := range []*sweep.Workers{p.Prefill, p.Decode} {
		if w == nil {
			continue
		}
		for _, s := range w.AdditionalSettings {
			if k, v, ok := strings.Cut(s, "="); ok {
				out[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// roleData is what a role's templates see: the point, its deployment,
// and the role's own workers as .TP, .EP, .PP and .DPAttn.
func roleData(p sweep.Point, shape sweep.RoleShape) data {
	d := pointData(p)
	d.Prefill, d.Decode = workerOf(p.Prefill), workerOf(p.Decode)
	d.Role, d.Workers, d.NodesPerWorker, d.GPUsPerWorker = shape.Role, shape.Workers, shape.NodesPerWorker, shape.GPUsPerWorker
	d.Nodes, d.KVTransfer, d.Settings = p.Nodes, p.KVP2PTransfer, settings(p)
	if p.Router != nil {
		d.Router = p.Router.Name
	}
	for _, s := range p.Roles {
		switch s.Role {
		case sweep.RolePrefill, sweep.RoleAggregated:
			d.PrefillNodes = s.Nodes
		case sweep.RoleDecode:
			d.DecodeNodes = s.Nodes
		}
	}
	own := d.Prefill
	if shape.Role == sweep.RoleDecode {
		own = d.Decode
	}
	d.TP, d.EP, d.PP, d.DPAttn, d.GPUs = own.TP, own.EP, own.PP, own.DPAttn, shape.GPUsPerWorker
	d.NodeRank, d.NNodes, d.MasterAddr, d.Worker = NodeRankVar, NNodesVar, MasterAddrVar, WorkerVar
	d.PrefillURLs, d.DecodeURLs, d.WorkerURLs = PrefillURLsVar, DecodeURLsVar, WorkerURLsVar
	d.ControlAddr = ControlAddrVar
	return d
}

// renderRoles is a multinode recipe's launch of p: its control plane's
// where it has one, one launch per role of the deployment, and the
// frontend's; workers and frontend from srt where given.
func (rc *Recipe) renderRoles(p sweep.Point, srt *srtFile) (*sweep.Launch, error) {
	if len(p.Roles) == 0 {
		return nil, fmt.Errorf("recipe %s (%s): point %s has no roles: plan it again so its deployment is shaped", rc.Name, rc.at, p.ID)
	}
	l := &sweep.Launch{Recipe: rc.Name, Family: rc.Family}
	fam := families[rc.Family]
	if rc.ControlPlane != nil {
		cp, err := rc.renderLaunch(rc.controlPlane, roleData(p, sweep.RoleShape{Role: sweep.RoleControlPlane}), p.Image)
		if err != nil {
			return nil, err
		}
		// No ready path: ready once it runs (launch.RenderRole).
		if ready := rc.ControlPlane.Ready; ready != nil {
			cp.ReadyPath, cp.ReadyPort = ready.Path, ready.Port
		}
		cp.Fingerprint = Fingerprint(cp)
		l.Roles = append(l.Roles, sweep.RoleLaunch{Role: sweep.RoleControlPlane, Launch: *cp})
	}
	for _, shape := range p.Roles {
		role, err := rc.renderWorker(p, shape, srt)
		if err != nil {
			return nil, err
		}
		l.Roles = append(l.Roles, sweep.RoleLaunch{Role: shape.Role, Launch: *role})
	}
	d := roleData(p, sweep.RoleShape{Role: sweep.RoleFrontend})
	if srt != nil && rc.SrtSlurm.Frontend != "" {
		d.SrtFrontend = srt.frontend()
	}
	front, err := rc.renderLaunch(rc.frontend, d, p.Image)
	if err != nil {
		return nil, err
	}
	if d.SrtFrontend != nil && rc.SrtSlurm.Environment {
		front.Env = withEnv(front.Env, d.SrtFrontend.Env)
	}
	front.ReadyPath = fam.ready
	if rc.Frontend.Ready != nil {
		front.ReadyPath, front.ReadyPort = rc.Frontend.Ready.Path, rc.Frontend.Ready.Port
	}
	front.Fingerprint = Fingerprint(front)
	l.Roles = append(l.Roles, sweep.RoleLaunch{Role: sweep.RoleFrontend, Launch: *front})
	l.Fingerprint = RolesFingerprint(l.Roles)
	return l, nil
}

// renderWorker is the launch of each worker of one role.
func (rc *Recipe) renderWorker(p sweep.Point, shape sweep.RoleShape, srt *srtFile) (*sweep.Launch, error) {
	t, ok := rc.roles[shape.Role]
	if !ok {
		return nil, fmt.Errorf("recipe %s (%s) has no %s role, which this deployment has", rc.Name, rc.at, shape.Role)
	}
	d := roleData(p, shape)
	if srt != nil {
		var err error
		if d.Srt, err = srt.role(shape.Role, p.Model); err != nil {
			return nil, err
		}
	}
	role, err := rc.renderLaunch(t, d, p.Image)
	if err != nil {
		return nil, err
	}
	if d.Srt != nil && rc.SrtSlurm.Environment {
		role.Env = withEnv(role.Env, d.Srt.Env)
	}
	fam := families[rc.Family]
	role.ReadyPath = fam.ready
	if rr := rc.Roles[shape.Role]; rr.Ready != nil {
		role.ReadyPath, role.ReadyPort = rr.Ready.Path, rr.Ready.Port
	}
	role.Mounts, role.StopGraceS = rc.Mounts, rc.StopGrace.Seconds()
	role.ConfigFailures = append(append([]string(nil), fam.failures...), rc.ConfigFailures...)
	role.Fingerprint = Fingerprint(role)
	return role, nil
}

// withEnv is env with vars set over it in order, as srt-slurm layers a
// worker's environment.
func withEnv(env map[string]string, vars []envVar) map[string]string {
	if len(vars) > 0 && env == nil {
		env = map[string]string{}
	}
	for _, v := range vars {
		env[v.Key] = v.Value
	}
	return env
}

// RolesFingerprint digests a deployment's launches, role by role in
// order: it changes when any of them does.
func RolesFingerprint(roles []sweep.RoleLaunch) string {
	h := sha256.New()
	for _, r := range roles {
		fmt.Fprintf(h, "%s=%s;", r.Role, r.Launch.Fingerprint)
	}
	return hex.EncodeToString(h.Sum(nil))
}
