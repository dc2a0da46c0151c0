package results

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"
)

// A pool commits its share of a sweep's manifest in parts, a few hundred
// points each, as it goes: what the manifest lists then never travels
// through a workflow payload, however large the night.

// Outcome is how one point ended, without its object keys: those derive
// from ids (TableKey), so a pool need not carry them.
type Outcome struct {
	PointID string
	Status  string
	// Tables are the tables holding a file of the point.
	Tables []string `json:",omitempty"`
}

// OutcomeOf is mp without its keys.
func OutcomeOf(mp ManifestPoint) Outcome {
	out := Outcome{PointID: mp.PointID, Status: mp.Status}
	for table := range mp.Keys {
		out.Tables = append(out.Tables, table)
	}
	slices.Sort(out.Tables)
	return out
}

// ManifestPartKey is one part of one pool's share of a sweep's manifest.
func ManifestPartKey(date, sweepID, hardware string, part int) string {
	return fmt.Sprintf("%s/parts/dt=%s/sweep=%s/hardware=%s/part-%05d.json", layoutVersion, date, sweepID, hardware, part)
}

// PointPartKey holds the points rows of one manifest part.
func PointPartKey(date, sweepID, hardware string, part int) string {
	return fmt.Sprintf("%s/parts/dt=%s/sweep=%s/hardware=%s/part-%05d.parquet", layoutVersion, date, sweepID, hardware, part)
}

// PutManifestPart writes one part, write-once: a retried write of the
// same outcomes succeeds, different ones are refused. Before it, the
// part's points rows go into one file (PointPartKey), so that whoever
// reads the sweep's points reads a file a part, not one a point.
func (l *Lake) PutManifestPart(ctx context.Context, date, sweepID, hardware string, part int, outcomes []Outcome) error {
	points := make([]ManifestPoint, len(outcomes))
	for i, o := range outcomes {
		points[i] = ManifestPoint{PointID: o.PointID, Hardware: hardware, Status: o.Status, Keys: map[string]string{}}
		for _, table := range o.Tables {
			points[i].Keys[table] = TableKey(table, date, hardware, sweepID, o.PointID)
		}
	}
	rows, err := l.pointsOf(ctx, points)
	if err != nil {
		return err
	}
	data, err := Encode(rows, comparePoints)
	if err != nil {
		return err
	}
	// Write-once too: a retry encodes the same rows to the same bytes, and
	// a part that conflicts must not replace what the first one wrote.
	if err := l.PutOnce(ctx, PointPartKey(date, sweepID, hardware, part), data, parquetType); err != nil {
		return err
	}
	body, err := json.Marshal(points)
	if err != nil {
		return err
	}
	return l.PutOnce(ctx, ManifestPartKey(date, sweepID, hardware, part), body, "application/json")
}

// comparePoints orders points rows as a manifest lists its points.
func comparePoints(a, b PointRow) int {
	return cmp.Or(cmp.Compare(a.Runner, b.Runner), cmp.Compare(a.PointID, b.PointID))
}

// partPoints reads the points rows of a sweep's manifest parts.
func (l *Lake) partPoints(ctx context.Context, keys []string) ([]PointRow, error) {
	perPart := make([][]PointRow, len(keys))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(pointReaders)
	for i, key := range keys {
		g.Go(func() (err error) {
			perPart[i], err = readTable[PointRow](ctx, l.store, key)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rows := slices.Concat(perPart...)
	slices.SortFunc(rows, comparePoints)
	return rows, nil
}

// checkListed makes sure every file a manifest lists exists before it
// commits them: its point parts when it has them (a part was written from
// its points rows, and a point's other files precede its row), else every
// point's every file.
func (l *Lake) checkListed(ctx context.Context, m Manifest) error {
	if len(m.PointParts) > 0 {
		for _, key := range m.PointParts {
			if _, err := l.store.Size(ctx, key); err != nil {
				return fmt.Errorf("manifest of sweep %s lists points part %s: %w", m.SweepID, key, err)
			}
		}
		return nil
	}
	for _, p := range m.Points {
		for table, key := range p.Keys {
			if _, err := l.store.Size(ctx, key); err != nil {
				return fmt.Errorf("manifest of sweep %s lists %s file %s: %w", m.SweepID, table, key, err)
			}
		}
	}
	return nil
}

// ManifestParts reads parts 0..parts-1 of one pool's share of a sweep.
func (l *Lake) ManifestParts(ctx context.Context, date, sweepID, hardware string, parts int) ([]ManifestPoint, error) {
	var out []ManifestPoint
	for part := range parts {
		key := ManifestPartKey(date, sweepID, hardware, part)
		body, err := l.store.Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("manifest part %s: %w", key, err)
		}
		var points []ManifestPoint
		if err := json.Unmarshal(body, &points); err != nil {
			return nil, fmt.Errorf("manifest part s3://%s/%s: %w", l.store.Bucket(), key, err)
		}
		out = append(out, points...)
	}
	return out, nil
}

// NodeFaultsKey is where a pool leaves what was charged to its nodes.
func NodeFaultsKey(date, sweepID, hardware string) string {
	return fmt.Sprintf("%s/parts/dt=%s/sweep=%s/hardware=%s/node-faults.json", layoutVersion, date, sweepID, hardware)
}

// PutNodeFaults writes, once, the faults charged to a pool's nodes in a
// sweep (node → one line each, withdrawn and released ones marked so):
// why a node was quarantined outlives the workflow that decided it.
func (l *Lake) PutNodeFaults(ctx context.Context, date, sweepID, hardware string, faults map[string][]string) error {
	body, err := json.Marshal(faults)
	if err != nil {
		return err
	}
	return l.PutOnce(ctx, NodeFaultsKey(date, sweepID, hardware), body, "application/json")
}

// NodeFaults reads what PutNodeFaults wrote; nil when the pool's nodes
// had no faults.
func (l *Lake) NodeFaults(ctx context.Context, date, sweepID, hardware string) (map[string][]string, error) {
	key := NodeFaultsKey(date, sweepID, hardware)
	body, err := l.store.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var faults map[string][]string
	if err := json.Unmarshal(body, &faults); err != nil {
		return nil, fmt.Errorf("node faults s3://%s/%s: %w", l.store.Bucket(), key, err)
	}
	return faults, nil
}
