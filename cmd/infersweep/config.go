package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/workers"
)

// credentialLookupTimeout bounds the AWS chain walk: off EC2 the instance
// metadata probe would otherwise hang for seconds.
const credentialLookupTimeout = 3 * time.Second

func newConfigCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration, secrets masked",
		Long: `config prints the configuration infersweep reads from the environment.
Temporal: the settings every Temporal tool reads (a temporal.toml profile,
chosen by TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE, then TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS and TEMPORAL_TLS_*), with
INFERSWEEP_TEMPORAL_ADDRESS, _NAMESPACE, _TLS_CERT, _TLS_KEY, _TLS_CA,
_TLS_SERVER_NAME and _API_KEY winning where set. Also
INFERSWEEP_S3_* (endpoint, region, bucket, path style), INFERSWEEP_ALERT_*
(webhook, format, report link) and INFERSWEEP_API_TOKEN, plus where the AWS
credential chain found credentials. Secrets are masked. It exits 2 when a
setting is invalid.`,
		Example: `  infersweep config
  INFERSWEEP_S3_ENDPOINT=http://127.0.0.1:9000 infersweep config -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConfig(cmd.Context(), cmd.OutOrStdout(), g)
		},
	}
}

type effectiveConfig struct {
	Temporal struct {
		ConfigFile    string `json:"config_file"`
		Profile       string `json:"profile"`
		Address       string `json:"address"`
		Namespace     string `json:"namespace"`
		TLS           bool   `json:"tls"`
		TLSCertFile   string `json:"tls_cert_file,omitempty"`
		TLSKeyFile    string `json:"tls_key_file,omitempty"`
		TLSCAFile     string `json:"tls_ca_file,omitempty"`
		TLSServerName string `json:"tls_server_name,omitempty"`
		APIKey        string `json:"api_key"`
	} `json:"temporal"`
	S3 struct {
		results.S3Config
		AccessKeyID       string `json:"access_key_id"`
		SecretAccessKey   string `json:"secret_access_key"`
		CredentialsSource string `json:"credentials_source"`
	} `json:"s3"`
	Alert struct {
		WebhookURL string `json:"webhook_url"`
		Format     string `json:"format"`
		ReportURL  string `json:"report_url,omitempty"`
	} `json:"alert"`
	APIToken string `json:"api_token"`
}

func runConfig(ctx context.Context, out io.Writer, g *globalFlags) error {
	asJSON, err := g.jsonOutput()
	if err != nil {
		return err
	}
	tcfg, err := workers.LoadTemporalConfig()
	if err != nil {
		return usageError{err}
	}
	scfg, err := results.LoadS3Config()
	if err != nil {
		return usageError{err}
	}
	acfg, err := activities.LoadAlertConfig()
	if err != nil {
		return usageError{err}
	}

	var eff effectiveConfig
	t := &eff.Temporal
	t.ConfigFile, t.Profile = workers.TemporalProfile()
	t.Address, t.Namespace, t.TLS = tcfg.Address, tcfg.Namespace, tcfg.UsesTLS()
	t.TLSCertFile, t.TLSKeyFile, t.TLSCAFile, t.TLSServerName = tcfg.TLSCertFile, tcfg.TLSKeyFile, tcfg.TLSCAFile, tcfg.TLSServerName
	t.APIKey = mask(tcfg.APIKey)
	eff.S3.S3Config = scfg
	eff.S3.AccessKeyID, eff.S3.SecretAccessKey, eff.S3.CredentialsSource = lookupCredentials(ctx, scfg.Region)
	eff.Alert.WebhookURL, eff.Alert.Format, eff.Alert.ReportURL = maskURL(acfg.WebhookURL), acfg.Format, acfg.ReportURL
	eff.APIToken = mask(os.Getenv(apiTokenEnv))

	if asJSON {
		return writeJSON(out, eff)
	}
	endpoint := scfg.Endpoint
	if endpoint == "" {
		endpoint = "(AWS)"
	}
	_, err = fmt.Fprintf(out, `Temporal (INFERSWEEP_TEMPORAL_* over TEMPORAL_* over the profile)
  profile          %s in %s
  address          %s
  namespace        %s
  tls              %t
  tls cert/key/ca  %s / %s / %s
  tls server name  %s
  api key          %s
S3
  endpoint         %s
  region           %s
  bucket           %s
  path style       %t
  access key id    %s
  secret key       %s
  credentials from %s
Alerts
  webhook          %s
  format           %s
  report url       %s
API
  bearer token     %s
`, t.Profile, t.ConfigFile, t.Address, t.Namespace, t.TLS, orNone(t.TLSCertFile), orNone(t.TLSKeyFile), orNone(t.TLSCAFile), orNone(t.TLSServerName), t.APIKey,
		endpoint, scfg.Region, scfg.Bucket, scfg.PathStyle, eff.S3.AccessKeyID, eff.S3.SecretAccessKey, eff.S3.CredentialsSource,
		orNone(eff.Alert.WebhookURL), eff.Alert.Format, orNone(eff.Alert.ReportURL), eff.APIToken)
	return err
}

// lookupCredentials walks the standard AWS chain and reports what it found,
// masked. A missing credential is reported, not an error: config is how a
// user finds out that one is missing.
func lookupCredentials(ctx context.Context, region string) (accessKeyID, secret, source string) {
	ctx, cancel := context.WithTimeout(ctx, credentialLookupTimeout)
	defer cancel()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return "(none)", "(none)", "error: " + err.Error()
	}
	creds, err := awsCfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "(none)", "(none)", "not found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
	}
	return mask(creds.AccessKeyID), mask(creds.SecretAccessKey), creds.Source
}

// mask keeps the last four characters of long secrets, enough to tell two
// keys apart without revealing either.
func mask(secret string) string {
	switch {
	case secret == "":
		return "(none)"
	case len(secret) < 12:
		return "****"
	default:
		return "****" + secret[len(secret)-4:]
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// maskURL shows where a secret URL points (a Slack webhook's path is its
// token) without the part that grants access.
func maskURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return mask(raw)
	}
	return u.Scheme + "://" + u.Host + "/" + mask(strings.TrimPrefix(u.Path, "/"))
}
