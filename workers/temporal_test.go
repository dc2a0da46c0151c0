package workers

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadTemporalConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    TemporalConfig
		wantErr string
	}{
		{
			name: "defaults reach the dev server",
			want: TemporalConfig{Address: "127.0.0.1:7233", Namespace: "default"},
		},
		{
			name: "temporal cloud",
			env:  map[string]string{"INFERSWEEP_TEMPORAL_ADDRESS": "us-east-1.aws.api.temporal.io:7233", "INFERSWEEP_TEMPORAL_NAMESPACE": "bench.a1b2c", "INFERSWEEP_TEMPORAL_API_KEY": "secret-key"},
			want: TemporalConfig{Address: "us-east-1.aws.api.temporal.io:7233", Namespace: "bench.a1b2c", APIKey: "secret-key"},
		},
		{
			name:    "address without port",
			env:     map[string]string{"INFERSWEEP_TEMPORAL_ADDRESS": "temporal.internal"},
			wantErr: `INFERSWEEP_TEMPORAL_ADDRESS="temporal.internal": want host:port`,
		},
		{
			name:    "cert without key",
			env:     map[string]string{"INFERSWEEP_TEMPORAL_TLS_CERT": "/etc/tls/client.pem"},
			wantErr: "INFERSWEEP_TEMPORAL_TLS_CERT and INFERSWEEP_TEMPORAL_TLS_KEY must be set together",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := LoadTemporalConfig()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.want.APIKey != "", got.UsesTLS())
		})
	}
}

func TestDialNamesTheBadFile(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, []byte("not a certificate"), 0o600))
	_, err := Dial(context.Background(), TemporalConfig{Address: "127.0.0.1:1", Namespace: "default", TLSCAFile: ca}, nil)
	require.ErrorContains(t, err, "INFERSWEEP_TEMPORAL_TLS_CA="+ca+": no PEM certificates in file")
}
