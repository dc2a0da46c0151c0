package sweep

import (
	"encoding/json"
	"fmt"
)

// StoredPlan is a planned sweep as the lake keeps it: pools read their
// points from it, --changed-since compares with it, and the chaos harness
// counts what should have landed.
type StoredPlan struct {
	SweepID      string   `json:"sweep_id"`
	Date         string   `json:"date"`
	ConfigDigest string   `json:"config_digest"`
	Points       []Point  `json:"points"`
	Settings     Settings `json:"settings"`
}

// ReadStoredPlan decodes a plan written as a StoredPlan; name says which
// one in the error.
func ReadStoredPlan(name string, data []byte) (StoredPlan, error) {
	var p StoredPlan
	if err := json.Unmarshal(data, &p); err != nil {
		return StoredPlan{}, fmt.Errorf("plan %s: %w", name, err)
	}
	return p, nil
}

// Pool is the plan's points of one runner label, in plan order.
func (p StoredPlan) Pool(runner string) []Point {
	var out []Point
	for _, pt := range p.Points {
		if pt.Runner == runner {
			out = append(out, pt)
		}
	}
	return out
}
