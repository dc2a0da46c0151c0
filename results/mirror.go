package results

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Download writes one object to a local file, making its directory. The
// file appears whole or not at all (written aside, then renamed), so an
// interrupted mirror never leaves a truncated file that looks done.
func (l *Lake) Download(ctx context.Context, key, dest string) error {
	body, err := l.store.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

// DownloadSweep writes every file a manifest lists where dest says,
// pointReaders at a time (a night is thousands of small objects, each a
// round trip), and returns how many it wrote. done, when set, is called
// after each file with the files written so far and the sweep's total,
// never from two goroutines at once.
func (l *Lake) DownloadSweep(ctx context.Context, m Manifest, dest func(table, pointID, key string) string, done func(files, total int)) (int, error) {
	total := 0
	for _, p := range m.Points {
		total += len(p.Keys)
	}
	var mu sync.Mutex
	n := 0
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(pointReaders)
	for _, p := range m.Points {
		for table, key := range p.Keys {
			g.Go(func() error {
				if err := l.Download(ctx, key, dest(table, p.PointID, key)); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				n++
				if done != nil {
					done(n, total)
				}
				return nil
			})
		}
	}
	err := g.Wait()
	return n, err
}

// PullResult counts what a pull found and wrote.
type PullResult struct {
	Sweeps  int `json:"sweeps"`           // committed sweeps in the date range
	Skipped int `json:"already_mirrored"` // of them, mirrored whole by an earlier pull
	Files   int `json:"files"`            // files written, manifests included
}

// PullProgress is where a pull is: sweeps done of the range's, and files
// written of the current sweep's.
type PullProgress struct {
	SweepsDone, Sweeps int
	SweepID            string
	Files, SweepFiles  int
}

// Pull mirrors the committed sweeps of the dates from..to (empty: no
// bound) into dir under the lake's own keys, manifests included (and
// counted), so DuckDB, Spark or pandas read them offline. A sweep's
// manifest is written last, so one already in dir marks a sweep mirrored
// whole by an earlier pull; since the lake is write-once, it is skipped,
// and a nightly pull fetches only the new nights. progress, when set, is
// called as files land.
func (l *Lake) Pull(ctx context.Context, dir, from, to string, progress func(PullProgress)) (PullResult, error) {
	refs, err := l.Sweeps(ctx, from, to, false)
	if err != nil {
		return PullResult{}, err
	}
	res := PullResult{Sweeps: len(refs)}
	for i, r := range refs {
		if _, err := os.Stat(filepath.Join(dir, ManifestKey(r.Date, r.SweepID))); err == nil {
			res.Skipped++
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return res, err
		}
		var done func(files, total int)
		if progress != nil {
			done = func(files, total int) {
				progress(PullProgress{SweepsDone: i, Sweeps: len(refs), SweepID: r.SweepID, Files: files, SweepFiles: total})
			}
		}
		n, err := l.pullSweep(ctx, dir, r.SweepID, done)
		res.Files += n
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// PullSweep mirrors one committed sweep into dir as Pull does and returns
// how many files it wrote.
func (l *Lake) PullSweep(ctx context.Context, dir, sweepID string) (int, error) {
	return l.pullSweep(ctx, dir, sweepID, nil)
}

func (l *Lake) pullSweep(ctx context.Context, dir, sweepID string, done func(files, total int)) (int, error) {
	m, err := l.Manifest(ctx, sweepID)
	if err != nil {
		return 0, err
	}
	n, err := l.DownloadSweep(ctx, m, func(_, _, key string) string { return filepath.Join(dir, key) }, done)
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
