package results

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Export writes a committed sweep to dir/<sweep>: its point rows as
// points.csv or points.json, or with format "parquet" every table's files
// as <table>/<point>.parquet. It returns how many points (or files) it
// wrote and where.
func (l *Lake) Export(ctx context.Context, sweepID, format, dir string, done func(files, total int)) (n int, where string, err error) {
	if format != "parquet" && format != "csv" && format != "json" {
		return 0, "", fmt.Errorf("format %q: want parquet, csv or json", format)
	}
	m, err := l.Manifest(ctx, sweepID)
	if err != nil {
		return 0, "", err
	}
	target := filepath.Join(dir, m.SweepID)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return 0, "", err
	}
	if format == "parquet" {
		n, err := l.DownloadSweep(ctx, m, func(table, pointID, _ string) string {
			return filepath.Join(target, table, pointID+".parquet")
		}, done)
		return n, target, err
	}
	points, err := l.Points(ctx, m)
	if err != nil {
		return 0, "", err
	}
	path := filepath.Join(target, "points."+format)
	if err := writeRows(path, format, points); err != nil {
		return 0, "", err
	}
	// Eval scores go beside the points, evals.csv or evals.json, when the
	// sweep has any.
	evals, err := l.Evals(ctx, m)
	if err != nil {
		return 0, "", err
	}
	if len(evals) > 0 {
		if err := writeRows(filepath.Join(target, "evals."+format), format, evals); err != nil {
			return 0, "", err
		}
	}
	return len(points), path, nil
}

func writeRows[T any](path, format string, rows []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if format == "json" {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		err = enc.Encode(rows)
	} else {
		err = WriteCSV(f, rows)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
