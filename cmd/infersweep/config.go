package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/workers"
)

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

func runConfig(ctx context.Context, out io.Writer, g *globalFlags) error {
	asJSON, err := g.jsonOutput()
	if err != nil {
		return err
	}
	eff, err := workers.LoadEffectiveConfig(ctx, os.Getenv(apiTokenEnv))
	if err != nil {
		return usageError{err}
	}
	t, scfg := eff.Temporal, eff.S3.S3Config
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
  kinds            %s
  pool routes      %s
  failed points    more than %g%%
  stalled after    %s
API
  bearer token     %s
`, t.Profile, t.ConfigFile, t.Address, t.Namespace, t.TLS, orNone(t.TLSCertFile), orNone(t.TLSKeyFile), orNone(t.TLSCAFile), orNone(t.TLSServerName), t.APIKey,
		endpoint, scfg.Region, scfg.Bucket, scfg.PathStyle, eff.S3.AccessKeyID, eff.S3.SecretAccessKey, eff.S3.CredentialsSource,
		orNone(eff.Alert.WebhookURL), eff.Alert.Format, orNone(eff.Alert.ReportURL), strings.Join(eff.Alert.Kinds, ", "), orNone(routesText(eff.Alert.Routes)),
		eff.Alert.FailedPct, eff.Alert.StallAfter, eff.APIToken)
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func routesText(routes map[string]string) string {
	var parts []string
	for _, pool := range slices.Sorted(maps.Keys(routes)) {
		parts = append(parts, pool+" → "+routes[pool])
	}
	return strings.Join(parts, ", ")
}
