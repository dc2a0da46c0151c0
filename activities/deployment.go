package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/launch"
)

// A deployment's nodes each hold the gang's one lease: JoinGang claims the
// node and clears its leftovers, StartRole starts the ranks placed on it
// (several when workers share a node, the frontend on the first node),
// CheckRoles says whether they still run, and Teardown stops them all.

// RoleLauncher starts one rank of a deployment's role; backends that
// cannot run deployments do not implement it.
type RoleLauncher interface {
	StartRole(ctx context.Context, spec launch.RoleSpec) (*launch.Engine, error)
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
	return GangNode{Address: a.address()}, nil
}

// address is where other nodes reach this node's engines.
func (a *Activities) address() string {
	if a.Address == "" {
		return "127.0.0.1"
	}
	return a.Address
}

// StartRole starts one rank of a role under the gang's lease and waits
// until it serves.
func (a *Activities) StartRole(ctx context.Context, in RoleInput) (EngineInfo, error) {
	if err := a.holds(in.Lease); err != nil {
		return EngineInfo{}, err
	}
	starter, ok := a.Launcher.(RoleLauncher)
	if !ok {
		return EngineInfo{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the %T backend of node %s cannot start deployments", a.Launcher, a.Node), ErrConfig, nil)
	}
	name := launch.EngineName(fmt.Sprintf("%s/%s/%s-%d-%d", a.Node, in.Lease.LeaseID, in.Role, in.Worker, in.Rank))
	stopBeat := heartbeatEvery(ctx, 2*time.Second, "starting "+in.Role)
	engine, err := starter.StartRole(ctx, launch.RoleSpec{
		Spec: launch.Spec{Point: in.Point, Name: name, Node: a.Node, Lease: in.Lease.LeaseID, TimeScale: in.TimeScale, ExtraArgs: in.Engine.Args, Env: in.Engine.Env},
		Role: in.Role, Worker: in.Worker, Rank: in.Rank, Nodes: in.Nodes, MasterAddr: in.MasterAddr,
		PrefillURLs: in.PrefillURLs, DecodeURLs: in.DecodeURLs, WorkerURLs: in.WorkerURLs,
	})
	stopBeat()
	if err != nil {
		var start *launch.StartError
		if errors.As(err, &start) && start.Kind == launch.ConfigFailure {
			return EngineInfo{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrConfig, nil)
		}
		return EngineInfo{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrNodeFault, nil)
	}
	a.mu.Lock()
	held := a.lease == in.Lease.LeaseID
	if held {
		a.roles = append(a.roles, roleEngine{name: fmt.Sprintf("%s/%d/%d", in.Role, in.Worker, in.Rank), engine: engine})
	}
	a.mu.Unlock()
	if !held {
		_, _ = engine.Stop(context.WithoutCancel(ctx))
		return EngineInfo{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("lease %s was released while its %s started; it is stopped", in.Lease.LeaseID, in.Role), ErrNodeFault, nil)
	}
	a.logger().Info("role ready", "lease", in.Lease.LeaseID, "role", in.Role, "worker", in.Worker, "rank", in.Rank, "url", engine.BaseURL)
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

// roleEngine is one rank a gang runs on this node.
type roleEngine struct {
	name   string
	engine *launch.Engine
}
