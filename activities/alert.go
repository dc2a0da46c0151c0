package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/analysis"
	"github.com/infersweep/infersweep/results"
)

// AlertConfig says where a sweep's summary goes, from INFERSWEEP_ALERT_*.
type AlertConfig struct {
	WebhookURL string `envconfig:"ALERT_WEBHOOK_URL" desc:"POST a JSON summary of every sweep here (a secret: Slack webhook URLs carry a token)"`
	Format     string `envconfig:"ALERT_FORMAT" default:"json" desc:"json (infersweep's summary) or slack (a {\"text\": …} message)"`
	// ReportURL, with {date} and {sweep} filled in, links the summary to
	// the sweep's report (infersweep serve, or wherever the lake is served).
	ReportURL string `envconfig:"ALERT_REPORT_URL" desc:"link to a sweep's report, with {date} and {sweep} placeholders"`
	// Kinds are the notifications sent; Routes send a pool's to a
	// webhook of its own.
	Kinds  []string `envconfig:"ALERT_KINDS" default:"summary,sweep-failed,failed-points,accuracy-failed,quarantined,stalled,missed-night,late-night" desc:"notifications to send: summary, sweep-failed, failed-points, accuracy-failed, quarantined, stalled, missed-night, late-night"`
	Routes Routes   `envconfig:"ALERT_ROUTES" desc:"pool=webhook-URL pairs (comma-separated): a pool's notifications go there instead"`
	// FailedPointsPct is the share of a sweep's points that failed above
	// which failed-points fires.
	FailedPointsPct float64 `envconfig:"ALERT_FAILED_POINTS_PCT" default:"10" desc:"failed-points fires when more than this percentage of a sweep's points failed"`
	// UIURL links notifications to the sweep's workflow in Temporal's UI.
	UIURL string `envconfig:"ALERT_UI_URL" desc:"Temporal Web UI base URL (e.g. http://localhost:8233) for links to a sweep's workflow"`
	// StallAfter is how long a running sweep may go without a point
	// finishing before the watchdog says it stalled.
	StallAfter time.Duration `envconfig:"ALERT_STALL_AFTER" default:"30m" desc:"stalled fires when a running sweep finishes no point for this long"`
	// A scheduled night not started StartGrace after it was due was
	// missed; one still running NightDeadline after it was due is late.
	StartGrace    time.Duration `envconfig:"ALERT_START_GRACE" default:"10m" desc:"missed-night fires when a schedule's night has not started this long after it was due"`
	NightDeadline time.Duration `envconfig:"ALERT_NIGHT_DEADLINE" default:"12h" desc:"late-night fires when a scheduled night still runs this long after it was due"`
}

// Routes send pools' notifications to webhooks of their own: pool → URL,
// written pool=URL,pool=URL (URLs hold colons, so not envconfig's
// key:value maps).
type Routes map[string]string

// Decode reads pool=URL pairs.
func (r *Routes) Decode(value string) error {
	*r = Routes{}
	for pair := range strings.SplitSeq(value, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		pool, url, ok := strings.Cut(pair, "=")
		if !ok || pool == "" || !strings.HasPrefix(url, "http") {
			return fmt.Errorf("%q: want pool=http(s)://webhook", pair)
		}
		(*r)[pool] = url
	}
	return nil
}

// LoadAlertConfig reads INFERSWEEP_ALERT_* and checks the format.
func LoadAlertConfig() (AlertConfig, error) {
	var cfg AlertConfig
	if err := envconfig.Process("INFERSWEEP", &cfg); err != nil {
		return cfg, err
	}
	if cfg.Format != "json" && cfg.Format != "slack" {
		return cfg, fmt.Errorf("INFERSWEEP_ALERT_FORMAT=%q: want json or slack", cfg.Format)
	}
	for _, k := range cfg.Kinds {
		if !slices.Contains(NoticeKinds, k) {
			return cfg, fmt.Errorf("INFERSWEEP_ALERT_KINDS: %q: want some of %s", k, strings.Join(NoticeKinds, ", "))
		}
	}
	for name, d := range map[string]time.Duration{"STALL_AFTER": cfg.StallAfter, "START_GRACE": cfg.StartGrace, "NIGHT_DEADLINE": cfg.NightDeadline} {
		if d <= 0 {
			return cfg, fmt.Errorf("INFERSWEEP_ALERT_%s=%s: want a positive duration", name, d)
		}
	}
	return cfg, nil
}

// AlertInput names the analysed sweep to summarise.
type AlertInput struct {
	SweepID string
	Date    string
}

// Outcomes of SendAlert, as the sweep's result reports them.
const (
	AlertSent          = "sent"
	AlertAlreadySent   = "already sent"
	AlertNotConfigured = "no webhook configured"
)

// AlertSummary is the JSON a webhook receives.
type AlertSummary struct {
	SweepID      string                  `json:"sweep_id"`
	Date         string                  `json:"date"`
	Status       string                  `json:"status"`
	Counts       map[string]int          `json:"counts"`
	Regressions  []results.RegressionRow `json:"regressions"`
	Lost         []results.RegressionRow `json:"lost"`
	Improvements []results.RegressionRow `json:"improvements"`
	// AccuracyFailed are the scores that made points accuracy-failed.
	AccuracyFailed []AccuracyFailure `json:"accuracy_failed"`
	ReportKey      string            `json:"report_key"`
	ReportURL      string            `json:"report_url,omitempty"`
	Method         string            `json:"method"`
}

