package devstack

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// The server's Fatal becomes an error the stack can act on; a port taken
// between probing and binding is one Start retries with new ports.
func TestServerFatalBecomesAnError(t *testing.T) {
	tests := []struct {
		name      string
		fatal     serverFatal
		want      string
		portTaken bool
	}{
		{"listener", "Failed to start gRPC listener", "a temporal port was taken between probing and binding: temporal server fatal: Failed to start gRPC listener", true},
		{"other", "Unable to start persistence", "temporal server fatal: Unable to start persistence", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := recoverFatal(func() error { panic(tt.fatal) })
			require.EqualError(t, err, tt.want)
			require.Equal(t, tt.portTaken, errors.Is(err, errPortTaken))
			var fatal serverFatal
			require.ErrorAs(t, err, &fatal)
			require.Equal(t, tt.fatal, fatal)
		})
	}
	require.NoError(t, recoverFatal(func() error { return nil }))
	bound := recoverFatal(func() error {
		return errors.New("failed listening for HTTP API on 127.0.0.1:30188: listen tcp 127.0.0.1:30188: bind: address already in use")
	})
	require.ErrorIs(t, bound, errPortTaken, "a listener failing as an error is the same race")
	require.NotErrorIs(t, recoverFatal(func() error { return errors.New("open database: disk full") }), errPortTaken)
	require.PanicsWithValue(t, "unrelated", func() { _ = recoverFatal(func() error { panic("unrelated") }) }, "other panics are not ours to swallow")
}
