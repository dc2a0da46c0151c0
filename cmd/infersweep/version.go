package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionInfo is what a result needs to be explained a year later: which
// build of infersweep, from which commit, with which Temporal libraries.
type versionInfo struct {
	Version      string            `json:"version"`
	Commit       string            `json:"commit"`
	CommitTime   string            `json:"commit_time,omitempty"`
	Modified     bool              `json:"modified"`
	GoVersion    string            `json:"go_version"`
	Dependencies map[string]string `json:"dependencies"`
}

// reportedDependencies are the libraries whose versions change measured or
// stored results.
var reportedDependencies = []string{
	"go.temporal.io/sdk",
	"go.temporal.io/api",
	"go.temporal.io/server",
	"github.com/temporalio/ui-server/v2",
	"github.com/aws/aws-sdk-go-v2/service/s3",
	"github.com/parquet-go/parquet-go",
}

// stampedVersion is set at link time by release builds
// (-ldflags "-X main.stampedVersion=v1.2.3", as deploy/Dockerfile does);
// it names worker build ids, so it must differ between deployments.
var stampedVersion string

func readVersionInfo() versionInfo {
	v := versionInfo{Version: "(unknown)", Commit: "(unknown: built without VCS stamping)", Dependencies: map[string]string{}}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.GoVersion = info.GoVersion
	v.Version = info.Main.Version
	if stampedVersion != "" {
		v.Version = stampedVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	for _, dep := range info.Deps {
		for _, want := range reportedDependencies {
			if dep.Path == want {
				v.Dependencies[dep.Path] = dep.Version
			}
		}
	}
	return v
}

func newVersionCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the build's version, commit and key library versions",
		Example: "  infersweep version\n  infersweep version -o json | jq -r .commit",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			return printVersion(cmd.OutOrStdout(), readVersionInfo(), asJSON)
		},
	}
}

func printVersion(out io.Writer, v versionInfo, asJSON bool) error {
	if asJSON {
		return writeJSON(out, v)
	}
	modified := ""
	if v.Modified {
		modified = " (with uncommitted changes)"
	}
	fmt.Fprintf(out, "infersweep %s\ncommit     %s%s\ngo         %s\n", v.Version, v.Commit, modified, v.GoVersion)
	for _, dep := range reportedDependencies {
		if ver, ok := v.Dependencies[dep]; ok {
			fmt.Fprintf(out, "           %s %s\n", dep, ver)
		}
	}
	return nil
}
