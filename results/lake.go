package results

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Lake is the results layout on S3 (see the design doc): Hive partitions
// dt=YYYY-MM-DD/hardware=<label>, one file per point per table, write-once
// keys, and a manifest per sweep written last.
type Lake struct {
	store *Store
}

// NewLake reads and writes the lake in store's bucket.
func NewLake(store *Store) *Lake { return &Lake{store: store} }

// Store is the lake's object store.
func (l *Lake) Store() *Store { return l.store }

const layoutVersion = "v1"

// Tables of the lake.
const (
	TablePoints        = "points"
	TableRequests      = "requests"
	TableServerMetrics = "server_metrics"
	// Analysis tables, one file per sweep.
	TableFrontiers   = "frontiers"
	TableRegressions = "regressions"
)

// PlanKey is where a sweep's plan lives.
func PlanKey(date, sweepID string) string {
	return fmt.Sprintf("%s/plans/dt=%s/sweep=%s/plan.json", layoutVersion, date, sweepID)
}

// TableKey is one point's file in one table.
func TableKey(table, date, hardware, sweepID, pointID string) string {
	return fmt.Sprintf("%s/%s/dt=%s/hardware=%s/sweep=%s/%s.parquet", layoutVersion, table, date, hardware, sweepID, pointID)
}

// AnalysisKey is one analysis table of a sweep.
func AnalysisKey(date, sweepID, table string) string {
	return fmt.Sprintf("%s/analysis/dt=%s/sweep=%s/%s.parquet", layoutVersion, date, sweepID, table)
}

// LakeRefPrefix marks a spec file name that is a key in the lake.
const LakeRefPrefix = "lake:"

// SpecKey is where a spec file is kept by the sha256 of its bytes, so a
// schedule (and the sweeps it starts) always names exactly one content.
func SpecKey(digest string) string {
	return fmt.Sprintf("%s/specs/%s.yaml", layoutVersion, digest)
}

// SpecDigest is the sha256 a spec file is kept and named by.
func SpecDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// PutSpec keeps a spec file in the lake by content and returns the name a
// worker reads it by ("lake:v1/specs/<sha256>.yaml") and its digest.
func (l *Lake) PutSpec(ctx context.Context, data []byte) (ref, digest string, err error) {
	digest = SpecDigest(data)
	key := SpecKey(digest)
	if err := l.PutOnce(ctx, key, data, "application/yaml"); err != nil {
		return "", "", err
	}
	return LakeRefPrefix + key, digest, nil
}

// ReportKey is a sweep's self-contained HTML report.
func ReportKey(date, sweepID string) string {
	return fmt.Sprintf("%s/reports/dt=%s/sweep=%s/index.html", layoutVersion, date, sweepID)
}

// AlertKey marks a sweep's alert as delivered, holding what was sent.
func AlertKey(date, sweepID string) string {
	return fmt.Sprintf("%s/alerts/dt=%s/sweep=%s.json", layoutVersion, date, sweepID)
}

// NoticeKey marks a notification of one kind as sent for a sweep: one
// message per sweep per kind, whatever retries and watchdogs repeat.
func NoticeKey(date, sweepID, kind string) string {
	return fmt.Sprintf("%s/alerts/dt=%s/sweep=%s/%s.json", layoutVersion, date, sweepID, kind)
}

// LogKey is where the end of a point's engine log is kept, per attempt.
func LogKey(date, hardware, sweepID, pointID string, attempt int) string {
	return fmt.Sprintf("%s/logs/dt=%s/hardware=%s/sweep=%s/%s-%d.log", layoutVersion, date, hardware, sweepID, pointID, attempt)
}

// ManifestKey is a sweep's commit marker.
func ManifestKey(date, sweepID string) string {
	return fmt.Sprintf("%s/manifests/dt=%s/sweep=%s.json", layoutVersion, date, sweepID)
}

