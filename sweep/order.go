package sweep

// RunOrder is the order a pool runs its points in: each entry's
// lowest-concurrency point first (a canary: a configuration error there
// skips the rest of the entry instead of failing it point by point), then
// the rest, each group in plan order. canaries is how many lead the list.
func RunOrder(points []Point) (ordered []Point, canaries int) {
	first := map[string]int{}
	for i, p := range points {
		if j, ok := first[p.Entry]; !ok || p.Conc < points[j].Conc {
			first[p.Entry] = i
		}
	}
	ordered = make([]Point, 0, len(points))
	var rest []Point
	for i, p := range points {
		if first[p.Entry] == i {
			ordered = append(ordered, p)
		} else {
			rest = append(rest, p)
		}
	}
	return append(ordered, rest...), len(first)
}
