package launch

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/infersweep/infersweep/sweep"
)

// A multinode deployment runs as ONE Slurm allocation of all its nodes:
// upstream's submitters (amd_utils/job.slurm, llm-d/job.slurm, srt-slurm)
// do the same, and a gang of separate jobs could start half-way.

// runtime stands for what only the running script knows, in a rendered
// argument; scriptQuote turns each into a shell variable reference.
func runtime(name string) string { return "\x00" + name + "\x00" }

// deploymentStep is one srun step: a worker of a role, or the frontend.
type deploymentStep struct {
	role        string
	worker      int
	first, span int // node indexes into the allocation
	port        int
	gpus        string // CUDA_VISIBLE_DEVICES where workers share a node
}

// DeploymentScript is the sbatch script that runs spec's multinode
// deployment in one allocation: one srun step per worker of each role
// (in pyxis containers where the cluster has pyxis, as single engines
// run), started in the background, then the frontend on the first node,
// then wait. Ranks and the master's address come from Slurm when the
// steps run. The frontend listens on spec.Port; workers on the ports
// after it, one per worker sharing a node.
func (s *Slurm) DeploymentScript(ctx context.Context, spec Spec) (string, error) {
	p := spec.Point
	if !p.Multinode || len(p.Roles) == 0 {
		return "", fmt.Errorf("slurm deployment of point %s: not a shaped multinode point", p.ID)
	}
	if spec.Port == 0 {
		spec.Port = 8000
	}
	pyxis := false
	if p.Framework != "sim" {
		var err error
		if pyxis, err = s.hasPyxis(ctx); err != nil {
			return "", err
		}
	}
	steps, urls := deploymentSteps(p.Roles, spec.Port)
	var b strings.Builder
	s.deploymentHeader(&b, spec)
	for _, st := range steps {
		line, err := s.deploymentStep(spec, st, urls, pyxis)
		if err != nil {
			return "", err
		}
		b.WriteString(line)
	}
	// The first step to end ends the deployment: a worker that died
	// leaves a router serving errors, and an allocation that stays up
	// would hide it until the start timed out.
	b.WriteString("wait -n\nstatus=$?\necho \"infersweep: a step of the deployment ended (exit $status); stopping the others\" >&2\n" +
		"kill $(jobs -p) 2>/dev/null\nwait\nexit $((status == 0 ? 1 : status))\n")
	return b.String(), nil
}

// deploymentSteps places every worker as sweep.Placement does and the
// frontend last, with the base URLs of each role's workers (node names
// resolved at run time).
func deploymentSteps(roles []sweep.RoleShape, port int) ([]deploymentStep, map[string][]string) {
	var steps []deploymentStep
	urls := map[string][]string{}
	placement := sweep.Placement(roles)
	for i, shape := range roles {
		for w, nodes := range placement[i] {
			// Every step its own port: emulated clusters run all their
			// nodes on one host, and a real node does not mind.
			st := deploymentStep{role: shape.Role, worker: w, first: nodes[0], span: len(nodes), port: port + 1 + len(steps)}
			if shape.NodesPerWorker == 1 && shape.WorkersPerNode > 1 {
				slot := w % shape.WorkersPerNode
				var devs []string
				for g := range shape.GPUsPerWorker {
					devs = append(devs, strconv.Itoa(slot*shape.GPUsPerWorker+g))
				}
				st.gpus = strings.Join(devs, ",")
			}
			steps = append(steps, st)
			urls[shape.Role] = append(urls[shape.Role], fmt.Sprintf("http://%s:%d", runtime("NODE_"+strconv.Itoa(st.first)), st.port))
		}
	}
	steps = append(steps, deploymentStep{role: sweep.RoleFrontend, span: 1, port: port})
	return steps, urls
}

