package results

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// PutManifestPart writes one part, write-once: a retried write of the
// same outcomes succeeds, different ones are refused.
func (l *Lake) PutManifestPart(ctx context.Context, date, sweepID, hardware string, part int, outcomes []Outcome) error {
	points := make([]ManifestPoint, len(outcomes))
	for i, o := range outcomes {
		points[i] = ManifestPoint{PointID: o.PointID, Hardware: hardware, Status: o.Status, Keys: map[string]string{}}
		for _, table := range o.Tables {
			points[i].Keys[table] = TableKey(table, date, hardware, sweepID, o.PointID)
		}
	}
	body, err := json.Marshal(points)
	if err != nil {
		return err
	}
	return l.PutOnce(ctx, ManifestPartKey(date, sweepID, hardware, part), body, "application/json")
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
