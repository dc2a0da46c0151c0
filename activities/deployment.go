package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/loadgen"
)

// A deployment's nodes each hold the gang's one lease: JoinGang claims the
// node and clears its leftovers, StartRole starts the ranks placed on it
// (several when workers share a node, the frontend on the first node),
// CheckRoles says whether they still run, and Teardown stops them all.
// Backends that start a whole deployment at once (StartDeployment) do so
// from the first node; the others only hold their lease.

// RoleLauncher starts one rank of a deployment's role; backends that
// cannot run deployments do not implement it.
type RoleLauncher interface {
	StartRole(ctx context.Context, spec launch.RoleSpec) (*launch.Engine, error)
}

// DeploymentLauncher starts a whole deployment at once, its roles placed
// by the backend's scheduler: a Slurm allocation of all its nodes.
type DeploymentLauncher interface {
	StartDeployment(ctx context.Context, spec launch.Spec) (*launch.Engine, error)
}

// JoinGang claims this node for a deployment's lease and removes what
// earlier engines left on it.
func (a *Activities) JoinGang(ctx context.Context, in GangInput) (GangNode, error) {
	if err := a.acquire(in.Lease.Node, "", nil, in.Lease.LeaseID); err != nil {
		return GangNode{}, err
	}
	a.mu.Lock()
	fresh := a.engine == nil && len(a.roles) == 0
	a.mu.Unlock()
	if fresh {
		if err := a.reap(ctx); err != nil {
			return GangNode{}, err
		}
	}
	_, whole := a.Launcher.(DeploymentLauncher)
	return GangNode{Address: a.address(), Whole: whole}, nil
}

// address is where other nodes reach this node's engines.
func (a *Activities) address() string {
	if a.Address == "" {
		return "127.0.0.1"
	}
	return a.Address
}

// StartDeployment starts the whole deployment from this, its first node,
// and returns its frontend once it serves.
func (a *Activities) StartDeployment(ctx context.Context, in RoleInput) (EngineInfo, error) {
	starter, ok := a.Launcher.(DeploymentLauncher)
	if !ok {
		return EngineInfo{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the %T backend of node %s starts deployments role by role", a.Launcher, a.Node), ErrConfig, nil)
	}
	return a.startRank(ctx, in, "deployment", func(spec launch.Spec) (*launch.Engine, error) { return starter.StartDeployment(ctx, spec) })
}

// StartRole starts one rank of a role under the gang's lease and waits
// until it serves.
func (a *Activities) StartRole(ctx context.Context, in RoleInput) (EngineInfo, error) {
	starter, ok := a.Launcher.(RoleLauncher)
	if !ok {
		return EngineInfo{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the %T backend of node %s cannot start deployments", a.Launcher, a.Node), ErrConfig, nil)
	}
	return a.startRank(ctx, in, fmt.Sprintf("%s/%d/%d", in.Role, in.Worker, in.Rank), func(spec launch.Spec) (*launch.Engine, error) {
		return starter.StartRole(ctx, launch.RoleSpec{Spec: spec, Role: in.Role, Worker: in.Worker, Rank: in.Rank, Nodes: in.Nodes,
			MasterAddr: in.MasterAddr, PrefillURLs: in.PrefillURLs, DecodeURLs: in.DecodeURLs, WorkerURLs: in.WorkerURLs})
	})
}

// startRank starts what start starts under the gang's lease, keeps it
// with the lease's engines as name, and says where it serves.
func (a *Activities) startRank(ctx context.Context, in RoleInput, name string, start func(launch.Spec) (*launch.Engine, error)) (EngineInfo, error) {
	if err := a.holds(in.Lease); err != nil {
		return EngineInfo{}, err
	}
	stopBeat := heartbeatEvery(ctx, 2*time.Second, "starting "+name)
	engine, err := start(launch.Spec{Point: in.Point, Name: launch.EngineName(a.Node + "/" + in.Lease.LeaseID + "/" + name), Node: a.Node,
		Lease: in.Lease.LeaseID, TimeScale: in.TimeScale, ExtraArgs: in.Engine.Args, Env: in.Engine.Env})
	stopBeat()
	if err != nil {
		var startErr *launch.StartError
		if errors.As(err, &startErr) && startErr.Kind == launch.ConfigFailure {
			return EngineInfo{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrConfig, nil)
		}
		return EngineInfo{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrNodeFault, nil)
	}
	a.mu.Lock()
	held := a.lease == in.Lease.LeaseID
	if held {
		a.roles = append(a.roles, roleEngine{name: name, engine: engine})
	}
	a.mu.Unlock()
	if !held {
		// Torn down while it started: nothing else will stop it.
		_, _ = engine.Stop(context.WithoutCancel(ctx))
		return EngineInfo{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("lease %s was released while its %s started; it is stopped", in.Lease.LeaseID, name), ErrNodeFault, nil)
	}
	a.logger().Info("role ready", "lease", in.Lease.LeaseID, "role", name, "url", engine.BaseURL, "startup_s", engine.StartupSeconds)
	return EngineInfo{BaseURL: engine.BaseURL, StartupSeconds: engine.StartupSeconds, ImageDigest: engine.ImageDigest, Placement: engine.Placement}, nil
}

// CheckRoles says which of the gang's ranks on this node have exited.
func (a *Activities) CheckRoles(ctx context.Context, lease Lease) (RoleHealth, error) {
	if err := a.holds(lease); err != nil {
		return RoleHealth{}, err
	}
	a.mu.Lock()
	roles := append([]roleEngine(nil), a.roles...)
	a.mu.Unlock()
	var h RoleHealth
	for _, r := range roles {
		if !r.engine.Running(ctx) {
			h.Dead = append(h.Dead, r.name)
		}
	}
	return h, nil
}

// roleEngine is one rank (or whole deployment) a gang runs on this node.
type roleEngine struct {
	name   string
	engine *launch.Engine
}

// deploymentServes checks, before a deployment's point with failed
// requests is committed, that its frontend still says every worker
// serves: requests failed because a worker died are the node's fault
// and the point is retried on a new gang, where a committed row could not
// be replaced.
func deploymentServes(ctx context.Context, in LoadInput, s loadgen.Summary) error {
	if len(in.Gang) == 0 || s.Failed == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(in.Engine.BaseURL, "/")+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("a worker of the deployment stopped serving during the load\n%d/%d requests failed; frontend health: %v",
		s.Failed, s.Failed+s.Completed, err), ErrNodeFault, nil)
}
