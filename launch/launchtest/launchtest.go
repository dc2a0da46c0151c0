// Package launchtest gives tests what the real backends need: a static
// infersweep binary, its image in the local Docker engine, and the rule
// for when a missing Docker engine or Slurm cluster skips a test (here)
// or fails it (CI, which brings both up).
package launchtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infersweep/infersweep/launch"
)

// DockerEnv and SlurmEnv, set to 1, make a test that needs the Docker
// engine or a Slurm cluster fail instead of skipping without one.
const (
	DockerEnv = "INFERSWEEP_TEST_DOCKER"
	SlurmEnv  = "INFERSWEEP_TEST_SLURM"
)

// Unavailable skips the test, or fails it where env says the thing must
// be there.
func Unavailable(t testing.TB, env, why string) {
	t.Helper()
	if os.Getenv(env) == "1" {
		t.Fatalf("%s (%s=1: required here)", why, env)
	}
	t.Skipf("%s (set %s=1 to require it)", why, env)
}

// RequireDocker skips (or fails) the test when no Docker engine answers.
func RequireDocker(t testing.TB) {
	t.Helper()
	if out, err := run(t, "docker", "info", "--format", "{{.ServerVersion}}"); err != nil {
		Unavailable(t, DockerEnv, "no Docker engine answers: "+out)
	}
}

// RequireSlurm skips (or fails) the test when no Slurm cluster answers
// with a node ready for jobs.
func RequireSlurm(t testing.TB) {
	t.Helper()
	out, err := run(t, "sinfo", "-h", "-o", "%t")
	if err != nil {
		Unavailable(t, SlurmEnv, "no Slurm cluster answers: "+out)
	}
	for state := range strings.FieldsSeq(out) {
		if strings.HasPrefix(state, "idle") || strings.HasPrefix(state, "mix") || strings.HasPrefix(state, "alloc") {
			return
		}
	}
	Unavailable(t, SlurmEnv, "the Slurm cluster has no node up: "+out)
}

func run(t testing.TB, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Binary builds a static infersweep (no cgo, so it runs FROM scratch and
// on any node) for this test; the build cache makes every build after the
// first a link.
func Binary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "infersweep")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/infersweep/infersweep/cmd/infersweep")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build infersweep: %v\n%s", err, out)
	}
	return bin
}

// Image builds the infersweep image from a static binary under a tag of
// this test's own, removed when the test ends, and returns the tag and
// the binary.
func Image(t testing.TB) (tag, bin string) {
	t.Helper()
	RequireDocker(t)
	bin = Binary(t)
	tag = fmt.Sprintf("infersweep/test:%d-%d", os.Getpid(), time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := launch.BuildImage(ctx, launch.ExecRunner{}, launch.ImageBuild{Binary: bin, Tag: tag, Version: "test", Commit: "test"}); err != nil {
		t.Fatalf("build image: %v", err)
	}
	t.Cleanup(func() { _, _ = run(t, "docker", "rmi", "-f", tag) })
	return tag, bin
}
