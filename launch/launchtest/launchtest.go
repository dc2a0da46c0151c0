// Package launchtest gives tests what the real backends need: a static
// infersweep binary, its image in the local Docker engine, and the rule
// for when a missing Docker engine or Slurm cluster skips a test (here)
// or fails it (CI, which brings both up). It does not import launch, so
// launch's own tests use it too.
package launchtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// DockerEnv and SlurmEnv, set to 1, make a test that needs the Docker
// engine or a Slurm cluster fail instead of skipping without one.
const (
	DockerEnv = "INFERSWEEP_TEST_DOCKER"
	SlurmEnv  = "INFERSWEEP_TEST_SLURM"
)

// Unavailable skips the test, or fails it where env says the thing must
// be there.
func Unavailable(tb testing.TB, env, why string) {
	tb.Helper()
	if os.Getenv(env) == "1" {
		tb.Fatalf("%s (%s=1: required here)", why, env)
	}
	tb.Skipf("%s (set %s=1 to require it)", why, env)
}

// RequireDocker skips (or fails) the test when no Docker engine answers.
func RequireDocker(tb testing.TB) {
	tb.Helper()
	if out, err := run("docker", "info", "--format", "{{.ServerVersion}}"); err != nil {
		Unavailable(tb, DockerEnv, fmt.Sprintf("no Docker engine answers (docker info: %v: %s)", err, out))
	}
}

// RequireSlurm returns the Slurm cluster's nodes that take jobs, or skips
// (fails) the test when there are none.
func RequireSlurm(tb testing.TB) []string {
	tb.Helper()
	out, err := run("sinfo", "-h", "-N", "-o", "%N %t")
	var nodes []string
	for line := range strings.Lines(out) {
		name, state, _ := strings.Cut(strings.TrimSpace(line), " ")
		if err == nil && slices.Contains([]string{"idle", "mix", "alloc", "comp"}, state) && !slices.Contains(nodes, name) {
			nodes = append(nodes, name)
		}
	}
	if len(nodes) == 0 {
		Unavailable(tb, SlurmEnv, fmt.Sprintf("no Slurm cluster with responding nodes (sinfo: %v: %s); start one with deploy/slurm/local-cluster.sh up", err, out))
	}
	return nodes
}

func run(name string, args ...string) (string, error) {
	return runFor(20*time.Second, name, args...)
}

func runFor(limit time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// built is this test process's binary: linking it takes seconds, so it is
// built once and removed by Main.
var built struct {
	once      sync.Once
	dir, path string
	err       error
}

// Main runs the tests and removes the binary Binary built; a package whose
// tests use Binary calls it from TestMain: os.Exit(launchtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	return code
}

// Binary is a static infersweep of this checkout (no cgo, stripped): it
// runs FROM scratch and on any node, and its image context is smaller.
func Binary(tb testing.TB) string {
	tb.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "infersweep-test-bin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "infersweep")
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", built.path, "github.com/infersweep/infersweep/cmd/infersweep")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build infersweep: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		tb.Fatal(built.err)
	}
	return built.path
}

// Image builds the infersweep image from Binary with `infersweep image
// build`, under a tag of this test's own removed when it ends, and
// returns the tag and the binary.
func Image(tb testing.TB) (tag, bin string) {
	tb.Helper()
	RequireDocker(tb)
	bin = Binary(tb)
	tag = fmt.Sprintf("infersweep/test:%d-%d", os.Getpid(), time.Now().UnixNano())
	if out, err := runFor(2*time.Minute, bin, "image", "build", "--tag", tag, "--binary", bin); err != nil {
		tb.Fatalf("infersweep image build: %v\n%s", err, out)
	}
	tb.Cleanup(func() { _, _ = run("docker", "rmi", "-f", tag) })
	return tag, bin
}
