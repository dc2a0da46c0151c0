package sweep

import (
	"fmt"
	"testing"
)

func TestRunOrder(t *testing.T) {
	points := func(spec ...any) []Point {
		var out []Point
		for i := 0; i < len(spec); i += 2 {
			entry, conc := spec[i].(string), spec[i+1].(int)
			out = append(out, Point{ID: fmt.Sprintf("%s-c%d", entry, conc), Entry: entry, Conc: conc})
		}
		return out
	}
	deployment := func(entry, id string, concs ...int) []Point {
		var out []Point
		for _, c := range concs {
			out = append(out, Point{ID: fmt.Sprintf("%s-%s-c%d", entry, id, c), Entry: entry, Conc: c, DeploymentID: id})
		}
		return out
	}
	tests := []struct {
		name     string
		in       []Point
		want     []string
		canaries int
	}{
		{"lowest concurrency leads its entry", points("x", 16, "x", 4, "x", 8, "y", 2), []string{"x-c4", "y-c2", "x-c16", "x-c8"}, 2},
		{"a tie keeps the first", points("x", 4, "x", 4, "y", 1), []string{"x-c4", "y-c1", "x-c4"}, 2},
		{"one point per entry: all canaries", points("a", 1, "b", 1), []string{"a-c1", "b-c1"}, 2},
		{"nothing", nil, nil, 0},
		{
			"a deployment's points stay together, the entry's first deployment its canary",
			append(deployment("m", "d1", 4, 8), append(points("x", 2), deployment("m", "d2", 8, 16)...)...),
			[]string{"m-d1-c4", "m-d1-c8", "x-c2", "m-d2-c8", "m-d2-c16"}, 3,
		},
		{
			"the deployment holding the lowest concurrency leads",
			append(deployment("m", "d1", 4, 8), deployment("m", "d2", 1, 16)...),
			[]string{"m-d2-c1", "m-d2-c16", "m-d1-c4", "m-d1-c8"}, 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, canaries := RunOrder(tc.in)
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) || canaries != tc.canaries {
				t.Fatalf("RunOrder = %v, %d canaries; want %v, %d", ids, canaries, tc.want, tc.canaries)
			}
		})
	}
}
