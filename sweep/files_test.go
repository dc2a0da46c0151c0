package sweep

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadRunnersAndSettings: a missing file and a wrong one are errors
// that name the file; no settings file is the defaults.
func TestReadRunnersAndSettings(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("labels:\n  h200: []\n"), 0o644))
	tests := []struct {
		name, path, wantErr string
		read                func(string) error
	}{
		{"runners", "../examples/runners.yaml", "", func(p string) error { _, err := ReadRunners(p); return err }},
		{"missing runners", filepath.Join(dir, "nope.yaml"), "nope.yaml: no such file or directory", func(p string) error { _, err := ReadRunners(p); return err }},
		{"wrong runners", bad, bad + ":2:3: labels.h200: no nodes: want a list of node names", func(p string) error { _, err := ReadRunners(p); return err }},
		{"settings", "../examples/settings.yaml", "", func(p string) error { _, err := ReadSettings(p); return err }},
		{"wrong settings", bad, "labels: unknown field", func(p string) error { _, err := ReadSettings(p); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read(tt.path)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
	s, err := ReadSettings("")
	require.NoError(t, err)
	require.Equal(t, DefaultSettings(), s)
}
