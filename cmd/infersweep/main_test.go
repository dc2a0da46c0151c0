package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strconv"
	"testing"

	"github.com/infersweep/infersweep/workers"
	"github.com/stretchr/testify/require"
)

func TestExitCodesAndMessages(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"help", []string{"--help"}, nil, exitOK, "infersweep dev", ""},
		{"unknown command", []string{"sweeep"}, nil, exitUsage, "", `unknown command "sweeep"`},
		{"unknown flag", []string{"config", "--bogus"}, nil, exitUsage, "", "unknown flag: --bogus"},
		{"bad output format", []string{"version", "-o", "yaml"}, nil, exitUsage, "", `--output "yaml": want text or json`},
		{"stray argument", []string{"version", "extra"}, nil, exitUsage, "", "takes no arguments"},
		{"invalid config", []string{"config"}, map[string]string{"INFERSWEEP_S3_BUCKET": "Bad_Bucket"}, exitUsage, "", `INFERSWEEP_S3_BUCKET="Bad_Bucket"`},
		{
			"busy temporal port names the flag", []string{"dev", "--ephemeral", "--port", busyPort, "--ui-port", "0", "--s3-port", "0"}, nil,
			exitUsage, "", "pass --port with a free port",
		},
		{
			"busy ui port names the flag", []string{"dev", "--ephemeral", "--port", "0", "--ui-port", busyPort, "--s3-port", "0"}, nil,
			exitUsage, "", "pass --ui-port with a free port",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			require.Equal(t, tt.wantCode, code, "stderr: %s", stderr.String())
			require.Contains(t, stdout.String(), tt.wantStdout)
			require.Contains(t, stderr.String(), tt.wantStderr)
		})
	}
}

func TestConfigMasksSecrets(t *testing.T) {
	t.Setenv("INFERSWEEP_TEMPORAL_ADDRESS", "bench.a1b2c.tmprl.cloud:7233")
	t.Setenv("INFERSWEEP_TEMPORAL_API_KEY", "eyJhbGciOiJFUzI1NiJ9.secret-part.sig9Z")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY1234")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")

	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"config", "-o", "json"}, &stdout, &stderr), stderr.String())
	require.NotContains(t, stdout.String(), "secret-part")
	require.NotContains(t, stdout.String(), "wJalrXUtnFEMI")

	var got workers.EffectiveConfig
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &got))
	require.Equal(t, "bench.a1b2c.tmprl.cloud:7233", got.Temporal.Address)
	require.True(t, got.Temporal.TLS)
	require.Equal(t, "****ig9Z", got.Temporal.APIKey)
	require.Equal(t, "****1234", got.S3.AccessKeyID)
	require.Equal(t, "****EKEY", got.S3.SecretAccessKey)
	require.Equal(t, "EnvConfigCredentials", got.S3.CredentialsSource)
	require.Equal(t, "infersweep", got.S3.Bucket)
}

func TestVersionJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"version", "-o", "json"}, &stdout, &stderr))
	var v workers.Version
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &v))
	require.NotEmpty(t, v.GoVersion)
	// The pin go.mod explains; a result records it to be explained later.
	require.Equal(t, "v1.50.0", v.Dependencies["go.temporal.io/sdk"])
}
