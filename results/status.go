package results

import (
	"context"
	"fmt"
)

// PointOutcome is how one point of a committed sweep ended, and the
// fingerprint of the engine launch that ran it, read from its points row, a one-row file whose key derives from ids (TableKey):
// ErrNotFound when the sweep has no such point. A reader that needs a
// few points of an earlier sweep asks here instead of reading the
// sweep's manifest, which lists every point and runs to megabytes.
func (l *Lake) PointOutcome(ctx context.Context, date, hardware, sweepID, pointID string) (status, launch string, err error) {
	row, _, err := l.pointRow(ctx, date, hardware, sweepID, pointID)
	return row.Status, row.LaunchFingerprint, err
}

// pointRow reads a point's one-row points file, and gives its key.
func (l *Lake) pointRow(ctx context.Context, date, hardware, sweepID, pointID string) (PointRow, string, error) {
	key := TableKey(TablePoints, date, hardware, sweepID, pointID)
	rows, err := readTable[PointRow](ctx, l.store, key)
	if err != nil {
		return PointRow{}, key, err
	}
	if len(rows) != 1 {
		return PointRow{}, key, fmt.Errorf("s3://%s/%s holds %d rows, want 1", l.store.Bucket(), key, len(rows))
	}
	return rows[0], key, nil
}