// PutOnce writes body to key unless it is already there. Writing the same
// bytes again (a retried activity) succeeds; different bytes are an error
// naming the key and both digests: one point, one result.
func (l *Lake) PutOnce(ctx context.Context, key string, body []byte, contentType string) error {
	err := l.store.PutIfAbsent(ctx, key, body, contentType)
	if !errors.Is(err, ErrExists) {
		return err
	}
	existing, getErr := l.store.Get(ctx, key)
	if getErr != nil {
		return getErr
	}
	if bytes.Equal(existing, body) {
		return nil
	}
	return fmt.Errorf("s3://%s/%s already holds different content (sha256 %s there, %s now): %w", l.store.Bucket(), key, digest(existing), digest(body), ErrWriteOnce)
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ErrWriteOnce is returned when a key already holds other bytes: retrying
// cannot help.
var ErrWriteOnce = errors.New("results are write-once")

// Manifest commits a sweep: readers see a sweep only once it exists.
type Manifest struct {
	SweepID   string          `json:"sweep_id"`
	Date      string          `json:"date"`
	Status    string          `json:"status"` // complete, partial (some points failed or were skipped)
	WrittenAt time.Time       `json:"written_at"`
	Counts    map[string]int  `json:"counts"` // points by status
	Points    []ManifestPoint `json:"points"`
	// Quarantined lists, per runner label, the nodes taken out of the
	// sweep after repeated faults.
	Quarantined map[string][]string `json:"quarantined,omitempty"`
	// PointParts are the sweep's points rows a few hundred to a file,
	// written with the pools' manifest parts: read instead of one file a
	// point. Empty for sweeps whose pools did not write parts.
	PointParts []string `json:"point_parts,omitempty"`
	// NodeFaults are, per runner label and node, the faults charged
	// tonight: why a node was quarantined, or why it nearly was.
	NodeFaults map[string]map[string][]string `json:"node_faults,omitempty"`
}

// ManifestPoint lists one point's outcome and objects.
type ManifestPoint struct {
	PointID  string            `json:"point_id"`
	Hardware string            `json:"hardware"`
	Status   string            `json:"status"`
	Keys     map[string]string `json:"keys"` // table → object key
}

// WriteManifest commits a sweep, after every file it lists exists.
func (l *Lake) WriteManifest(ctx context.Context, m Manifest) error {
	if err := l.checkListed(ctx, m); err != nil {
		return err
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	key := ManifestKey(m.Date, m.SweepID)
	err = l.store.PutIfAbsent(ctx, key, body, "application/json")
	if !errors.Is(err, ErrExists) {
		return err
	}
	// A retried commit writes the same manifest at a later time: the
	// commit already happened. Any other difference is a conflict.
	existing, err := l.ManifestOf(ctx, SweepRef{SweepID: m.SweepID, Date: m.Date})
	if err != nil {
		return err
	}
	existing.WrittenAt = m.WrittenAt
	again, err := json.MarshalIndent(existing, "", "  ")
	if err != nil {
		return err
	}
	if !bytes.Equal(again, body) {
		return fmt.Errorf("s3://%s/%s already commits sweep %s with other points: results are write-once", l.store.Bucket(), key, m.SweepID)
	}
	return nil
}

// SweepRef names a sweep found in the lake.
type SweepRef struct {
	SweepID string `json:"sweep_id"`
	Date    string `json:"date"`
	// Committed is false for a sweep with a plan but no manifest yet:
	// running, or interrupted.
	Committed bool `json:"committed"`
}

// Sweeps lists sweeps dated from..to (YYYY-MM-DD, inclusive; empty means
// unbounded), committed ones only unless includeRunning.
func (l *Lake) Sweeps(ctx context.Context, from, to string, includeRunning bool) ([]SweepRef, error) {
	seen := map[string]SweepRef{}
	scan := func(prefix string, committed bool, parse func(key string) (date, sweep string, ok bool)) error {
		startAfter := ""
		if from != "" {
			// Keys sort by date after dt=: start just before the first day.
			startAfter = prefix + "dt=" + from
		}
		objects, err := l.store.ListAfter(ctx, prefix, startAfter)
		if err != nil {
			return err
		}
		for _, o := range objects {
			date, sweep, ok := parse(strings.TrimPrefix(o.Key, prefix))
			if !ok || (from != "" && date < from) || (to != "" && date > to) {
				continue
			}
			if _, dup := seen[sweep]; !dup || committed {
				seen[sweep] = SweepRef{SweepID: sweep, Date: date, Committed: committed}
			}
		}
		return nil
	}
	if includeRunning {
		if err := scan(layoutVersion+"/plans/", false, parsePlanKey); err != nil {
			return nil, err
		}
	}
	if err := scan(layoutVersion+"/manifests/", true, parseManifestKey); err != nil {
		return nil, err
	}
	refs := make([]SweepRef, 0, len(seen))
	for _, r := range seen {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].Date != refs[j].Date {
			return refs[i].Date < refs[j].Date
		}
		return refs[i].SweepID < refs[j].SweepID
	})
	return refs, nil
}

