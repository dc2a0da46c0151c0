package workers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/kelseyhightower/envconfig"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
)

// EnvPrefix is the prefix of every infersweep environment variable.
const EnvPrefix = "INFERSWEEP"

// TemporalConfig says how to reach the Temporal service: a dev server, a
// self-hosted cluster with mTLS, or Temporal Cloud with an API key.
type TemporalConfig struct {
	Address       string `envconfig:"TEMPORAL_ADDRESS" default:"127.0.0.1:7233" desc:"Temporal frontend host:port"`
	Namespace     string `envconfig:"TEMPORAL_NAMESPACE" default:"default" desc:"Temporal namespace"`
	TLSCertFile   string `envconfig:"TEMPORAL_TLS_CERT" desc:"client certificate (PEM) for mTLS"`
	TLSKeyFile    string `envconfig:"TEMPORAL_TLS_KEY" desc:"client key (PEM) for mTLS"`
	TLSCAFile     string `envconfig:"TEMPORAL_TLS_CA" desc:"CA bundle (PEM) that signed the server certificate; system roots when empty"`
	TLSServerName string `envconfig:"TEMPORAL_TLS_SERVER_NAME" desc:"server name to verify, when it differs from the address host"`
	APIKey        string `envconfig:"TEMPORAL_API_KEY" desc:"Temporal Cloud API key (implies TLS)"`
}

// LoadTemporalConfig reads INFERSWEEP_TEMPORAL_* and checks it.
func LoadTemporalConfig() (TemporalConfig, error) {
	var cfg TemporalConfig
	if err := envconfig.Process(EnvPrefix, &cfg); err != nil {
		return cfg, fmt.Errorf("temporal config: %w", err)
	}
	return cfg, cfg.Validate()
}

// Validate reports the first setting that cannot work, naming its variable.
func (c TemporalConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		return fmt.Errorf("%s_TEMPORAL_ADDRESS=%q: want host:port: %w", EnvPrefix, c.Address, err)
	}
	if c.Namespace == "" {
		return fmt.Errorf("%s_TEMPORAL_NAMESPACE is empty", EnvPrefix)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return fmt.Errorf("%s_TEMPORAL_TLS_CERT and %s_TEMPORAL_TLS_KEY must be set together", EnvPrefix, EnvPrefix)
	}
	return nil
}

// UsesTLS tells whether connections are encrypted.
func (c TemporalConfig) UsesTLS() bool {
	return c.TLSCertFile != "" || c.TLSCAFile != "" || c.APIKey != ""
}

// Env renders the config as NAME=value pairs another process can import.
// Secrets are included: this is for handing a dev stack to a second shell.
func (c TemporalConfig) Env() []string {
	env := []string{
		EnvPrefix + "_TEMPORAL_ADDRESS=" + c.Address,
		EnvPrefix + "_TEMPORAL_NAMESPACE=" + c.Namespace,
	}
	for _, kv := range [][2]string{
		{"TEMPORAL_TLS_CERT", c.TLSCertFile}, {"TEMPORAL_TLS_KEY", c.TLSKeyFile},
		{"TEMPORAL_TLS_CA", c.TLSCAFile}, {"TEMPORAL_TLS_SERVER_NAME", c.TLSServerName},
		{"TEMPORAL_API_KEY", c.APIKey},
	} {
		if kv[1] != "" {
			env = append(env, EnvPrefix+"_"+kv[0]+"="+kv[1])
		}
	}
	return env
}

// Dial connects to Temporal and checks the connection, so a wrong address
// fails here with the address in the message rather than at first use.
// A non-nil metrics handler receives the SDK's metrics.
func Dial(ctx context.Context, cfg TemporalConfig, logger *slog.Logger, metrics ...client.MetricsHandler) (client.Client, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := client.Options{
		HostPort:      cfg.Address,
		Namespace:     cfg.Namespace,
		Logger:        sdklog.NewStructuredLogger(logger),
		DataConverter: guardPayloads(converter.GetDefaultDataConverter(), logger),
	}
	for _, m := range metrics {
		opts.MetricsHandler = m
	}
	if host, _, err := net.SplitHostPort(cfg.Address); err == nil && LoopbackHost(host) {
		// Compressing every poll and completion costs CPU the co-located
		// server needs and saves no bandwidth on loopback.
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	if cfg.UsesTLS() {
		tlsCfg, err := cfg.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts.ConnectionOptions.TLS = tlsCfg
	}
	if cfg.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s (namespace %s): %w", cfg.Address, cfg.Namespace, err)
	}
	return c, nil
}

func (c TemporalConfig) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load %s_TEMPORAL_TLS_CERT/KEY (%s, %s): %w", EnvPrefix, c.TLSCertFile, c.TLSKeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("read %s_TEMPORAL_TLS_CA: %w", EnvPrefix, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s_TEMPORAL_TLS_CA=%s: no PEM certificates in file", EnvPrefix, c.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// LoopbackHost says whether host (a name or an IP, no port) is this
// machine only.
func LoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
