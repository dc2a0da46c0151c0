package results

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTablePointIDsListsOneSweepAcrossPartitions(t *testing.T) {
	ctx := context.Background()
	lake := NewLake(embeddedStore(t))
	writePoint(t, lake, "2026-11-27", "sim-h100", "s1", "p1")
	writePoint(t, lake, "2026-11-27", "sim-mi355x", "s1", "p2")
	writePoint(t, lake, "2026-11-27", "sim-mi355x", "s1", "p1") // the same point in a second partition
	writePoint(t, lake, "2026-11-27", "sim-h100", "s10", "p3")  // a sweep whose id starts the same
	writePoint(t, lake, "2026-11-28", "sim-h100", "s1", "p4")   // another night

	ids, err := lake.TablePointIDs(ctx, TablePoints, "2026-11-27", "s1")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"p1", "p1", "p2"}, ids)
}
