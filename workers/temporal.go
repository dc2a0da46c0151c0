package workers

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/kelseyhightower/envconfig"
	"go.temporal.io/sdk/client"
	temporalenv "go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
)

// EnvPrefix is the prefix of every infersweep environment variable.
const EnvPrefix = "INFERSWEEP"

// defaultAddress and defaultNamespace reach `temporal server start-dev`
// and the dev stack when nothing else is set.
const (
	defaultAddress   = "127.0.0.1:7233"
	defaultNamespace = "default"
)

// TemporalConfig says how to reach the Temporal service: a dev server, a
// self-hosted cluster with mTLS, or Temporal Cloud with an API key.
//
// Temporal's own settings come first, as every Temporal tool reads them
// (the SDK's envconfig: a temporal.toml profile, then TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*), so a machine
// already set up for the temporal CLI needs nothing more; INFERSWEEP_TEMPORAL_*
// win where set, so one infersweep deployment can point elsewhere.
type TemporalConfig struct {
	Address       string `envconfig:"TEMPORAL_ADDRESS" desc:"Temporal frontend host:port (default 127.0.0.1:7233)"`
	Namespace     string `envconfig:"TEMPORAL_NAMESPACE" desc:"Temporal namespace (default: default)"`
	TLSCertFile   string `envconfig:"TEMPORAL_TLS_CERT" desc:"client certificate (PEM) for mTLS"`
	TLSKeyFile    string `envconfig:"TEMPORAL_TLS_KEY" desc:"client key (PEM) for mTLS"`
	TLSCAFile     string `envconfig:"TEMPORAL_TLS_CA" desc:"CA bundle (PEM) that signed the server certificate; system roots when empty"`
	TLSServerName string `envconfig:"TEMPORAL_TLS_SERVER_NAME" desc:"server name to verify, when it differs from the address host"`
	APIKey        string `envconfig:"TEMPORAL_API_KEY" desc:"Temporal Cloud API key (implies TLS)"`
	// temporal is what Temporal's settings said; what infersweep has no
	// name for (PEM data, TEMPORAL_TLS, host verification, authority,
	// gRPC metadata) is taken from it alone.
	temporal temporalenv.ClientConfigProfile
}

// LoadTemporalConfig reads Temporal's settings, then INFERSWEEP_TEMPORAL_*
// over them, and checks the result.
func LoadTemporalConfig() (TemporalConfig, error) {
	prof, err := temporalenv.LoadClientConfigProfile(temporalenv.LoadClientConfigProfileOptions{})
	if err != nil {
		file, profile := TemporalProfile()
		return TemporalConfig{}, fmt.Errorf("temporal config (profile %q of %s, TEMPORAL_*): %w", profile, file, err)
	}
	cfg := TemporalConfig{Address: prof.Address, Namespace: prof.Namespace, APIKey: prof.APIKey, temporal: prof}
	if t := prof.TLS; t != nil {
		cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSCAFile, cfg.TLSServerName = t.ClientCertPath, t.ClientKeyPath, t.ServerCACertPath, t.ServerName
	}
	if err := envconfig.Process(EnvPrefix, &cfg); err != nil {
		return cfg, fmt.Errorf("temporal config: %w", err)
	}
	if cfg.Address == "" {
		cfg.Address = defaultAddress
	}
	if cfg.Namespace == "" {
		cfg.Namespace = defaultNamespace
	}
	return cfg, cfg.Validate()
}

// TemporalProfile says where Temporal's settings are read from: the
// temporal.toml file (TEMPORAL_CONFIG_FILE, else the user's config
// directory) and its profile (TEMPORAL_PROFILE, else default).
func TemporalProfile() (file, profile string) {
	file, profile = os.Getenv("TEMPORAL_CONFIG_FILE"), os.Getenv("TEMPORAL_PROFILE")
	if file == "" {
		file = temporalenv.DefaultConfigFilePath()
	}
	if profile == "" {
		profile = temporalenv.DefaultConfigFileProfile
	}
	return file, profile
}

// Validate reports the first setting that cannot work, naming both
// variables that may have set it.
func (c TemporalConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		return fmt.Errorf("%s_TEMPORAL_ADDRESS or TEMPORAL_ADDRESS=%q: want host:port: %w", EnvPrefix, c.Address, err)
	}
	if c.Namespace == "" {
		return fmt.Errorf("%s_TEMPORAL_NAMESPACE is empty", EnvPrefix)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return fmt.Errorf("%s_TEMPORAL_TLS_CERT and %s_TEMPORAL_TLS_KEY (or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH) must be set together", EnvPrefix, EnvPrefix)
	}
	return nil
}

// UsesTLS tells whether connections are encrypted: as Temporal decides
// it, TLS settings or an API key turn it on unless TEMPORAL_TLS=false.
func (c TemporalConfig) UsesTLS() bool {
	p := c.profile()
	if p.TLS != nil {
		return !p.TLS.Disabled
	}
	return p.APIKey != ""
}

// profile is Temporal's profile with infersweep's settings in it; a file
// of ours replaces PEM data given for the same thing.
func (c TemporalConfig) profile() temporalenv.ClientConfigProfile {
	p := c.temporal
	p.Address, p.Namespace, p.APIKey = c.Address, c.Namespace, c.APIKey
	if c.TLSCertFile == "" && c.TLSKeyFile == "" && c.TLSCAFile == "" && c.TLSServerName == "" {
		return p
	}
	var t temporalenv.ClientConfigTLS
	if p.TLS != nil {
		t = *p.TLS
	}
	t.Disabled, t.ServerName = false, c.TLSServerName
	if c.TLSCertFile != "" {
		t.ClientCertPath, t.ClientKeyPath, t.ClientCertData, t.ClientKeyData = c.TLSCertFile, c.TLSKeyFile, nil, nil
	}
	if c.TLSCAFile != "" {
		t.ServerCACertPath, t.ServerCACertData = c.TLSCAFile, nil
	}
	p.TLS = &t
	return p
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
	opts, err := cfg.clientOptions()
	if err != nil {
		return nil, err
	}
	opts.Logger = sdklog.NewStructuredLogger(logger)
	opts.DataConverter = guardPayloads(converter.GetDefaultDataConverter(), logger)
	for _, m := range metrics {
		opts.MetricsHandler = m
	}
	if host, _, err := net.SplitHostPort(cfg.Address); err == nil && LoopbackHost(host) {
		// Compressing every poll and completion costs CPU the co-located
		// server needs and saves no bandwidth on loopback.
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s (namespace %s): %w", cfg.Address, cfg.Namespace, err)
	}
	return c, nil
}

// clientOptions are the SDK's options for the profile, built by the SDK
// so TLS, API key, authority and metadata mean what they mean to the
// temporal CLI.
func (c TemporalConfig) clientOptions() (client.Options, error) {
	p := c.profile()
	opts, err := p.ToClientOptions(temporalenv.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal TLS (cert %q, key %q, CA %q): %w", c.TLSCertFile, c.TLSKeyFile, c.TLSCAFile, err)
	}
	return opts, nil
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
