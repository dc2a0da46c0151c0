package workers

import (
	"fmt"
	"log/slog"
	"reflect"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// Payload sizes the guard enforces. Temporal refuses a payload over 2 MB
// (its default blob size limit) and, worse, an activity whose result it
// refuses is retried as if nothing were wrong: a night that stops without
// a word. Nothing whose size grows with a sweep belongs in a payload, so a
// payload over PayloadWarnBytes is already a design bug worth a log line.
const (
	PayloadWarnBytes  = 64 << 10
	PayloadLimitBytes = 2 << 20
)

// ErrPayloadTooLarge is the error type of a refused payload.
const ErrPayloadTooLarge = "PayloadTooLarge"

// payloadGuard is the data converter every client and worker uses: the
// SDK's default one, measuring each payload it makes.
type payloadGuard struct {
	converter.DataConverter
	logger *slog.Logger
}

// guardPayloads wraps dc with the size checks.
func guardPayloads(dc converter.DataConverter, logger *slog.Logger) converter.DataConverter {
	return payloadGuard{DataConverter: dc, logger: logger}
}

func (g payloadGuard) ToPayload(value any) (*commonpb.Payload, error) {
	p, err := g.DataConverter.ToPayload(value)
	if err != nil {
		return nil, err
	}
	return p, g.check(value, p.Size())
}

func (g payloadGuard) ToPayloads(values ...any) (*commonpb.Payloads, error) {
	ps, err := g.DataConverter.ToPayloads(values...)
	if err != nil {
		return nil, err
	}
	for i, p := range ps.GetPayloads() {
		if err := g.check(values[i], p.Size()); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// check refuses a payload Temporal would refuse, naming its Go type and
// size, as a non-retryable error: an activity whose result is too large
// fails at once, with the reason, instead of being retried.
func (g payloadGuard) check(value any, size int) error {
	if size <= PayloadWarnBytes {
		return nil
	}
	what := reflect.TypeOf(value).String()
	if size > PayloadLimitBytes {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("a %s payload of %d bytes is over Temporal's %d-byte limit: it must travel through the lake, by key", what, size, PayloadLimitBytes),
			ErrPayloadTooLarge, nil)
	}
	g.logger.Warn("large Temporal payload: its size grows with the sweep", "type", what, "bytes", size, "warn_bytes", PayloadWarnBytes)
	return nil
}
