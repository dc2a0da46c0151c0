package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The orchestrator's flags are refused with a message naming the fix.
func TestEngineRouterAndSimDisaggFlagErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"prefill without decode", []string{"engine", "router", "--prefill", "http://127.0.0.1:1"}, "needs both --prefill and --decode"},
		{"mixed modes", []string{"engine", "router", "--prefill", "http://a:1", "--decode", "http://b:1", "--workers", "http://c:1"}, "--workers cannot be mixed"},
		{"bad URL", []string{"engine", "router", "--workers", "c:1"}, `engine URL "c:1": want http://host:port`},
		{"bad role", []string{"engine", "sim", "--role", "verifier"}, `--role: role "verifier": want prefill, decode or aggregated`},
		{"bad link", []string{"engine", "sim", "--role", "decode", "--kv-link", "wifi"}, `--kv-link: kv link "wifi" is not in the catalogue`},
		{"ep on a dense model", []string{"engine", "sim", "--model", "llama-3.3-70b", "--tp", "8", "--ep", "8"}, "expert parallelism needs a MoE model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			require.Equal(t, exitUsage, code, "stderr: %s", stderr.String())
			require.Contains(t, stderr.String(), tt.wantStderr)
		})
	}
}
