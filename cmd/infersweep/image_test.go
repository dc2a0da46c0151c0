package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestImageBuildRefusesBadInput(t *testing.T) {
	script := filepath.Join(t.TempDir(), "infersweep")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755))
	missing := filepath.Join(t.TempDir(), "nothing")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"missing binary", []string{"image", "build", "--binary", missing}, exitUsage, "--binary: stat " + missing + ": no such file or directory"},
		{"not an executable", []string{"image", "build", "--binary", script}, exitFailure, "build image from " + script + ": not an ELF executable"},
		{"stray argument", []string{"image", "build", "extra"}, exitUsage, "infersweep image build takes no arguments"},
		{"bad output format", []string{"image", "build", "-o", "yaml"}, exitUsage, `--output "yaml": want text or json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, tt.wantCode, run(context.Background(), tt.args, &stdout, &stderr), stderr.String())
			require.Contains(t, stderr.String(), tt.wantStderr)
			require.Empty(t, stdout.String())
		})
	}
}

func TestImageBuildPrints(t *testing.T) {
	built := builtImage{Tag: "infersweep/sim:dev", ID: "sha256:1c2b88", Binary: "/usr/bin/infersweep"}
	tests := []struct {
		name   string
		asJSON bool
		want   string
	}{
		{"text", false, "built infersweep/sim:dev (sha256:1c2b88) from /usr/bin/infersweep\n"},
		{"json", true, "{\n  \"tag\": \"infersweep/sim:dev\",\n  \"id\": \"sha256:1c2b88\",\n  \"binary\": \"/usr/bin/infersweep\"\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, printImage(&out, built, tt.asJSON))
			require.Equal(t, tt.want, out.String())
			if tt.asJSON {
				var back builtImage
				require.NoError(t, json.Unmarshal(out.Bytes(), &back))
				require.Equal(t, built, back)
			}
		})
	}
}
