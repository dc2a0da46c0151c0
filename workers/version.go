package workers

import "runtime/debug"

// Version is what a result needs to be explained a year later: which
// build of infersweep, from which commit, with which Temporal libraries.
// Rows carry it, and worker versioning names builds after it.
type Version struct {
	Version      string            `json:"version"`
	Commit       string            `json:"commit"`
	CommitTime   string            `json:"commit_time,omitempty"`
	Modified     bool              `json:"modified"`
	GoVersion    string            `json:"go_version"`
	Dependencies map[string]string `json:"dependencies"`
}

// ReportedDependencies are the libraries whose versions change measured
// or stored results.
var ReportedDependencies = []string{
	"go.temporal.io/sdk",
	"go.temporal.io/api",
	"go.temporal.io/server",
	"github.com/temporalio/ui-server/v2",
	"github.com/aws/aws-sdk-go-v2/service/s3",
	"github.com/parquet-go/parquet-go",
}

// stampedVersion is set at link time by release builds (-ldflags
// "-X github.com/infersweep/infersweep/workers.stampedVersion=v1.2.3", as
// deploy/Dockerfile does); it names worker build ids, so it must differ
// between deployments.
var stampedVersion string

// ReadVersion describes the running binary.
func ReadVersion() Version {
	info, _ := debug.ReadBuildInfo()
	return versionOf(info, stampedVersion)
}

// versionOf reads a binary's build info; a stamped version wins over the
// module version (which is "(devel)" for a build from a checkout).
func versionOf(info *debug.BuildInfo, stamped string) Version {
	v := Version{Version: "(unknown)", Commit: "(unknown: built without VCS stamping)", Dependencies: map[string]string{}}
	if info == nil {
		return v
	}
	v.GoVersion = info.GoVersion
	v.Version = info.Main.Version
	if stamped != "" {
		v.Version = stamped
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
		for _, want := range ReportedDependencies {
			if dep.Path == want {
				v.Dependencies[dep.Path] = dep.Version
			}
		}
	}
	return v
}

// BuildID names this build for worker versioning: its version, or its
// commit when it has no version of its own (a build from a checkout), so
// two deployments never share an id.
func (v Version) BuildID() string {
	if v.Version == "(devel)" || v.Version == "(unknown)" {
		return v.Commit
	}
	return v.Version
}
