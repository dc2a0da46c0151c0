package sweep

// RunOrder is the order a pool runs its points in: each entry's
// lowest-concurrency point first (a canary: a configuration error there
// skips the rest of the entry instead of failing it point by point), then
// the rest, each group in plan order. A multinode deployment's points stay
// together, in plan order: the deployment serves them one after another,
// and the entry's canary is its first deployment whole. canaries is how
// many points lead the list.
func RunOrder(points []Point) (ordered []Point, canaries int) {
	first := map[string]int{}
	for i, p := range points {
		if j, ok := first[p.Entry]; !ok || p.Conc < points[j].Conc {
			first[p.Entry] = i
		}
	}
	canary := func(i int) bool {
		c := points[first[points[i].Entry]]
		if c.DeploymentID != "" {
			return points[i].DeploymentID == c.DeploymentID
		}
		return first[points[i].Entry] == i
	}
	ordered = make([]Point, 0, len(points))
	var rest []Point
	for i, p := range points {
		if canary(i) {
			ordered = append(ordered, p)
		} else {
			rest = append(rest, p)
		}
	}
	return append(ordered, rest...), len(ordered)
}
