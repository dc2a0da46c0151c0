package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/launch/launchtest"
)

// TestComposeLocalRunsASweep brings compose.local.yaml up with Debian's
// docker-compose on the image built from this code, runs a sweep from
// the host through the published ports, reads it back from the API, and
// takes everything down again: containers, network and volume.
func TestComposeLocalRunsASweep(t *testing.T) {
	launchtest.RequireDocker(t)
	if _, err := exec.LookPath("docker-compose"); err != nil {
		launchtest.Unavailable(t, launchtest.DockerEnv, "docker-compose is not installed")
	}
	image, bin := launchtest.Image(t)
	project := fmt.Sprintf("infersweep-test-%d", os.Getpid())
	ports := map[string]int{}
	for _, name := range []string{"TEMPORAL", "UI", "S3", "API"} {
		ports[name] = freePort(t)
	}
	env := append(os.Environ(), "INFERSWEEP_IMAGE="+image)
	for name, port := range ports {
		env = append(env, fmt.Sprintf("INFERSWEEP_LOCAL_%s_PORT=%d", name, port))
	}
	compose := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "docker-compose", append([]string{"-f", "compose/compose.local.yaml", "-p", project}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := compose(context.Background(), "logs", "--no-color", "--tail", "40")
			t.Logf("compose logs:\n%s", logs)
		}
		_, _ = compose(context.Background(), "down", "-v", "--remove-orphans")
	})

	out, err := compose(ctx, "up", "-d")
	require.NoError(t, err, out)
	// Docker keeps a service's last five checks: read the stack's first
	// passing one before more pass.
	stackHealthy := firstHealthy(t, project, "stack")
	waitHealthy(ctx, t, project, []string{"stack", "control", "sim-h100-0", "serve"})
	for _, svc := range []string{"control", "sim-h100-0", "serve"} {
		require.True(t, started(t, project, svc).After(stackHealthy), "%s started only once the stack was healthy", svc)
	}

	sweepID := "compose-" + strconv.Itoa(os.Getpid())
	run := exec.CommandContext(ctx, bin, "sweep", "run", "-f", "../examples/sweep.yaml", "--runners", "../examples/runners.yaml",
		"--settings", "../examples/settings.yaml", "--runner-type", "sim-h100", "--max-conc", "8", "--time-scale", "20",
		"--id", sweepID, "--wait", "-o", "json")
	run.Env = append(os.Environ(), "INFERSWEEP_TEMPORAL_ADDRESS=127.0.0.1:"+strconv.Itoa(ports["TEMPORAL"]),
		"INFERSWEEP_S3_ENDPOINT=http://127.0.0.1:"+strconv.Itoa(ports["S3"]), "INFERSWEEP_S3_PATH_STYLE=true", "INFERSWEEP_S3_BUCKET=infersweep",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local-unchecked")
	result, err := run.CombinedOutput()
	require.NoError(t, err, "sweep run --wait: %s", result)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/api/v1/sweeps/%s", ports["API"], sweepID), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer local")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var manifest struct {
		SweepID string         `json:"sweep_id"`
		Counts  map[string]int `json:"counts"`
	}
	require.NoError(t, json.Unmarshal(body, &manifest), "%s", body)
	require.Equal(t, sweepID, manifest.SweepID)
	require.Positive(t, manifest.Counts["succeeded"], "%s", body)

	out, err = compose(ctx, "down", "-v")
	require.NoError(t, err, out)
	for _, kind := range []string{"ps -a", "volume ls", "network ls"} {
		left, err := exec.Command("docker", append(strings.Fields(kind), "-q", "--filter", "label=com.docker.compose.project="+project)...).CombinedOutput()
		require.NoError(t, err, "%s", left)
		require.Empty(t, strings.TrimSpace(string(left)), "docker %s: down -v leaves nothing of the project", kind)
	}
}

// waitHealthy waits until every service's container reports healthy.
func waitHealthy(ctx context.Context, t *testing.T, project string, services []string) {
	t.Helper()
	for _, svc := range services {
		for {
			if state := inspect(t, project, svc, "{{.State.Health.Status}}"); state == "healthy" {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s not healthy: %s", svc, inspect(t, project, svc, "{{json .State}}"))
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// firstHealthy is when the service's first passing health check ended.
func firstHealthy(t *testing.T, project, service string) time.Time {
	t.Helper()
	var log []struct {
		End      time.Time
		ExitCode int
	}
	require.NoError(t, json.Unmarshal([]byte(inspect(t, project, service, "{{json .State.Health.Log}}")), &log))
	for _, check := range log {
		if check.ExitCode == 0 {
			return check.End
		}
	}
	t.Fatalf("%s has no passing health check in its log", service)
	return time.Time{}
}

func started(t *testing.T, project, service string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, inspect(t, project, service, "{{.State.StartedAt}}"))
	require.NoError(t, err)
	return at
}

// inspect formats the service's container (compose v1 names it
// project_service_1).
func inspect(t *testing.T, project, service, format string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "-f", format, project+"_"+service+"_1").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return strings.TrimSpace(string(out))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestMain(m *testing.M) { os.Exit(launchtest.Main(m)) }
