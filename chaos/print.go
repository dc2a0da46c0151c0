package chaos

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Print writes the report as a table: a column per run, a row per
// promise, fault kind and error class.
func Print(out io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	c, b := rep.Chaos, rep.Baseline
	row := func(name string, chaos, baseline any) {
		if b == nil {
			fmt.Fprintf(tw, "  %s\t%v\n", name, chaos)
			return
		}
		fmt.Fprintf(tw, "  %s\t%v\t%v\n", name, chaos, baseline)
	}
	base := b
	if b == nil {
		base = &Run{}
		fmt.Fprintf(tw, "chaos run (seed %d)\n", rep.Options.Seed)
	} else {
		fmt.Fprintf(tw, "chaos run (seed %d)\twith faults\tfault-free\n", rep.Options.Seed)
	}
	row("points planned", c.Planned, base.Planned)
	row("landed once", c.Landed, base.Landed)
	row("duplicated", c.Duplicated, base.Duplicated)
	row("lost", c.Lost, base.Lost)
	for _, status := range []string{"succeeded", "failed", "skipped"} {
		row("  "+status, c.ByStatus[status], base.ByStatus[status])
	}
	for _, class := range slices.Sorted(maps.Keys(c.ByErrorClass)) {
		row("  error class "+class, c.ByErrorClass[class], base.ByErrorClass[class])
	}
	for _, r := range topReasons(c.Reasons, 5) {
		row(fmt.Sprintf("    %4d ×", c.Reasons[r]), r, "")
	}
	row("engines leaked", c.EnginesLeaked, base.EnginesLeaked)
	row("worker panics", c.Panics, base.Panics)
	row("point retries", c.Retries, base.Retries)
	for _, kind := range FaultKinds {
		row("faults: "+kind, c.Faults[kind], base.Faults[kind])
	}
	row("quarantined nodes", quarantined(c.Quarantined), quarantined(base.Quarantined))
	for _, outcome := range slices.Sorted(maps.Keys(c.BrokenEntry)) {
		row("broken entry "+brokenEntry+": "+outcome, c.BrokenEntry[outcome], base.BrokenEntry[outcome])
	}
	row("pools with every node quarantined", len(c.PoolsDown), len(base.PoolsDown))
	row("wall time", c.Wall.Round(100*time.Millisecond), base.Wall.Round(100*time.Millisecond))
	if rep.WallRatio > 0 {
		row("wall time vs fault-free", fmt.Sprintf("%.2f× (want ≤ %.1f×)", rep.WallRatio, maxWallRatio), "")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, pool := range c.PoolsDown {
		for _, node := range slices.Sorted(maps.Keys(c.NodeFaults[pool])) {
			for _, line := range c.NodeFaults[pool][node] {
				fmt.Fprintf(out, "  %s %s: %s\n", pool, node, line)
			}
		}
	}
	if len(rep.Problems()) == 0 {
		_, err := fmt.Fprintln(out, "every promise held: 0 lost, 0 duplicated, 0 leaked, 0 panics, every fault kind injected, the broken entry blamed on its engine, no node charged for it or for a restart")
		return err
	}
	return nil
}

// topReasons are the n most frequent reasons, ties in name order.
func topReasons(reasons map[string]int, n int) []string {
	keys := slices.Collect(maps.Keys(reasons))
	slices.SortFunc(keys, func(a, b string) int {
		if reasons[a] != reasons[b] {
			return reasons[b] - reasons[a]
		}
		return strings.Compare(a, b)
	})
	return keys[:min(len(keys), n)]
}

// quarantined lists pools' quarantined nodes, or "none".
func quarantined(byPool map[string][]string) string {
	var parts []string
	for _, pool := range slices.Sorted(maps.Keys(byPool)) {
		parts = append(parts, pool+": "+strings.Join(byPool[pool], ","))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}
