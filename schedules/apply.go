package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/workflows"
)

// definitionMemo is the action memo key holding what apply last wrote, in
// our own terms: Temporal rewrites cron into calendars, so comparing its
// description with a file would see changes that are not there.
const definitionMemo = "infersweep_schedule"

// definition is a schedule as applied: times, files by content, policies.
type definition struct {
	Note      string     `json:"note"`
	Cron      []string   `json:"cron"`
	At        []Calendar `json:"at"`
	Zone      string     `json:"time_zone"`
	Jitter    string     `json:"jitter"`
	Specs     []specRef  `json:"spec"`
	Runners   specRef    `json:"runners"`
	Settings  *specRef   `json:"settings"`
	Changelog *specRef   `json:"changelog,omitempty"`
	// Upstream is the index of the checkout files the plan read (its
	// File the checkout), absent without upstream-root.
	Upstream         *specRef `json:"upstream,omitempty"`
	Filters          Filters  `json:"filters"`
	Overlap          string   `json:"overlap"`
	CatchupWindow    string   `json:"catchup_window"`
	PauseOnFailure   bool     `json:"pause_on_failure"`
	ChangedSinceLast bool     `json:"changed_since_last"`
	TimeScale        float64  `json:"time_scale"`
}

// specRef names a file by path (for people) and sha256 (for the lake).
type specRef struct {
	File   string `json:"file"`
	Digest string `json:"sha256"`
}

// Change is what apply did, or would do, to one schedule.
type Change struct {
	ID     string   `json:"id"`
	Action string   `json:"action"` // created, updated, unchanged (would-… with --dry-run)
	Diff   []string `json:"diff,omitempty"`
}

// Apply creates each schedule that does not exist and updates each whose
// definition changed, uploading its files to the lake by content first.
// A schedule's paused state and note of a pause are left as they are.
func Apply(ctx context.Context, c client.Client, lake *results.Lake, scheds []Schedule, dryRun bool) ([]Change, error) {
	var changes []Change
	for _, s := range scheds {
		def, files, err := define(s)
		if err != nil {
			return changes, err
		}
		handle := c.ScheduleClient().GetHandle(ctx, s.ID)
		desc, err := handle.Describe(ctx)
		var notFound *serviceerror.NotFound
		exists := err == nil
		if err != nil && !errors.As(err, &notFound) {
			return changes, fmt.Errorf("describe schedule %s: %w", s.ID, err)
		}
		change := Change{ID: s.ID, Action: "created"}
		if exists {
			change.Diff = diff(storedDefinition(desc), def)
			change.Action = "updated"
			if len(change.Diff) == 0 {
				change.Action = "unchanged"
			}
		}
		if dryRun {
			if change.Action != "unchanged" {
				change.Action = "would be " + change.Action
			}
			changes = append(changes, change)
			continue
		}
		if change.Action == "unchanged" {
			changes = append(changes, change)
			continue
		}
		for _, data := range files {
			if _, _, err := lake.PutSpec(ctx, data); err != nil {
				return changes, err
			}
		}
		action, policies, err := actionOf(s, def)
		if err != nil {
			return changes, err
		}
		spec := specOf(s)
		if !exists {
			_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: s.ID, Spec: spec, Action: action, Overlap: policies.Overlap,
				CatchupWindow: policies.CatchupWindow, PauseOnFailure: policies.PauseOnFailure, Note: s.Note, Paused: s.Paused})
		} else {
			err = handle.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				sch := in.Description.Schedule
				sch.Spec, sch.Action, sch.Policy = &spec, action, policies
				return &client.ScheduleUpdate{Schedule: &sch}, nil
			}})
		}
		if err != nil {
			return changes, fmt.Errorf("%s schedule %s: %w", strings.TrimSuffix(change.Action, "d"), s.ID, err)
		}
		changes = append(changes, change)
	}
	return changes, nil
}

// define reads a schedule's files and describes it by their content.
func define(s Schedule) (definition, map[string][]byte, error) {
	files := map[string][]byte{}
	ref := func(path string) (specRef, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return specRef{}, fmt.Errorf("schedule %s: %w", s.ID, err)
		}
		digest := results.SpecDigest(data)
		files[digest] = data
		return specRef{File: path, Digest: digest}, nil
	}
	def := definition{Note: s.Note, Cron: s.Cron, At: s.At, Zone: s.Zone, Jitter: s.Jitter.String(), Filters: s.Filters, Overlap: s.Overlap,
		CatchupWindow: s.CatchupWindow.String(), PauseOnFailure: s.PauseOnFailure, ChangedSinceLast: s.ChangedSinceLast, TimeScale: s.TimeScale}
	for _, path := range s.Specs {
		r, err := ref(path)
		if err != nil {
			return def, nil, err
		}
		def.Specs = append(def.Specs, r)
	}
	var err error
	if def.Runners, err = ref(s.Runners); err != nil {
		return def, nil, err
	}
	if s.Settings != "" {
		r, err := ref(s.Settings)
		if err != nil {
			return def, nil, err
		}
		def.Settings = &r
	}
	if s.Changelog != "" {
		r, err := ref(s.Changelog)
		if err != nil {
			return def, nil, err
		}
		def.Changelog = &r
	}
	if len(s.upstream) > 0 {
		index, byDigest, err := results.NewUpstreamIndex(s.upstream)
		if err != nil {
			return def, nil, err
		}
		maps.Copy(files, byDigest)
		digest := results.SpecDigest(index)
		files[digest] = index
		def.Upstream = &specRef{File: s.UpstreamRoot, Digest: digest}
	}
	return def, files, nil
}

