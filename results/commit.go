package results

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/infersweep/infersweep/loadgen"
)

// MeasuredPoint is what one attempt measured of a point, ready for the
// lake. Row's SweepID, Runner and PointID say where its files go.
type MeasuredPoint struct {
	Date    string
	Row     PointRow
	Records []loadgen.Record
	Metrics *loadgen.ScrapedMetrics // nil when the engine's were not scraped
	// Evals are the point's eval rows; NoLoad marks an eval-only point,
	// which has no requests. Staged: StagePoint wrote the load's tables.
	Evals  []EvalRow
	NoLoad bool
	Staged bool
}

// CommitPoint writes a measured point write-once, its points row last:
// that row's presence is the commit. A conflict means an earlier attempt
// of the point got there first. If it committed (its worker died before
// reporting), its measurement stands and is returned with adopted true;
// this one is dropped. If it died before its commit, what it left was
// never part of the lake and is overwritten.
func (l *Lake) CommitPoint(ctx context.Context, m MeasuredPoint) (mp ManifestPoint, adopted bool, err error) {
	files, err := m.files()
	if err != nil {
		return ManifestPoint{}, false, err
	}
	mp, adopted, err = l.commit(ctx, m.Date, m.Row, files)
	if err == nil && !adopted && m.Staged {
		for _, table := range m.loadTables() {
			mp.Keys[table] = TableKey(table, m.Date, m.Row.Runner, m.Row.SweepID, m.Row.PointID)
		}
	}
	return mp, adopted, err
}

// CommitUnmeasured writes the points row of a point that produced no
// measurement (failed or skipped), so every planned point is in the lake
// once. If an attempt counted as failed had committed a measurement after
// all (its worker died before reporting), that one stands: adopted.
func (l *Lake) CommitUnmeasured(ctx context.Context, date string, row PointRow) (mp ManifestPoint, adopted bool, err error) {
	points, err := Encode([]PointRow{row}, nil)
	if err != nil {
		return ManifestPoint{}, false, err
	}
	return l.commit(ctx, date, row, []tableFile{{TablePoints, points}})
}

// commit writes files in order, the points row last, adopting what an
// earlier attempt committed (CommitPoint).
func (l *Lake) commit(ctx context.Context, date string, row PointRow, files []tableFile) (mp ManifestPoint, adopted bool, err error) {
	mp = ManifestPoint{PointID: row.PointID, Hardware: row.Runner, Status: row.Status, Keys: make(map[string]string, len(files))}
	for _, f := range files {
		key := TableKey(f.table, date, row.Runner, row.SweepID, row.PointID)
		err := retryWrite(ctx, func() error { return l.PutOnce(ctx, key, f.data, parquetType) })
		if errors.Is(err, ErrWriteOnce) {
			committed, cerr := l.Committed(ctx, date, row.Runner, row.SweepID, row.PointID)
			switch {
			case cerr == nil:
				return committed, true, nil
			case errors.Is(cerr, ErrNotFound) && f.table != TablePoints:
				err = retryWrite(ctx, func() error { return l.store.Put(ctx, key, f.data, parquetType) })
			default:
				return ManifestPoint{}, false, fmt.Errorf("an earlier attempt's files are in the way of %s and its points row is unreadable: %w", key, cerr)
			}
		}
		if err != nil {
			return ManifestPoint{}, false, err
		}
		mp.Keys[f.table] = key
	}
	return mp, false, nil
}

type tableFile struct {
	table string
	data  []byte
}

// files are m's tables encoded, in the order they are written: the
// load's (unless staged), the evals, the points row last.
func (m MeasuredPoint) files() ([]tableFile, error) {
	var files []tableFile
	if !m.Staged {
		load, err := m.loadFiles()
		if err != nil {
			return nil, err
		}
		files = load
	}
	if len(m.Evals) > 0 {
		data, err := Encode(m.Evals, nil)
		if err != nil {
			return nil, err
		}
		files = append(files, tableFile{TableEvals, data})
	}
	points, err := Encode([]PointRow{m.Row}, nil)
	if err != nil {
		return nil, err
	}
	return append(files, tableFile{TablePoints, points}), nil
}

// loadTables are the tables m's load writes.
func (m MeasuredPoint) loadTables() []string {
	var tables []string
	if !m.NoLoad {
		tables = append(tables, TableRequests)
	}
	if m.Metrics != nil && len(m.Metrics.Samples) > 0 {
		tables = append(tables, TableServerMetrics)
	}
	return tables
}

// loadFiles are the load's tables encoded: requests and server metrics.
func (m MeasuredPoint) loadFiles() ([]tableFile, error) {
	var files []tableFile
	id := m.Row.PointID
	for _, table := range m.loadTables() {
		var data []byte
		var err error
		if table == TableRequests {
			data, err = Encode(RequestRows(id, m.Records), func(a, b RequestRow) int { return cmp.Compare(a.Index, b.Index) })
		} else {
			samples := make([]ServerMetricRow, len(m.Metrics.Samples))
			for i, s := range m.Metrics.Samples {
				samples[i] = ServerMetricRow{PointID: id, TimeMs: float64(s.T) / float64(time.Millisecond), Name: s.Name, Value: s.Value}
			}
			data, err = Encode(samples, nil)
		}
		if err != nil {
			return nil, err
		}
		files = append(files, tableFile{table, data})
	}
	return files, nil
}

const parquetType = "application/vnd.apache.parquet"

// writeBudget bounds how long a measured point waits for the lake. The
// load cannot be retried on its own (its engine is gone by then), so an
// S3 outage that outlasts the client's own retries is waited out here
// rather than failing the point as if its node were at fault.
const writeBudget = 2 * time.Minute

// retryWrite retries an idempotent write with backoff until it succeeds,
// the budget ends or the write can never succeed.
func retryWrite(ctx context.Context, write func() error) error {
	deadline := time.Now().Add(writeBudget)
	wait := 500 * time.Millisecond
	for {
		err := write()
		if err == nil || errors.Is(err, ErrWriteOnce) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 4*time.Second)
	}
}
