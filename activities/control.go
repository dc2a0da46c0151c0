package activities

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/recipes"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/sweep"
)

// PlanSweep validates and expands the spec files and stores the plan.
func (a *Activities) PlanSweep(ctx context.Context, in PlanInput) (PlanOutput, error) {
	// The id and date become object keys: refuse what could leave the
	// sweep's prefix, whoever started the workflow.
	if err := checkSweepName(in.SweepID, in.Date); err != nil {
		return PlanOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrConfig, nil)
	}
	read := a.specReader(ctx)
	launches := recipes.Attach
	if in.Simulate {
		launches = recipes.AttachSimulated
	}
	upstream := ""
	if in.Upstream != "" {
		var err error
		if read, err = results.UpstreamReader(in.Upstream, read); err != nil {
			return PlanOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrConfig, nil)
		}
		upstream = results.UpstreamRoot
	}
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: in.Masters, Runners: in.Runners, Settings: in.Settings, ReadFile: read,
		Recipes: in.Recipes, Launches: launches, Upstream: upstream}, in.Filters)
	if err != nil {
		var errs sweep.Errors
		if errors.As(err, &errs) {
			return PlanOutput{}, temporal.NewNonRetryableApplicationError("the sweep spec is invalid:\n"+err.Error(), ErrConfig, nil)
		}
		return PlanOutput{}, err
	}
	if in.ChangedSince != "" || in.ChangedSinceLastOf != "" {
		seen, err := a.earlierPointIDs(ctx, in, read)
		if err != nil {
			return PlanOutput{}, err
		}
		plan.Without(seen)
	}
	digest, err := configDigest(append(append(append([]string{}, in.Masters...), in.Runners, in.Settings, in.Filters.Changelog.File, in.Upstream), in.Recipes...), read)
	if err != nil {
		return PlanOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrConfig, nil)
	}
	body, err := json.Marshal(sweep.StoredPlan{SweepID: in.SweepID, Date: in.Date, ConfigDigest: digest, Points: plan.Points, Settings: plan.Settings})
	if err != nil {
		return PlanOutput{}, err
	}
	key := results.PlanKey(in.Date, in.SweepID)
	if err := a.Lake.PutOnce(ctx, key, body, "application/json"); err != nil {
		return PlanOutput{}, err
	}
	out := PlanOutput{PlanKey: key, Total: len(plan.Points), Settings: plan.Settings}
	labels := make([]string, 0, len(plan.Counts.ByRunner))
	for label := range plan.Counts.ByRunner {
		labels = append(labels, label)
	}
	slices.Sort(labels)
	for _, pool := range labels {
		// Points and counts name pools; runners.yaml and settings name
		// labels (cluster:<name> is pool cluster.<name>).
		nodes := plan.Runners.Labels[sweep.RunnerLabel(pool)]
		capacity := len(nodes)
		if c := plan.Settings.Pools[sweep.RunnerLabel(pool)].Capacity; c > 0 {
			capacity = c
		} else if c := plan.Settings.Pools[pool].Capacity; c > 0 {
			capacity = c
		}
		out.Runners = append(out.Runners, RunnerPlan{Label: pool, Points: plan.Counts.ByRunner[pool], Capacity: max(capacity, 1), Nodes: len(nodes), NodeNames: nodes})
	}
	for _, p := range plan.Points {
		out.Models = appendUnique(out.Models, p.Model)
		out.Frameworks = appendUnique(out.Frameworks, p.Framework)
		out.Precisions = appendUnique(out.Precisions, p.Precision)
	}
	return out, nil
}

// checkSweepName validates what names a sweep in the lake.
func checkSweepName(sweepID, date string) error {
	if err := sweep.CheckName("sweep id", sweepID); err != nil {
		return err
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return fmt.Errorf("sweep date %q: want YYYY-MM-DD", date)
	}
	return nil
}

// specReader reads spec files from this worker's disk, or from the lake
// for names written "lake:<key>" (schedules upload their specs there, so
// any control worker can plan a scheduled sweep).
func (a *Activities) specReader(ctx context.Context) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if key, ok := strings.CutPrefix(name, results.LakeRefPrefix); ok {
			return a.Lake.Store().Get(ctx, key)
		}
		return os.ReadFile(name)
	}
}

// legacyPreviousSweepOf, followed by a schedule id, is how schedules
// applied before PlanInput.ChangedSinceLastOf existed ask for that
// schedule's previous sweep in ChangedSince. Temporal keeps a schedule's
// action as it was written, so those still arrive in this form until the
// schedule is next updated.
const legacyPreviousSweepOf = "previous-sweep-of:"