// deploymentHeader writes the allocation's directives and the node
// addresses the steps read: NODE_i is the allocation's i-th node's.
func (s *Slurm) deploymentHeader(b *strings.Builder, spec Spec) {
	limit := s.TimeLimit
	if limit == "" {
		limit = "04:00:00"
	}
	fmt.Fprintf(b, "#!/bin/bash\n#SBATCH --job-name=%s\n#SBATCH --nodes=%d\n#SBATCH --ntasks-per-node=1\n", spec.Name, spec.Point.Nodes)
	if spec.Point.Framework != "sim" {
		gpus := 1
		for _, r := range spec.Point.Roles {
			gpus = max(gpus, min(r.GPUsPerWorker*r.WorkersPerNode, gpusPerNode(spec.Point, r.Hardware)))
		}
		fmt.Fprintf(b, "#SBATCH --gres=gpu:%d\n", gpus)
	}
	// As a single engine's job: the deployment owns its nodes, and the
	// sweep, not Slurm, retries it elsewhere.
	fmt.Fprintf(b, "#SBATCH --exclusive\n#SBATCH --no-requeue\n#SBATCH --time=%s\n#SBATCH --output=%s\n#SBATCH --comment=%s\n",
		limit, filepath.Join(s.logDir(), spec.Name+".log"), commentKey+spec.Node)
	if s.Partition != "" {
		fmt.Fprintf(b, "#SBATCH --partition=%s\n", s.Partition)
	}
	if s.Account != "" {
		fmt.Fprintf(b, "#SBATCH --account=%s\n", s.Account)
	}
	b.WriteString("set -u\nNODES=($(scontrol show hostnames \"$SLURM_JOB_NODELIST\"))\n")
	// A node's address, not its name: names need not resolve (an emulated
	// cluster's do not), and NodeAddr is the name where none is set.
	b.WriteString("for i in \"${!NODES[@]}\"; do\n" +
		"  addr=$(scontrol show node \"${NODES[$i]}\" -o | sed -n 's/.* NodeAddr=\\([^ ]*\\).*/\\1/p')\n" +
		"  export \"NODE_$i=${addr:-${NODES[$i]}}\"\ndone\n")
}

// deploymentStep renders one step: the role's command for this worker,
// its files written where the nodes read them, and its srun line.
func (s *Slurm) deploymentStep(spec Spec, st deploymentStep, urls map[string][]string, pyxis bool) (string, error) {
	self, err := s.self()
	if err != nil {
		return "", err
	}
	rs := RoleSpec{Spec: spec, Role: st.role, Worker: st.worker, Nodes: st.span,
		MasterAddr: runtime("NODE_" + strconv.Itoa(st.first)), PrefillURLs: urls[sweep.RolePrefill],
		DecodeURLs: urls[sweep.RoleDecode], WorkerURLs: urls[sweep.RoleAggregated]}
	rs.Port = st.port
	cmd, err := renderRole(rs, self, "0.0.0.0", runtime("NODE_RANK"))
	if err != nil {
		return "", fmt.Errorf("slurm deployment of point %s: %w", spec.Point.ID, err)
	}
	var b strings.Builder
	dir := filepath.Join(s.filesDir(spec), fmt.Sprintf("%s-%d", st.role, st.worker))
	placed := cmd.PlaceFiles(dir)
	for _, path := range slices.Sorted(maps.Keys(placed)) {
		fmt.Fprintf(&b, "mkdir -p %s\ncat > %s <<'INFERSWEEP_EOF'\n%s\nINFERSWEEP_EOF\n", shellJoin([]string{filepath.Dir(path)}), shellJoin([]string{path}), placed[path])
	}
	srun := []string{"srun", "--nodes=" + strconv.Itoa(st.span), "--ntasks=" + strconv.Itoa(st.span),
		"--relative=" + strconv.Itoa(st.first), "--ntasks-per-node=1", "--overlap"}
	if pyxis && spec.Point.Framework != "sim" {
		srun = append(srun, "--container-image="+cmd.Image, "--no-container-mount-home")
		mounts := slices.Clone(cmd.Mounts)
		if s.ContainerMounts != "" {
			mounts = append([]string{s.ContainerMounts}, mounts...)
		}
		if len(placed) > 0 {
			mounts = append(mounts, dir+":"+dir)
		}
		if len(mounts) > 0 {
			srun = append(srun, "--container-mounts="+strings.Join(mounts, ","))
		}
	}
	fmt.Fprintf(&b, "# %s %d\n%s bash -c %s &\n", st.role, st.worker, shellJoin(srun), shellJoin([]string{stepCommand(cmd, st)}))
	return b.String(), nil
}

// stepCommand is what bash runs inside the step: the environment, then
// the engine. The rank is the step's task (one per node); node names and
// URLs are the script's NODE_i.
func stepCommand(cmd Command, st deploymentStep) string {
	var b strings.Builder
	b.WriteString("export NODE_RANK=$SLURM_PROCID")
	env := slices.Clone(cmd.Env)
	if st.gpus != "" {
		env = append(env, "CUDA_VISIBLE_DEVICES="+st.gpus)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		b.WriteString(" " + k + "=" + scriptQuote(v))
	}
	b.WriteString("; exec")
	for _, a := range cmd.Args {
		b.WriteString(" " + scriptQuote(a))
	}
	return b.String()
}

// scriptQuote single-quotes a for bash, leaving the values only the
// running step knows (runtime) as variable references.
func scriptQuote(a string) string {
	q := "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	for {
		start := strings.IndexByte(q, 0)
		if start < 0 {
			return q
		}
		end := strings.IndexByte(q[start+1:], 0) + start + 1
		q = q[:start] + `'"$` + q[start+1:end] + `"'` + q[end+1:]
	}
}
