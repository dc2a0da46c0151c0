package analysis

import (
	"sort"
)

// Point is one measured configuration on a throughput–latency plane: X is
// the "better when higher" latency axis (interactivity, tok/s/user), Y the
// throughput per GPU. ID ties it back to its row.
type Point struct {
	ID string
	X  float64
	Y  float64
	// Launch is the fingerprint of the engine launch that measured it;
	// "" before recipes.
	Launch string
	// Deployment and Topology name a multinode point's deployment (its
	// id, and its roles as results.PointRow's Topology reads); "" for
	// single-node points.
	Deployment string `json:",omitempty"`
	Topology   string `json:",omitempty"`
}

// Frontier returns the Pareto-optimal points (no other point has X and Y
// both at least as high and one higher), ordered by X ascending, so Y
// descends along it. Duplicates of a frontier point keep the first.
func Frontier(points []Point) []Point {
	sorted := append([]Point(nil), points...)
	// Highest X first; among equal X, highest Y first.
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].X != sorted[j].X {
			return sorted[i].X > sorted[j].X
		}
		return sorted[i].Y > sorted[j].Y
	})
	var front []Point
	bestY := 0.0
	for i, p := range sorted {
		if i == 0 || p.Y > bestY {
			if len(front) > 0 && front[len(front)-1].X == p.X {
				continue // same X, lower or equal Y: dominated
			}
			front = append(front, p)
			bestY = p.Y
		}
	}
	// Ascending X.
	for i, j := 0, len(front)-1; i < j; i, j = i+1, j-1 {
		front[i], front[j] = front[j], front[i]
	}
	return front
}

// Dominates tells whether a is at least as good as b on both axes and
// better on one.
func Dominates(a, b Point) bool {
	return a.X >= b.X && a.Y >= b.Y && (a.X > b.X || a.Y > b.Y)
}

// LatencyFrontier is the Pareto frontier when X is a latency (lower is
// better), such as median end-to-end latency: ordered by X ascending, so
// throughput rises along it.
func LatencyFrontier(points []Point) []Point {
	flipped := make([]Point, len(points))
	for i, p := range points {
		flipped[i] = Point{ID: p.ID, X: -p.X, Y: p.Y}
	}
	front := Frontier(flipped)
	out := make([]Point, len(front))
	for i, p := range front {
		out[len(front)-1-i] = Point{ID: p.ID, X: -p.X, Y: p.Y}
	}
	return out
}