// changedSinceSchedule is the schedule whose previous sweep is the
// baseline, in either form; "" when the baseline is a sweep or a spec.
func (in PlanInput) changedSinceSchedule() string {
	if in.ChangedSinceLastOf != "" {
		return in.ChangedSinceLastOf
	}
	schedule, _ := strings.CutPrefix(in.ChangedSince, legacyPreviousSweepOf)
	if schedule == in.ChangedSince {
		return ""
	}
	return schedule
}

// earlierPointIDs are the point ids of the baseline: a schedule's
// previous committed sweep, or the sweep or spec named by
// in.ChangedSince (a sweep's stored plan, or a spec digest expanded with
// this sweep's runners, settings and filters).
func (a *Activities) earlierPointIDs(ctx context.Context, in PlanInput, read func(string) ([]byte, error)) (map[string]bool, error) {
	seen := map[string]bool{}
	refs, err := a.Lake.Sweeps(ctx, "", "", true)
	if err != nil {
		return nil, err
	}
	earlier := in.ChangedSince
	if schedule := in.changedSinceSchedule(); schedule != "" {
		// Scheduled sweep ids sort by nominal time within a schedule.
		earlier = ""
		for _, r := range refs {
			if r.Committed && strings.HasPrefix(r.SweepID, schedule+"-") && r.SweepID < in.SweepID && r.SweepID > earlier {
				earlier = r.SweepID
			}
		}
		if earlier == "" {
			return seen, nil // the schedule's first sweep plans everything
		}
	}
	for _, r := range refs {
		if r.SweepID != earlier {
			continue
		}
		body, err := a.Lake.Store().Get(ctx, results.PlanKey(r.Date, r.SweepID))
		if err != nil {
			return nil, err
		}
		stored, err := sweep.ReadStoredPlan(r.SweepID, body)
		if err != nil {
			return nil, err
		}
		for _, p := range stored.Points {
			seen[p.RunKey()] = true
		}
		return seen, nil
	}
	key := results.SpecKey(in.ChangedSince)
	if _, err := a.Lake.Store().Size(ctx, key); err != nil {
		if errors.Is(err, results.ErrNotFound) {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("--changed-since %s: neither a sweep nor a spec digest in the lake (specs live under v1/specs/)", in.ChangedSince), ErrConfig, nil)
		}
		return nil, err
	}
	plan, err := sweep.LoadPlan(sweep.Sources{Masters: []string{results.LakeRefPrefix + key}, Runners: in.Runners, Settings: in.Settings, ReadFile: read,
		Recipes: in.Recipes, Launches: recipes.Attach}, in.Filters)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("--changed-since %s: the earlier spec does not plan: %v", in.ChangedSince, err), ErrConfig, nil)
	}
	for _, p := range plan.Points {
		seen[p.RunKey()] = true
	}
	return seen, nil
}