func parseManifestKey(rest string) (string, string, bool) {
	// dt=2026-11-27/sweep=<id>.json
	dt, file, ok := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(dt, "dt=") || !strings.HasPrefix(file, "sweep=") || !strings.HasSuffix(file, ".json") {
		return "", "", false
	}
	return strings.TrimPrefix(dt, "dt="), strings.TrimSuffix(strings.TrimPrefix(file, "sweep="), ".json"), true
}

func parsePlanKey(rest string) (string, string, bool) {
	// dt=2026-11-27/sweep=<id>/plan.json
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "dt=") || !strings.HasPrefix(parts[1], "sweep=") || parts[2] != "plan.json" {
		return "", "", false
	}
	return strings.TrimPrefix(parts[0], "dt="), strings.TrimPrefix(parts[1], "sweep="), true
}

// ErrNoSweep is returned for a sweep id without a manifest.
var ErrNoSweep = errors.New("no committed sweep")

// Manifest reads a committed sweep's manifest.
func (l *Lake) Manifest(ctx context.Context, sweepID string) (Manifest, error) {
	refs, err := l.Sweeps(ctx, "", "", false)
	if err != nil {
		return Manifest{}, err
	}
	for _, r := range refs {
		if r.SweepID == sweepID {
			return l.ManifestOf(ctx, r)
		}
	}
	return Manifest{}, fmt.Errorf("%w %q", ErrNoSweep, sweepID)
}

// ManifestOf reads the manifest of a sweep already listed, without
// listing the lake again.
func (l *Lake) ManifestOf(ctx context.Context, ref SweepRef) (Manifest, error) {
	body, err := l.store.Get(ctx, ManifestKey(ref.Date, ref.SweepID))
	if err != nil {
		return Manifest{}, err
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return Manifest{}, fmt.Errorf("manifest of sweep %s: %w", ref.SweepID, err)
	}
	return m, nil
}

// Points reads every point row a manifest lists.
func (l *Lake) Points(ctx context.Context, m Manifest) ([]PointRow, error) {
	if len(m.PointParts) > 0 {
		return l.partPoints(ctx, m.PointParts)
	}
	return l.pointsOf(ctx, m.Points)
}

// Committed is the manifest entry of a point whose points row is already
// in the lake: an earlier attempt measured or recorded it and only its
// report to the workflow was lost. ErrNotFound when there is none, as
// when the earlier attempt died before its points row, the commit.
func (l *Lake) Committed(ctx context.Context, date, hardware, sweepID, pointID string) (ManifestPoint, error) {
	row, key, err := l.pointRow(ctx, date, hardware, sweepID, pointID)
	if err != nil {
		return ManifestPoint{}, err
	}
	mp := ManifestPoint{PointID: pointID, Hardware: hardware, Status: row.Status, Keys: map[string]string{TablePoints: key}}
	for _, table := range []string{TableRequests, TableServerMetrics, TableEvals} {
		other := TableKey(table, date, hardware, sweepID, pointID)
		if _, err := l.store.Size(ctx, other); err == nil {
			mp.Keys[table] = other
		} else if !errors.Is(err, ErrNotFound) {
			return ManifestPoint{}, err
		}
	}
	return mp, nil
}

