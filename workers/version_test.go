package workers

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVersionOfABuild: the stamp a release build carries wins, the commit
// names an unreleased build, and only the libraries that change results
// are reported.
func TestVersionOfABuild(t *testing.T) {
	checkout := &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "e56ad42"}, {Key: "vcs.time", Value: "2026-11-27T01:00:00Z"}, {Key: "vcs.modified", Value: "true"}},
		Deps:     []*debug.Module{{Path: "go.temporal.io/sdk", Version: "v1.50.0"}, {Path: "github.com/spf13/cobra", Version: "v1.9.1"}}}
	tests := []struct {
		name        string
		info        *debug.BuildInfo
		stamped     string
		wantVersion string
		wantBuildID string
		wantDeps    map[string]string
	}{
		{"release build", checkout, "v1.2.3", "v1.2.3", "v1.2.3", map[string]string{"go.temporal.io/sdk": "v1.50.0"}},
		{"build from a checkout", checkout, "", "(devel)", "e56ad42", map[string]string{"go.temporal.io/sdk": "v1.50.0"}},
		{"no build info", nil, "", "(unknown)", "(unknown: built without VCS stamping)", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := versionOf(tt.info, tt.stamped)
			require.Equal(t, tt.wantVersion, v.Version)
			require.Equal(t, tt.wantBuildID, v.BuildID())
			require.Equal(t, tt.wantDeps, v.Dependencies)
		})
	}
	v := versionOf(checkout, "")
	require.True(t, v.Modified)
	require.Equal(t, "2026-11-27T01:00:00Z", v.CommitTime)
	require.Equal(t, "go1.27.3", v.GoVersion)
}

// TestStampWins: a release build's -X stamp (deploy/Dockerfile sets it;
// deploy's tests check that the flag names this variable) is the version.
func TestStampWins(t *testing.T) {
	stampedVersion = "v1.2.3"
	defer func() { stampedVersion = "" }()
	require.Equal(t, "v1.2.3", ReadVersion().Version)
}