func appendUnique(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// configDigest fingerprints the files a sweep was planned from, so every
// result can name the exact config that produced it.
func configDigest(paths []string, read func(string) ([]byte, error)) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		if p == "" {
			continue
		}
		data, err := read(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// RunnerPoints is one pool's points and the sweep's config digest.
type RunnerPoints struct {
	ConfigDigest string
	Points       []sweep.Point
}

// LoadRunnerPoints reads one runner label's points from a stored plan:
// the whole pool at once, for pools started before they paged.
func (a *Activities) LoadRunnerPoints(ctx context.Context, planKey, runner string) (RunnerPoints, error) {
	plan, err := readPlan(ctx, a.Lake, planKey)
	if err != nil {
		return RunnerPoints{}, err
	}
	return RunnerPoints{ConfigDigest: plan.ConfigDigest, Points: plan.Pool(runner)}, nil
}

func readPlan(ctx context.Context, lake *results.Lake, planKey string) (sweep.StoredPlan, error) {
	body, err := lake.Store().Get(ctx, planKey)
	if err != nil {
		return sweep.StoredPlan{}, err
	}
	plan, err := sweep.ReadStoredPlan(planKey, body)
	if err != nil {
		return sweep.StoredPlan{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrConfig, nil)
	}
	return plan, nil
}

// RecordFailure writes a points row for a point that produced no
// measurement, so every planned point is in the lake exactly once.
func (a *Activities) RecordFailure(ctx context.Context, in FailureInput) (results.ManifestPoint, error) {
	row := a.pointRow(in.SweepID, in.Point, in.Node, in.Attempts, "")
	row.Status, row.ErrorClass, row.Error = in.Status, in.ErrorClass, in.Error
	at := in.At
	if at.IsZero() { // sweeps started before the workflow passed the time
		at = time.Now().UTC()
	}
	row.Start, row.End = at, at
	mp, adopted, err := a.Lake.CommitUnmeasured(ctx, in.Date, row)
	if err != nil {
		return results.ManifestPoint{}, err
	}
	if adopted {
		a.logger().Warn("point found measured by an attempt whose report was lost", "sweep", in.SweepID, "point", in.Point.ID, "status", mp.Status)
		return mp, nil
	}
	a.metrics().PointFinished(in.Point.Runner, in.Status)
	a.logger().Warn("point recorded without a measurement", "sweep", in.SweepID, "point", in.Point.ID, "node", in.Node,
		"status", in.Status, "error_class", in.ErrorClass, "attempts", in.Attempts)
	return mp, nil
}

// WriteManifest commits the sweep.
func (a *Activities) WriteManifest(ctx context.Context, in ManifestInput) (string, error) {
	m := results.Manifest{SweepID: in.SweepID, Date: in.Date, Status: "complete", WrittenAt: time.Now().UTC(), Counts: map[string]int{}, Points: in.Points, Quarantined: in.Quarantined}
	for _, pool := range in.Pools {
		points, err := a.Lake.ManifestParts(ctx, in.Date, in.SweepID, pool.Runner, pool.Parts)
		if err != nil {
			return "", err
		}
		m.Points = append(m.Points, points...)
		for part := range pool.Parts {
			m.PointParts = append(m.PointParts, results.PointPartKey(in.Date, in.SweepID, pool.Runner, part))
		}
		faults, err := a.Lake.NodeFaults(ctx, in.Date, in.SweepID, pool.Runner)
		if err != nil {
			return "", err
		}
		if faults != nil {
			if m.NodeFaults == nil {
				m.NodeFaults = map[string]map[string][]string{}
			}
			m.NodeFaults[pool.Runner] = faults
		}
	}
	for _, p := range m.Points {
		m.Counts[p.Status]++
		if p.Status != "succeeded" {
			m.Status = "partial"
		}
	}
	slices.SortFunc(m.Points, func(x, y results.ManifestPoint) int {
		return cmp.Or(cmp.Compare(x.Hardware, y.Hardware), cmp.Compare(x.PointID, y.PointID))
	})
	if err := a.Lake.WriteManifest(ctx, m); err != nil {
		return "", err
	}
	for pool, nodes := range in.Quarantined {
		a.metrics().NodesQuarantined(pool, len(nodes))
	}
	return results.ManifestKey(in.Date, in.SweepID), nil
}

const parquetType = "application/vnd.apache.parquet"

// AnalyzeSweep analyses the committed sweep against the ones before it and
// stores the analysis tables (frontiers, regressions) and the HTML report.
// They are derived data: a rerun with other prices or history may
// overwrite them, unlike the measurements. It returns the frontiers key.
func (a *Activities) AnalyzeSweep(ctx context.Context, in AnalyzeInput) (string, error) {
	rep, err := analysis.Build(ctx, a.Lake, in.SweepID, analysis.Options{Costs: in.Costs, Tier: analysis.Tier(in.Analysis.Tier),
		Targets: in.Analysis.Targets, BaselineNights: in.Analysis.BaselineNights})
	if err != nil {
		return "", err
	}
	return StoreAnalysis(ctx, a.Lake, rep)
}

// StoreAnalysis writes a built report's tables and page to the lake.
func StoreAnalysis(ctx context.Context, lake *results.Lake, rep *analysis.Report) (string, error) {
	id, date := rep.Manifest.SweepID, rep.Manifest.Date
	frontiers, err := results.Encode(analysis.FrontierRows(id, rep.Groups), nil)
	if err != nil {
		return "", err
	}
	regressions, err := results.Encode(analysis.RegressionRows(id, rep.Regressions), nil)
	if err != nil {
		return "", err
	}
	var page bytes.Buffer
	if err := analysis.RenderHTML(&page, rep); err != nil {
		return "", err
	}
	frontiersKey := results.AnalysisKey(date, id, results.TableFrontiers)
	for _, obj := range []struct {
		key, contentType string
		body             []byte
	}{
		{frontiersKey, parquetType, frontiers},
		{results.AnalysisKey(date, id, results.TableRegressions), parquetType, regressions},
		{results.ReportKey(date, id), "text/html; charset=utf-8", page.Bytes()},
	} {
		if err := lake.Store().Put(ctx, obj.key, obj.body, obj.contentType); err != nil {
			return "", err
		}
	}
	return frontiersKey, nil
}
