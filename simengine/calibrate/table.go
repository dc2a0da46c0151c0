// Package calibrate holds the simulated engine to published results: it
// runs simengine.Predict over the search space upstream's master configs
// give a model on a hardware, takes the Pareto frontier, reads it at the
// published interactivities with a monotone (Steffen) spline and reports
// the error per point; Fit tunes the calibration's per-hardware and
// per-framework efficiencies to shrink that error.
//
// The spline and the frontier are package analysis's (analysis imports
// neither simengine nor this package, so there is no cycle): a simulated
// curve is read exactly as a measured one is on the report.
package calibrate

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// Table is the published results file (simengine/testdata/published.yaml).
type Table struct {
	Source string   `yaml:"source"`
	Note   string   `yaml:"note"`
	Series []Series `yaml:"series"`
}

// Series is one published curve: a model at a precision on a hardware,
// read at a few interactivities.
type Series struct {
	Hardware  string `yaml:"hardware"`
	Model     string `yaml:"model"`
	Prefix    string `yaml:"model-prefix"`
	Precision string `yaml:"precision"`
	// Framework picks upstream entries by framework family; "" takes
	// every non-speculative entry (the dashboard's best-of view).
	Framework string `yaml:"framework"`
	ISL       int    `yaml:"isl"`
	OSL       int    `yaml:"osl"`
	// Points are [interactivity tok/s/user, total tok/s/GPU] pairs.
	Points [][2]float64 `yaml:"points"`
}

// Name is how reports label the series.
func (s Series) Name() string {
	return fmt.Sprintf("%s %s %s %s", s.Hardware, s.Model, s.Precision, seqName(s.ISL, s.OSL))
}

func seqName(isl, osl int) string {
	k := func(n int) string {
		if n%1024 == 0 {
			return fmt.Sprintf("%dk", n/1024)
		}
		return fmt.Sprint(n)
	}
	return k(isl) + "/" + k(osl)
}

// LoadTable reads and checks a published table.
func LoadTable(path string) (Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Table{}, err
	}
	var t Table
	if err := yaml.Unmarshal(data, &t); err != nil {
		return Table{}, fmt.Errorf("%s: %w", path, err)
	}
	for i, s := range t.Series {
		switch {
		case s.Hardware == "" || s.Model == "" || s.Prefix == "" || s.Precision == "":
			return t, fmt.Errorf("%s: series[%d]: hardware, model, model-prefix and precision are required", path, i)
		case s.ISL <= 0 || s.OSL <= 0:
			return t, fmt.Errorf("%s: series[%d] (%s): isl and osl must be positive", path, i, s.Name())
		case len(s.Points) == 0:
			return t, fmt.Errorf("%s: series[%d] (%s): no points", path, i, s.Name())
		}
	}
	return t, nil
}
