package workers

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// profileFile is a temporal.toml as the temporal CLI writes it.
const profileFile = `
[profile.default]
address = "default.example:7233"
namespace = "from-profile"

[profile.cloud]
address = "us-east-1.aws.api.temporal.io:7233"
namespace = "bench.a1b2c"
api_key = "profile-key"
[profile.cloud.tls]
server_name = "cloud.example"
`

func TestLoadTemporalConfig(t *testing.T) {
	type want struct {
		address, namespace, apiKey, serverName string
		tls                                    bool
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    want
		wantErr string
	}{
		{name: "defaults reach the dev server", want: want{address: "127.0.0.1:7233", namespace: "default"}},
		{name: "Temporal's variables", env: map[string]string{"TEMPORAL_ADDRESS": "temporal.internal:7233", "TEMPORAL_NAMESPACE": "bench"},
			want: want{address: "temporal.internal:7233", namespace: "bench"}},
		{name: "ours win over Temporal's", env: map[string]string{"TEMPORAL_ADDRESS": "temporal.internal:7233", "TEMPORAL_NAMESPACE": "bench",
			"INFERSWEEP_TEMPORAL_ADDRESS": "ours.internal:7233"},
			want: want{address: "ours.internal:7233", namespace: "bench"}},
		{name: "temporal cloud through our variables", env: map[string]string{"INFERSWEEP_TEMPORAL_ADDRESS": "us-east-1.aws.api.temporal.io:7233",
			"INFERSWEEP_TEMPORAL_NAMESPACE": "bench.a1b2c", "INFERSWEEP_TEMPORAL_API_KEY": "secret-key"},
			want: want{address: "us-east-1.aws.api.temporal.io:7233", namespace: "bench.a1b2c", apiKey: "secret-key", tls: true}},
		{name: "Temporal's API key turns TLS on", env: map[string]string{"TEMPORAL_API_KEY": "their-key"},
			want: want{address: "127.0.0.1:7233", namespace: "default", apiKey: "their-key", tls: true}},
		{name: "TEMPORAL_TLS=false keeps an API key in plain text", env: map[string]string{"TEMPORAL_API_KEY": "their-key", "TEMPORAL_TLS": "false"},
			want: want{address: "127.0.0.1:7233", namespace: "default", apiKey: "their-key"}},
		{name: "our TLS setting overrides TEMPORAL_TLS=false", env: map[string]string{"TEMPORAL_TLS": "false", "INFERSWEEP_TEMPORAL_TLS_SERVER_NAME": "tls.example"},
			want: want{address: "127.0.0.1:7233", namespace: "default", serverName: "tls.example", tls: true}},
		{name: "default profile of temporal.toml", env: map[string]string{"TEMPORAL_CONFIG_FILE": "profile"},
			want: want{address: "default.example:7233", namespace: "from-profile"}},
		{name: "named profile, TLS and key from the file", env: map[string]string{"TEMPORAL_CONFIG_FILE": "profile", "TEMPORAL_PROFILE": "cloud"},
			want: want{address: "us-east-1.aws.api.temporal.io:7233", namespace: "bench.a1b2c", apiKey: "profile-key", serverName: "cloud.example", tls: true}},
		{name: "variables over the profile", env: map[string]string{"TEMPORAL_CONFIG_FILE": "profile", "TEMPORAL_PROFILE": "cloud",
			"TEMPORAL_NAMESPACE": "theirs", "INFERSWEEP_TEMPORAL_API_KEY": "ours-key"},
			want: want{address: "us-east-1.aws.api.temporal.io:7233", namespace: "theirs", apiKey: "ours-key", serverName: "cloud.example", tls: true}},
		{name: "a profile that is not there", env: map[string]string{"TEMPORAL_CONFIG_FILE": "profile", "TEMPORAL_PROFILE": "staging"},
			wantErr: "unable to find profile staging"},
		{name: "address without port", env: map[string]string{"TEMPORAL_ADDRESS": "temporal.internal"},
			wantErr: `INFERSWEEP_TEMPORAL_ADDRESS or TEMPORAL_ADDRESS="temporal.internal": want host:port`},
		{name: "cert without key", env: map[string]string{"INFERSWEEP_TEMPORAL_TLS_CERT": "/etc/tls/client.pem"},
			wantErr: "INFERSWEEP_TEMPORAL_TLS_CERT and INFERSWEEP_TEMPORAL_TLS_KEY (or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH) must be set together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// No temporal.toml of the machine running the test.
			t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(dir, "absent.toml"))
			for k, v := range tt.env {
				if v == "profile" {
					v = filepath.Join(dir, "temporal.toml")
					require.NoError(t, os.WriteFile(v, []byte(profileFile), 0o600))
				}
				t.Setenv(k, v)
			}
			got, err := LoadTemporalConfig()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			opts, err := got.clientOptions()
			require.NoError(t, err)
			require.Equal(t, tt.want, want{address: opts.HostPort, namespace: opts.Namespace, apiKey: got.APIKey,
				serverName: got.TLSServerName, tls: got.UsesTLS()})
			require.Equal(t, tt.want.tls, opts.ConnectionOptions.TLS != nil, "the SDK's options agree")
			require.Equal(t, tt.want.apiKey != "", opts.Credentials != nil)
			if opts.ConnectionOptions.TLS != nil {
				require.Equal(t, tt.want.serverName, opts.ConnectionOptions.TLS.ServerName)
			}
		})
	}
}

func TestDialNamesTheBadFile(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, []byte("not a certificate"), 0o600))
	_, err := Dial(context.Background(), TemporalConfig{Address: "127.0.0.1:1", Namespace: "default", TLSCAFile: ca}, nil)
	require.ErrorContains(t, err, `temporal TLS (cert "", key "", CA "`+ca+`"): invalid TLS config: failed adding server CA to CA pool`)
}
