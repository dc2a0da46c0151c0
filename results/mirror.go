package results

import (
	"context"
	"os"
	"path/filepath"
)

// Download writes one object to a local file, making its directory.
func (l *Lake) Download(ctx context.Context, key, dest string) error {
	body, err := l.store.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dest, body, 0o644)
}

// DownloadSweep writes every file a manifest lists where dest says and
// returns how many it wrote.
func (l *Lake) DownloadSweep(ctx context.Context, m Manifest, dest func(table, pointID, key string) string) (int, error) {
	n := 0
	for _, p := range m.Points {
		for table, key := range p.Keys {
			if err := l.Download(ctx, key, dest(table, p.PointID, key)); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Pull mirrors the committed sweeps of the dates from..to (empty: no
// bound) into dir under the lake's own keys, manifests included (and
// counted), so
// DuckDB, Spark or pandas read them offline.
func (l *Lake) Pull(ctx context.Context, dir, from, to string) (sweeps, files int, err error) {
	refs, err := l.Sweeps(ctx, from, to, false)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range refs {
		n, err := l.PullSweep(ctx, dir, r.SweepID)
		files += n
		if err != nil {
			return sweeps, files, err
		}
		sweeps++
	}
	return sweeps, files, nil
}

// PullSweep mirrors one committed sweep into dir as Pull does and returns
// how many files it wrote.
func (l *Lake) PullSweep(ctx context.Context, dir, sweepID string) (int, error) {
	m, err := l.Manifest(ctx, sweepID)
	if err != nil {
		return 0, err
	}
	n, err := l.DownloadSweep(ctx, m, func(_, _, key string) string { return filepath.Join(dir, key) })
	if err != nil {
		return n, err
	}
	key := ManifestKey(m.Date, m.SweepID)
	return n + 1, l.Download(ctx, key, filepath.Join(dir, key))
}

// DownloadReport copies a sweep's HTML report into dir as <sweep>.html
// and returns its absolute path: the page opens from file:// after the
// store that held it is gone.
func (l *Lake) DownloadReport(ctx context.Context, m Manifest, dir string) (string, error) {
	path, err := filepath.Abs(filepath.Join(dir, m.SweepID+".html"))
	if err != nil {
		return "", err
	}
	return path, l.Download(ctx, ReportKey(m.Date, m.SweepID), path)
}
