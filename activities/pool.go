package activities

import (
	"context"
	"fmt"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// A pool reads its points a page at a time and writes what became of them
// in manifest parts, so that no payload grows with the sweep.

// PoolPageInput asks for points From..From+Limit of one pool, in run order.
type PoolPageInput struct {
	PlanKey string
	Runner  string
	From    int
	Limit   int
}

// PoolPage is one page of a pool's points in run order (sweep.RunOrder).
// A page never spans the canaries' end: they finish before the rest start.
type PoolPage struct {
	ConfigDigest string
	Total        int // the pool's points
	Canaries     int // how many lead the run order
	Points       []sweep.Point
}

// LoadPoolPage reads one page of a pool's points from the stored plan;
// with Limit 0, only how many there are.
func (a *Activities) LoadPoolPage(ctx context.Context, in PoolPageInput) (PoolPage, error) {
	pool, err := a.plans.pool(ctx, a.Lake, in.PlanKey, in.Runner)
	if err != nil {
		return PoolPage{}, err
	}
	if in.From < 0 || in.Limit < 0 {
		return PoolPage{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("page %d+%d of pool %s: out of range", in.From, in.Limit, in.Runner), ErrConfig, nil)
	}
	end := min(in.From+in.Limit, len(pool.points))
	if in.From < pool.canaries {
		end = min(end, pool.canaries)
	}
	page := PoolPage{ConfigDigest: pool.digest, Total: len(pool.points), Canaries: pool.canaries}
	if in.From < end {
		page.Points = pool.points[in.From:end]
	}
	return page, nil
}

// ManifestPartInput is one part of a pool's share of the manifest.
type ManifestPartInput struct {
	SweepID  string
	Date     string
	Runner   string
	Part     int
	Outcomes []results.Outcome
}

// WriteManifestPart commits one part, write-once like every lake object.
func (a *Activities) WriteManifestPart(ctx context.Context, in ManifestPartInput) error {
	return a.Lake.PutManifestPart(ctx, in.Date, in.SweepID, in.Runner, in.Part, in.Outcomes)
}

// NodeFaultsInput is what was charged to a pool's nodes.
type NodeFaultsInput struct {
	SweepID string
	Date    string
	Runner  string
	Faults  map[string][]string // node → lines
}

// WriteNodeFaults keeps what a pool charged to its nodes in the lake.
func (a *Activities) WriteNodeFaults(ctx context.Context, in NodeFaultsInput) error {
	return a.Lake.PutNodeFaults(ctx, in.Date, in.SweepID, in.Runner, in.Faults)
}

// poolOrder is one pool's points in run order.
type poolOrder struct {
	digest   string
	points   []sweep.Point
	canaries int
}

// planCache keeps the pools of recently read plans: a plan is write-once,
// and a pool reads its own some forty times a night, a page at a time.
type planCache struct {
	mu    sync.Mutex
	order []string // keys, oldest first
	pools map[string]poolOrder
}

// cachedPools bounds the cache: a worker serves few sweeps at once.
const cachedPools = 16

func (c *planCache) pool(ctx context.Context, lake *results.Lake, planKey, runner string) (poolOrder, error) {
	key := planKey + "\x00" + runner
	c.mu.Lock()
	p, ok := c.pools[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	plan, err := readPlan(ctx, lake, planKey)
	if err != nil {
		return poolOrder{}, err
	}
	p = poolOrder{digest: plan.ConfigDigest}
	p.points, p.canaries = sweep.RunOrder(plan.Pool(runner))

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pools == nil {
		c.pools = map[string]poolOrder{}
	}
	if _, ok := c.pools[key]; !ok {
		c.order = append(c.order, key)
		if len(c.order) > cachedPools {
			delete(c.pools, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.pools[key] = p
	return p, nil
}