// SendAlert posts one summary per sweep. Temporal retries it on network
// errors and 5xx; a marker object written after a delivered POST makes a
// retry after success a no-op, and the Idempotency-Key header lets a
// receiver drop the one duplicate that remains possible (the worker dying
// between the POST and the marker).
func (a *Activities) SendAlert(ctx context.Context, in AlertInput) (string, error) {
	if a.Alerts.WebhookURL == "" && len(a.Alerts.Routes) == 0 {
		return AlertNotConfigured, nil
	}
	ref := results.SweepRef{SweepID: in.SweepID, Date: in.Date}
	m, err := a.Lake.ManifestOf(ctx, ref)
	if err != nil {
		return "", err
	}
	// What needs a human beside the summary: a sweep with many failed
	// points, nodes quarantined. Each is sent once, whatever retries.
	var failures []AccuracyFailure
	if m.Counts[results.StatusAccuracyFailed] > 0 {
		rows, err := a.Lake.Evals(ctx, m)
		if err != nil {
			return "", err
		}
		failures = accuracyFailures(rows)
	}
	for _, n := range append(outcomeNotices(m, a.Alerts.FailedPointsPct), accuracyNotices(m, failures)...) {
		if _, err := a.Notify(ctx, n); err != nil {
			return "", err
		}
	}
	if !a.Alerts.enabled(NoticeSummary) || a.Alerts.WebhookURL == "" {
		return AlertNotConfigured, nil
	}
	marker := results.AlertKey(in.Date, in.SweepID)
	if _, err := a.Lake.Store().Size(ctx, marker); err == nil {
		return AlertAlreadySent, nil
	} else if !errors.Is(err, results.ErrNotFound) {
		return "", err
	}
	regs, err := a.Lake.Regressions(ctx, ref)
	if err != nil {
		return "", err
	}
	summary := AlertSummary{SweepID: in.SweepID, Date: in.Date, Status: m.Status, Counts: m.Counts, Regressions: []results.RegressionRow{},
		Lost: []results.RegressionRow{}, Improvements: []results.RegressionRow{}, AccuracyFailed: append([]AccuracyFailure{}, failures...), ReportKey: results.ReportKey(in.Date, in.SweepID), Method: analysis.RegressionMethod}
	if a.Alerts.ReportURL != "" {
		summary.ReportURL = strings.NewReplacer("{date}", in.Date, "{sweep}", in.SweepID).Replace(a.Alerts.ReportURL)
	}
	for _, r := range regs {
		switch r.Verdict {
		case analysis.VerdictRegression:
			summary.Regressions = append(summary.Regressions, r)
		case analysis.VerdictLost:
			summary.Lost = append(summary.Lost, r)
		case analysis.VerdictImprovement:
			summary.Improvements = append(summary.Improvements, r)
		}
	}
	var body []byte
	if a.Alerts.Format == "slack" {
		body, err = json.Marshal(map[string]string{"text": slackText(summary)})
	} else {
		body, err = json.Marshal(summary)
	}
	if err != nil {
		return "", err
	}
	if err := a.post(ctx, a.Alerts.WebhookURL, body, "infersweep-alert-"+in.SweepID); err != nil {
		return "", err
	}
	if err := a.Lake.Store().Put(ctx, marker, body, "application/json"); err != nil {
		return "", fmt.Errorf("alert for sweep %s delivered, marker not stored: %w", in.SweepID, err)
	}
	return AlertSent, nil
}

func (a *Activities) post(ctx context.Context, url string, body []byte, idempotencyKey string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return temporal.NewNonRetryableApplicationError("alert webhook URL is invalid", ErrConfig, nil)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idempotencyKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The URL holds a token: name the host only.
		return fmt.Errorf("alert webhook %s: %w", req.URL.Host, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("alert webhook %s refused the summary: %s %s", req.URL.Host, resp.Status, reply), ErrConfig, nil)
	}
	return fmt.Errorf("alert webhook %s: %s %s", req.URL.Host, resp.Status, reply)
}

func slackText(s AlertSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "infersweep sweep %s (%s): %s", s.SweepID, s.Date, s.Status)
	for _, status := range []string{"succeeded", "failed", results.StatusAccuracyFailed, "skipped"} {
		if n := s.Counts[status]; n > 0 {
			fmt.Fprintf(&b, ", %d %s", n, status)
		}
	}
	for _, f := range s.AccuracyFailed {
		fmt.Fprintf(&b, "\n• accuracy-failed: %s", f)
	}
	fmt.Fprintf(&b, "\n%d regressions, %d targets lost, %d improvements", len(s.Regressions), len(s.Lost), len(s.Improvements))
	line := func(r results.RegressionRow) {
		fmt.Fprintf(&b, "\n• %s %s %d/%d %s at %g tok/s/user", r.Model, r.Precision, r.ISL, r.OSL, r.Series, r.TargetInteractivity)
		if r.ChangePct != nil {
			fmt.Fprintf(&b, ": %+.1f%% (threshold %.1f%%)", *r.ChangePct, r.ThresholdPct)
		} else {
			b.WriteString(": frontier no longer reaches it")
		}
		if r.PValue != nil {
			fmt.Fprintf(&b, ", TPOT p=%.2g", *r.PValue)
		}
	}
	for _, r := range s.Regressions {
		line(r)
	}
	for _, r := range s.Lost {
		line(r)
	}
	if s.ReportURL != "" {
		fmt.Fprintf(&b, "\nreport: %s", s.ReportURL)
	}
	return b.String()
}
