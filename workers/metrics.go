package workers

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Metrics is one worker process's Prometheus registry: the Temporal SDK's
// own series (through its OpenTelemetry handler: temporal_* task latencies,
// poll counts, activity failures…) and infersweep's, per pool.
type Metrics struct {
	registry *prometheus.Registry
	// SDK goes into client.Options.MetricsHandler.
	SDK client.MetricsHandler

	points      *prometheus.CounterVec
	startup     *prometheus.HistogramVec
	load        *prometheus.HistogramVec
	retries     *prometheus.CounterVec
	quarantined *prometheus.GaugeVec
}

// NewMetrics builds a registry with Go runtime and process collectors.
func NewMetrics() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	m := &Metrics{
		registry: reg,
		SDK:      temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{Meter: provider.Meter("temporal-sdk-go")}),
		points: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "infersweep_points_total",
			Help: "Points finished by this worker, by pool and status (succeeded, failed, skipped)."}, []string{"pool", "status"}),
		startup: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "infersweep_engine_startup_seconds",
			Help: "Engine start to ready, wall clock.", Buckets: prometheus.ExponentialBuckets(0.5, 2, 12)}, []string{"pool"}),
		load: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "infersweep_load_seconds",
			Help: "Measured load of one point (warmups excluded), wall clock.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)}, []string{"pool"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "infersweep_point_retries_total",
			Help: "Point attempts beyond the first, by pool."}, []string{"pool"}),
		quarantined: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "infersweep_quarantined_nodes",
			Help: "Nodes quarantined in the last sweep committed by this control worker, by pool."}, []string{"pool"}),
	}
	for _, c := range []prometheus.Collector{m.points, m.startup, m.load, m.retries, m.quarantined,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// PointFinished counts a point's outcome.
func (m *Metrics) PointFinished(pool, status string) { m.points.WithLabelValues(pool, status).Inc() }

// EngineReady records an engine's startup time.
func (m *Metrics) EngineReady(pool string, seconds float64) {
	m.startup.WithLabelValues(pool).Observe(seconds)
}

// LoadMeasured records how long a point's measured load took.
func (m *Metrics) LoadMeasured(pool string, seconds float64) {
	m.load.WithLabelValues(pool).Observe(seconds)
}

// PointRetried counts an attempt beyond the first.
func (m *Metrics) PointRetried(pool string) { m.retries.WithLabelValues(pool).Inc() }

// NodesQuarantined sets a pool's quarantined nodes at the end of a sweep.
func (m *Metrics) NodesQuarantined(pool string, nodes int) {
	m.quarantined.WithLabelValues(pool).Set(float64(nodes))
}
