package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Chart is a scatter/line chart laid out in SVG pixel coordinates, so the
// report's template only places shapes: no script runs in the page.
type Chart struct {
	Title          string
	XLabel, YLabel string
	Width, Height  float64
	Plot           rect // the plotting area inside the axes
	XTicks, YTicks []Tick
	Series         []ChartSeries
	Empty          string // said instead of a chart with no points
}

type rect struct{ X, Y, W, H float64 }

// Tick is an axis mark at a pixel position.
type Tick struct {
	Pos   float64
	Label string
}

// ChartSeries is one series: its marker, its points and the line through
// its frontier (or trend).
type ChartSeries struct {
	Name   string
	Color  string
	Marker string // circle, square, triangle, diamond, cross, star
	Points []ChartPoint
	Line   string // SVG path data; empty when there is nothing to join
}

// ChartPoint is one drawn point with its hover text.
type ChartPoint struct {
	X, Y  float64
	Shape string // SVG path data of the marker
	Title string
	Faded bool // dominated by the series' frontier
}

// Colours and markers distinguish series in colour and in print.
var (
	seriesColors  = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"}
	seriesMarkers = []string{"circle", "square", "triangle", "diamond", "cross", "star"}
)

// datum is a point before layout.
type datum struct {
	x, y  float64
	title string
	faded bool
}

type seriesData struct {
	name  string
	data  []datum
	line  [][2]float64 // frontier or trend, in data coordinates
	index int          // fixes colour and marker across a report's charts
}

const (
	chartWidth  = 560
	chartHeight = 340
)

func layoutChart(title, xLabel, yLabel string, series []seriesData, xFormat func(float64) string) Chart {
	c := Chart{Title: title, XLabel: xLabel, YLabel: yLabel, Width: chartWidth, Height: chartHeight,
		Plot: rect{X: 70, Y: 30, W: chartWidth - 90, H: chartHeight - 80}}
	maxX, maxY := 0.0, 0.0
	for _, s := range series {
		for _, d := range s.data {
			maxX, maxY = math.Max(maxX, d.x), math.Max(maxY, d.y)
		}
		for _, p := range s.line {
			maxX, maxY = math.Max(maxX, p[0]), math.Max(maxY, p[1])
		}
	}
	if maxX <= 0 || maxY <= 0 {
		c.Empty = "no measured points"
		return c
	}
	xTicks, xMax := niceTicks(maxX*1.04, 6)
	yTicks, yMax := niceTicks(maxY*1.06, 5)
	px := func(x float64) float64 { return round1(c.Plot.X + x/xMax*c.Plot.W) }
	py := func(y float64) float64 { return round1(c.Plot.Y + c.Plot.H - y/yMax*c.Plot.H) }
	if xFormat == nil {
		xFormat = formatTick
	}
	for _, v := range xTicks {
		c.XTicks = append(c.XTicks, Tick{px(v), xFormat(v)})
	}
	for _, v := range yTicks {
		c.YTicks = append(c.YTicks, Tick{py(v), formatTick(v)})
	}
	for _, s := range series {
		cs := ChartSeries{Name: s.name, Color: seriesColors[s.index%len(seriesColors)], Marker: seriesMarkers[s.index%len(seriesMarkers)]}
		for _, d := range s.data {
			x, y := px(d.x), py(d.y)
			cs.Points = append(cs.Points, ChartPoint{X: x, Y: y, Shape: markerPath(cs.Marker, x, y, 4.5), Title: d.title, Faded: d.faded})
		}
		var path strings.Builder
		for i, p := range s.line {
			if i == 0 {
				fmt.Fprintf(&path, "M%g %g", px(p[0]), py(p[1]))
			} else {
				fmt.Fprintf(&path, " L%g %g", px(p[0]), py(p[1]))
			}
		}
		cs.Line = path.String()
		c.Series = append(c.Series, cs)
	}
	return c
}

// markerPath draws a marker of radius r centred on (x, y).
func markerPath(kind string, x, y, r float64) string {
	f := func(v float64) string { return strconv.FormatFloat(round1(v), 'f', -1, 64) }
	switch kind {
	case "square":
		return fmt.Sprintf("M%s %sH%sV%sH%sZ", f(x-r), f(y-r), f(x+r), f(y+r), f(x-r))
	case "triangle":
		return fmt.Sprintf("M%s %sL%s %sL%s %sZ", f(x), f(y-r*1.2), f(x+r*1.1), f(y+r*0.8), f(x-r*1.1), f(y+r*0.8))
	case "diamond":
		return fmt.Sprintf("M%s %sL%s %sL%s %sL%s %sZ", f(x), f(y-r*1.3), f(x+r), f(y), f(x), f(y+r*1.3), f(x-r), f(y))
	case "cross":
		w := r * 0.4
		return fmt.Sprintf("M%s %sH%sV%sH%sV%sH%sV%sH%sV%sH%sV%sH%sZ",
			f(x-w), f(y-r), f(x+w), f(y-w), f(x+r), f(y+w), f(x+w), f(y+r), f(x-w), f(y+w), f(x-r), f(y-w), f(x-w))
	case "star":
		var b strings.Builder
		for i := range 10 {
			radius := r * 1.3
			if i%2 == 1 {
				radius = r * 0.55
			}
			a := math.Pi/2 + float64(i)*math.Pi/5
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&b, "%s%s %s", cmd, f(x+radius*math.Cos(a)), f(y-radius*math.Sin(a)))
		}
		return b.String() + "Z"
	}
	return fmt.Sprintf("M%s %sa%s %s 0 1 0 %s 0a%s %s 0 1 0 %s 0Z", f(x-r), f(y), f(r), f(r), f(2*r), f(r), f(r), f(-2*r))
}

// niceTicks returns ticks at 1, 2 or 5 × 10^k from 0 up to just past max,
// and that last tick as the axis end.
func niceTicks(max float64, want int) ([]float64, float64) {
	raw := max / float64(want)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := 0.0; ; v += step {
		v = math.Round(v/step) * step
		ticks = append(ticks, v)
		if v >= max {
			return ticks, v
		}
	}
}

func formatTick(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
