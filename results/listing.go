package results

import (
	"context"
	"fmt"
	"strings"
)

// TablePointIDs lists the points of one sweep that have a file in table,
// across every hardware partition of its night: the objects themselves,
// not what the manifest says, so a checker can compare the two. A point
// written under two partitions is listed twice.
func (l *Lake) TablePointIDs(ctx context.Context, table, date, sweepID string) ([]string, error) {
	prefix := fmt.Sprintf("%s/%s/dt=%s/", layoutVersion, table, date)
	objects, err := l.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	var ids []string
	for _, o := range objects {
		// hardware=<label>/sweep=<id>/<point-id>.parquet, as TableKey writes.
		parts := strings.Split(strings.TrimPrefix(o.Key, prefix), "/")
		if len(parts) == 3 && strings.HasPrefix(parts[0], "hardware=") && parts[1] == "sweep="+sweepID && strings.HasSuffix(parts[2], ".parquet") {
			ids = append(ids, strings.TrimSuffix(parts[2], ".parquet"))
		}
	}
	return ids, nil
}
