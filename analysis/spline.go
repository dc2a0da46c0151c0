package analysis

import (
	"errors"
	"math"
	"sort"
)

// Spline is a monotone cubic through knots (Steffen 1990): between two
// knots it never overshoots them, so throughput interpolated along a
// frontier stays between its measured neighbours, as InferenceMAX's TCO
// view requires.
type Spline struct {
	x, y, slope []float64
}

// ErrTooFewKnots is returned for fewer than two distinct knots.
var ErrTooFewKnots = errors.New("a spline needs at least two points with distinct x")

// NewSteffen fits the spline; points may come in any order, and points
// sharing an x keep the highest y (a frontier has one per x anyway).
func NewSteffen(points []Point) (*Spline, error) {
	sorted := append([]Point(nil), points...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].X != sorted[j].X {
			return sorted[i].X < sorted[j].X
		}
		return sorted[i].Y > sorted[j].Y
	})
	s := &Spline{}
	for i, p := range sorted {
		if i > 0 && p.X == sorted[i-1].X {
			continue
		}
		s.x, s.y = append(s.x, p.X), append(s.y, p.Y)
	}
	n := len(s.x)
	if n < 2 {
		return nil, ErrTooFewKnots
	}
	h := make([]float64, n-1)
	d := make([]float64, n-1) // secant slopes
	for i := range h {
		h[i] = s.x[i+1] - s.x[i]
		d[i] = (s.y[i+1] - s.y[i]) / h[i]
	}
	s.slope = make([]float64, n)
	for i := 1; i < n-1; i++ {
		p := (d[i-1]*h[i] + d[i]*h[i-1]) / (h[i-1] + h[i])
		s.slope[i] = (sign(d[i-1]) + sign(d[i])) * math.Min(math.Min(math.Abs(d[i-1]), math.Abs(d[i])), 0.5*math.Abs(p))
	}
	// Ends: Steffen's one-sided rule, limited so the end segment stays monotone.
	s.slope[0] = endSlope(d[0], h, d, true)
	s.slope[n-1] = endSlope(d[n-2], h, d, false)
	return s, nil
}

func endSlope(secant float64, h, d []float64, first bool) float64 {
	if len(d) == 1 {
		return secant
	}
	var p float64
	if first {
		p = d[0]*(1+h[0]/(h[0]+h[1])) - d[1]*h[0]/(h[0]+h[1])
	} else {
		n := len(d)
		p = d[n-1]*(1+h[n-1]/(h[n-1]+h[n-2])) - d[n-2]*h[n-1]/(h[n-1]+h[n-2])
	}
	switch {
	case p*secant <= 0:
		return 0
	case math.Abs(p) > 2*math.Abs(secant):
		return 2 * secant
	}
	return p
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// At evaluates the spline at x; outside the knots it answers false: a
// frontier says nothing beyond what was measured.
func (s *Spline) At(x float64) (float64, bool) {
	n := len(s.x)
	if x < s.x[0] || x > s.x[n-1] || math.IsNaN(x) {
		return 0, false
	}
	i := sort.SearchFloat64s(s.x, x)
	if i < n && s.x[i] == x {
		return s.y[i], true
	}
	i-- // x lies in (s.x[i], s.x[i+1])
	h := s.x[i+1] - s.x[i]
	t := x - s.x[i]
	d := (s.y[i+1] - s.y[i]) / h
	a := (s.slope[i] + s.slope[i+1] - 2*d) / (h * h)
	b := (3*d - 2*s.slope[i] - s.slope[i+1]) / h
	return s.y[i] + t*(s.slope[i]+t*(b+t*a)), true
}
