package api

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// lru keeps the most recently used values of objects whose content never
// changes, so an entry never goes stale: it leaves only to bound memory.
// Concurrent misses of one key load it once.
type lru[V any] struct {
	mu      sync.Mutex
	limit   int
	order   *list.List // of *entry, most recent first
	entries map[string]*list.Element
	loads   singleflight.Group
}

type entry[V any] struct {
	key   string
	value V
}

func newLRU[V any](limit int) *lru[V] {
	return &lru[V]{limit: limit, order: list.New(), entries: map[string]*list.Element{}}
}

// get returns key's value, loading it on a miss. Errors are not kept: an
// analysis file missing now can be written a minute later.
func (c *lru[V]) get(key string, load func() (V, error)) (V, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.order.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*entry[V]).value, nil
	}
	c.mu.Unlock()
	v, err, _ := c.loads.Do(key, func() (any, error) {
		v, err := load()
		if err == nil {
			c.put(key, v)
		}
		return v, err
	})
	return v.(V), err
}

func (c *lru[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return
	}
	c.entries[key] = c.order.PushFront(&entry[V]{key, v})
	for c.order.Len() > c.limit {
		oldest := c.order.Remove(c.order.Back()).(*entry[V])
		delete(c.entries, oldest.key)
	}
}

// Cache sizes, in sweeps. A manifest or a points file of a 3,000-point
// sweep holds about 1 MB; frontiers and nights are a few hundred points.
const (
	manifestsCached = 64   // a report reads 30
	pointsCached    = 8    // the sweeps people are looking at (rows and JSON)
	frontiersCached = 64   // /frontiers answers
	nightsCached    = 2000 // /history over five years of nights
)

// cachedLake is the lake as the server reads it: sweeps from the index,
// and from the caches what cannot change: manifests and points files are
// write-once, and a sweep's frontiers, though its analysis file may be
// written again by a retried activity, depend only on its points. Stored
// regressions are read each time: a retry compares with the history of
// its own moment. It is an analysis.Lake, so reports built for a page
// read through the same caches.
type cachedLake struct {
	Lake
	index     *index
	maxAge    time.Duration
	manifests *lru[results.Manifest]
	points    *lru[encodedPoints]
	frontiers *lru[[]results.FrontierRow]
	nights    *lru[analysis.Night]
}

func newCachedLake(lake Lake, maxAge time.Duration) *cachedLake {
	return &cachedLake{Lake: lake, index: &index{lake: lake, now: time.Now}, maxAge: maxAge,
		manifests: newLRU[results.Manifest](manifestsCached), points: newLRU[encodedPoints](pointsCached),
		frontiers: newLRU[[]results.FrontierRow](frontiersCached), nights: newLRU[analysis.Night](nightsCached)}
}

func (c *cachedLake) Sweeps(ctx context.Context, from, to string, includeRunning bool) ([]results.SweepRef, error) {
	snap, err := c.index.get(ctx, c.maxAge)
	if err != nil {
		return nil, err
	}
	return snap.between(from, to, includeRunning), nil
}

func (c *cachedLake) ManifestOf(ctx context.Context, ref results.SweepRef) (results.Manifest, error) {
	return c.manifests.get(ref.SweepID, func() (results.Manifest, error) { return c.Lake.ManifestOf(ctx, ref) })
}

func (c *cachedLake) Points(ctx context.Context, m results.Manifest) ([]results.PointRow, error) {
	p, err := c.encodedPoints(ctx, m)
	return p.rows, err
}

// encodedPoints is a sweep's point rows and each row's JSON, encoded
// once: encoding 3,000 rows (6 MB) on every request took 25 ms and
// allocated enough for the collector to push the p99 past 150 ms.
func (c *cachedLake) encodedPoints(ctx context.Context, m results.Manifest) (encodedPoints, error) {
	return c.points.get(m.SweepID, func() (encodedPoints, error) {
		rows, err := c.Lake.Points(ctx, m)
		if err != nil {
			return encodedPoints{}, err
		}
		p := encodedPoints{rows: rows, json: make([][]byte, len(rows))}
		for i := range rows {
			if p.json[i], err = json.MarshalIndent(rows[i], arrayIndent, arrayIndent); err != nil {
				return encodedPoints{}, fmt.Errorf("encode point %s: %w", rows[i].PointID, err)
			}
		}
		return p, nil
	})
}

type encodedPoints struct {
	rows []results.PointRow
	json [][]byte
}

func (c *cachedLake) Frontiers(ctx context.Context, ref results.SweepRef) ([]results.FrontierRow, error) {
	return c.frontiers.get(ref.SweepID, func() ([]results.FrontierRow, error) { return c.Lake.Frontiers(ctx, ref) })
}

// night is a committed sweep's frontiers as /history reads them.
func (c *cachedLake) night(ctx context.Context, ref results.SweepRef, opt analysis.Options) (analysis.Night, error) {
	return c.nights.get(ref.SweepID, func() (analysis.Night, error) { return analysis.ReadNight(ctx, c, ref, opt) })
}
