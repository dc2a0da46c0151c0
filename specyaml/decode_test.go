package specyaml

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type limits struct {
	Name    string            `yaml:"name"`
	Max     *int              `yaml:"max"`
	Timeout time.Duration     `yaml:"timeout"`
	Tags    []string          `yaml:"tags"`
	Env     map[string]string `yaml:"env"`
	Skipped string            `yaml:"-"`
}

func TestDecodeReportsEveryProblemAtItsNode(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
		wantNode   map[string]int // path → line Nodes.Of finds
	}{
		{"good", "name: a\nmax: 3\ntimeout: 5m\ntags: [x]\nenv: {A: b}\n", nil,
			map[string]int{"tags[0]": 4, "env.A": 5, "env.B": 5, "missing": 1}},
		{"every problem at once", "name: [a]\nmax: lots\ntimeout: 5\ntags: x\nenv: {A: b, A: c}\nskipped: y\n", []string{
			"f.yaml:1:7: name: got a list, want a string",
			`f.yaml:2:6: max: got "lots", want a whole number`,
			`f.yaml:3:10: timeout: got "5", want a duration like 10m or 6h`,
			`f.yaml:4:7: tags: got "x", want a list`,
			"f.yaml:5:13: env.A: duplicate key (first at line 5)",
			"f.yaml:6:1: skipped: unknown field (want one of name, max, timeout, tags, env)",
		}, map[string]int{"max": 2}},
		{"not a mapping", "- a\n", []string{"f.yaml:1:1: got a list, want a mapping"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs Errors
			r := Reporter{File: "f.yaml", Errs: &errs}
			var got limits
			nodes := r.Decode(r.Document([]byte(tt.yaml)), "", &got)
			if tt.want == nil {
				require.NoError(t, errs.Err())
			} else {
				require.EqualError(t, errs.Err(), strings.Join(tt.want, "\n"))
			}
			for path, line := range tt.wantNode {
				require.Equal(t, line, nodes.Of(path).Line, path)
			}
		})
	}
}

func TestDecodeKeepsDefaults(t *testing.T) {
	var errs Errors
	r := Reporter{File: "f.yaml", Errs: &errs}
	three := 3
	got := limits{Name: "default", Max: &three, Env: map[string]string{"KEEP": "1"}}
	r.Decode(r.Document([]byte("max: ~\nenv: {A: b}\n")), "", &got)
	require.NoError(t, errs.Err())
	require.Equal(t, limits{Name: "default", Env: map[string]string{"KEEP": "1", "A": "b"}}, got, "null clears a pointer; maps merge")
}