var overlapPolicies = map[string]enumspb.ScheduleOverlapPolicy{
	"skip":            enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	"buffer-one":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	"buffer-all":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	"cancel-other":    enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
	"terminate-other": enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER,
	"allow-all":       enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
}

// actionOf is the SweepWorkflow start a schedule makes: specs from the
// lake by digest, the sweep id and date left to the nominal time.
func actionOf(s Schedule, def definition) (*client.ScheduleWorkflowAction, *client.SchedulePolicies, error) {
	lakeRef := func(r specRef) string { return results.LakeRefPrefix + results.SpecKey(r.Digest) }
	changelog := ""
	if def.Changelog != nil {
		changelog = lakeRef(*def.Changelog)
	}
	in := workflows.SweepInput{Runners: lakeRef(def.Runners), Filters: s.Filters.sweep(changelog), TimeScale: max(s.TimeScale, 1),
		ScheduleID: s.ID, TimeZone: s.Zone}
	for _, r := range def.Specs {
		in.Masters = append(in.Masters, lakeRef(r))
		in.SpecDigests = append(in.SpecDigests, r.Digest)
	}
	in.SpecDigests = append(in.SpecDigests, def.Runners.Digest)
	if def.Settings != nil {
		in.Settings = lakeRef(*def.Settings)
		in.SpecDigests = append(in.SpecDigests, def.Settings.Digest)
	}
	if def.Upstream != nil {
		in.Upstream = lakeRef(*def.Upstream)
		in.SpecDigests = append(in.SpecDigests, def.Upstream.Digest)
	}
	if s.ChangedSinceLast {
		in.ChangedSinceLastOf = s.ID
	}
	body, err := json.Marshal(def)
	if err != nil {
		return nil, nil, err
	}
	action := &client.ScheduleWorkflowAction{ID: workflows.SweepWorkflowID(s.ID), Workflow: workflows.SweepWorkflow, Args: []any{in},
		TaskQueue: workflows.ControlQueue, Memo: map[string]any{definitionMemo: string(body)}}
	return action, &client.SchedulePolicies{Overlap: overlapPolicies[s.Overlap], CatchupWindow: s.CatchupWindow, PauseOnFailure: s.PauseOnFailure}, nil
}

func specOf(s Schedule) client.ScheduleSpec {
	spec := client.ScheduleSpec{CronExpressions: s.Cron, Jitter: s.Jitter, TimeZoneName: s.Zone}
	for _, at := range s.At {
		hour, _ := strconv.Atoi(at.Time[:2])
		minute, _ := strconv.Atoi(at.Time[3:])
		cal := client.ScheduleCalendarSpec{Hour: []client.ScheduleRange{{Start: hour}}, Minute: []client.ScheduleRange{{Start: minute}},
			Second: []client.ScheduleRange{{Start: 0}}, Month: []client.ScheduleRange{{Start: 1, End: 12}}, DayOfMonth: []client.ScheduleRange{{Start: 1, End: 31}}}
		if len(at.Days) == 0 {
			cal.DayOfWeek = []client.ScheduleRange{{Start: 0, End: 6}}
		}
		for _, d := range at.Days {
			cal.DayOfWeek = append(cal.DayOfWeek, client.ScheduleRange{Start: slices.Index(weekdays, strings.ToLower(d))})
		}
		spec.Calendars = append(spec.Calendars, cal)
	}
	return spec
}

// storedDefinition reads back what apply wrote; a schedule made by other
// means has none, and every field shows as changed.
func storedDefinition(desc *client.ScheduleDescription) definition {
	var def definition
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok {
		return def
	}
	// Describe hands memo values back as payloads.
	var body string
	if payload, ok := action.Memo[definitionMemo].(*commonpb.Payload); ok {
		_ = converter.GetDefaultDataConverter().FromPayload(payload, &body)
	}
	_ = json.Unmarshal([]byte(body), &def)
	return def
}

// diff lists changed top-level fields as "field: old → new".
func diff(old, new definition) []string {
	flat := func(d definition) map[string]string {
		body, _ := json.Marshal(d)
		var m map[string]json.RawMessage
		_ = json.Unmarshal(body, &m)
		out := map[string]string{}
		for k, v := range m {
			out[k] = string(v)
		}
		return out
	}
	a, b := flat(old), flat(new)
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		if a[k] != b[k] {
			out = append(out, fmt.Sprintf("%s: %s → %s", k, a[k], b[k]))
		}
	}
	return out
}

// Backfill runs the nights a schedule would have run between from and to,
// one after another (buffered, never skipped as overlapping), each dated
// by its own nominal time.
func Backfill(ctx context.Context, h client.ScheduleHandle, from, to time.Time) error {
	return h.Backfill(ctx, client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{
		{Start: from, End: to, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL},
	}})
}
