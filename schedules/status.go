package schedules

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/results"
)

// Row is what `schedule ls` and `describe` show of one schedule.
type Row struct {
	ID         string      `json:"id"`
	Paused     bool        `json:"paused"`
	Note       string      `json:"note"`
	Next       []time.Time `json:"next_action_times"`
	Recent     []time.Time `json:"recent_actions"`
	Workflows  []string    `json:"recent_workflow_ids,omitempty"`
	Spec       []string    `json:"spec"`
	Overlap    string      `json:"overlap,omitempty"`
	TimeZone   string      `json:"time_zone,omitempty"`
	ActionsRun int         `json:"actions_run,omitempty"`
}

// List returns every schedule of the namespace (the iterator follows
// every page).
func List(ctx context.Context, c client.Client) ([]Row, error) {
	iter, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return nil, err
	}
	rows := []Row{}
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			return nil, err
		}
		row := Row{ID: e.ID, Paused: e.Paused, Note: e.Note, Next: e.NextActionTimes, Spec: specStrings(e.Spec)}
		for _, a := range e.RecentActions {
			row.Recent = append(row.Recent, a.ScheduleTime)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// Describe returns one schedule with its policies and the sweeps it
// started recently.
func Describe(ctx context.Context, c client.Client, id string) (Row, error) {
	desc, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		return Row{}, fmt.Errorf("schedule %s: %w", id, err)
	}
	return describedRow(id, desc), nil
}

func describedRow(id string, desc *client.ScheduleDescription) Row {
	row := Row{ID: id, Paused: desc.Schedule.State.Paused, Note: desc.Schedule.State.Note, Next: desc.Info.NextActionTimes,
		Spec: specStrings(desc.Schedule.Spec), ActionsRun: desc.Info.NumActions}
	if desc.Schedule.Spec != nil {
		row.TimeZone = desc.Schedule.Spec.TimeZoneName
	}
	if desc.Schedule.Policy != nil {
		// By the name schedules.yaml gives it (the enum's String is
		// CamelCase, "BufferOne").
		for name, policy := range overlapPolicies {
			if policy == desc.Schedule.Policy.Overlap {
				row.Overlap = name
			}
		}
	}
	for _, a := range desc.Info.RecentActions {
		row.Recent = append(row.Recent, a.ScheduleTime)
		if a.StartWorkflowResult != nil {
			row.Workflows = append(row.Workflows, a.StartWorkflowResult.WorkflowID)
		}
	}
	return row
}

// specStrings says when a schedule runs, one string per cron expression
// or calendar.
func specStrings(spec *client.ScheduleSpec) []string {
	if spec == nil {
		return nil
	}
	out := append([]string(nil), spec.CronExpressions...)
	for _, c := range spec.Calendars {
		out = append(out, fmt.Sprintf("calendar hour=%v minute=%v day-of-week=%v", c.Hour, c.Minute, c.DayOfWeek))
	}
	return out
}

// BackfillRange is the span a backfill from..to covers: each a day
// (YYYY-MM-DD, the last one counted whole) or an RFC 3339 time.
func BackfillRange(from, to string) (start, end time.Time, err error) {
	if start, err = parseWhen(from); err != nil {
		return start, end, fmt.Errorf("from %q: want YYYY-MM-DD or an RFC 3339 time", from)
	}
	if end, err = parseWhen(to); err != nil {
		return start, end, fmt.Errorf("to %q: want YYYY-MM-DD or an RFC 3339 time", to)
	}
	if len(to) == len(time.DateOnly) {
		end = end.Add(24*time.Hour - time.Second)
	}
	if !end.After(start) {
		return start, end, fmt.Errorf("to %s is not after from %s", to, from)
	}
	return start, end, nil
}

func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

// ApplyArmed applies schedules created paused unless armed, and unpauses
// them when armed: a dev stack shows the nightly in the UI without
// sweeping a laptop by surprise.
func ApplyArmed(ctx context.Context, c client.Client, lake *results.Lake, scheds []Schedule, armed bool) ([]Change, error) {
	for i := range scheds {
		scheds[i].Paused = !armed
	}
	changes, err := Apply(ctx, c, lake, scheds, false)
	if err != nil || !armed {
		return changes, err
	}
	for _, ch := range changes {
		if err := c.ScheduleClient().GetHandle(ctx, ch.ID).Unpause(ctx, client.ScheduleUnpauseOptions{Note: "armed when applied (infersweep dev --schedule-enabled)"}); err != nil {
			return changes, fmt.Errorf("schedule %s: %w", ch.ID, err)
		}
	}
	return changes, nil
}