// pointsOf reads the points rows of points, in their order.
func (l *Lake) pointsOf(ctx context.Context, points []ManifestPoint) ([]PointRow, error) {
	// One small object per point: fetched in parallel, since a sweep of
	// thousands read one GET at a time waits out thousands of round trips.
	perPoint := make([][]PointRow, len(points))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(pointReaders)
	for i, p := range points {
		key, ok := p.Keys[TablePoints]
		if !ok {
			continue
		}
		g.Go(func() error {
			got, err := readTable[PointRow](ctx, l.store, key)
			perPoint[i] = got
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(perPoint...), nil
}

// pointReaders bounds the GETs Points has in flight.
const pointReaders = 16

// PointsBetween reads the point rows of every committed sweep dated
// from..to (YYYY-MM-DD, inclusive).
func (l *Lake) PointsBetween(ctx context.Context, from, to string) ([]PointRow, error) {
	refs, err := l.Sweeps(ctx, from, to, false)
	if err != nil {
		return nil, err
	}
	var rows []PointRow
	for _, r := range refs {
		m, err := l.ManifestOf(ctx, r)
		if err != nil {
			return nil, err
		}
		got, err := l.Points(ctx, m)
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
	}
	return rows, nil
}

// SweepPoints reads a committed sweep's manifest and every point row it lists.
func (l *Lake) SweepPoints(ctx context.Context, sweepID string) (Manifest, []PointRow, error) {
	m, err := l.Manifest(ctx, sweepID)
	if err != nil {
		return Manifest{}, nil, err
	}
	rows, err := l.Points(ctx, m)
	return m, rows, err
}

// Frontiers reads the frontiers a sweep's analysis stored; ErrNotFound
// when it was never analysed.
func (l *Lake) Frontiers(ctx context.Context, ref SweepRef) ([]FrontierRow, error) {
	return readTable[FrontierRow](ctx, l.store, AnalysisKey(ref.Date, ref.SweepID, TableFrontiers))
}

// Regressions reads the regressions a sweep's analysis stored.
func (l *Lake) Regressions(ctx context.Context, ref SweepRef) ([]RegressionRow, error) {
	return readTable[RegressionRow](ctx, l.store, AnalysisKey(ref.Date, ref.SweepID, TableRegressions))
}

// RequestTPOT reads one column of a point's requests file, the per-request
// TPOT in ms, through ranged GETs: the ITL lists, most of the file, are
// never fetched. Requests without a TPOT (one output token) are skipped.
func (l *Lake) RequestTPOT(ctx context.Context, key string) ([]float64, error) {
	ranged, err := l.store.OpenRange(ctx, key)
	if err != nil {
		return nil, err
	}
	values, err := Float32Column(ranged, ranged.Size(), "tpot_ms")
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", l.store.Bucket(), key, err)
	}
	return values, nil
}

// Requests reads one point's request rows.
func (l *Lake) Requests(ctx context.Context, key string) ([]RequestRow, error) {
	return readTable[RequestRow](ctx, l.store, key)
}

func readTable[T any](ctx context.Context, store *Store, key string) ([]T, error) {
	body, err := store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	rows, err := Decode[T](bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", store.Bucket(), key, err)
	}
	return rows, nil
}

// RangeReader is an io.ReaderAt over ranged GETs, so a Parquet reader that
// wants four columns fetches those columns' bytes and the footer, not the
// file. It counts requests and bytes to show it.
type RangeReader struct {
	ctx   context.Context
	store *Store
	key   string
	size  int64
	Gets  atomic.Int64
	Bytes atomic.Int64
}

// OpenRange prepares ranged reads of key.
func (s *Store) OpenRange(ctx context.Context, key string) (*RangeReader, error) {
	size, err := s.Size(ctx, key)
	if err != nil {
		return nil, err
	}
	return &RangeReader{ctx: ctx, store: s, key: key, size: size}, nil
}

// Size is the object's length.
func (r *RangeReader) Size() int64 { return r.size }

// ReadAt fetches exactly the requested bytes.
func (r *RangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.size-off)
	body, err := r.store.GetRange(r.ctx, r.key, off, n)
	if err != nil {
		return 0, err
	}
	r.Gets.Add(1)
	r.Bytes.Add(int64(len(body)))
	copied := copy(p, body)
	if copied < len(p) {
		return copied, io.EOF
	}
	return copied, nil
}
