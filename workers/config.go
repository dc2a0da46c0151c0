package workers

import (
	"context"
	"net/url"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/infersweep/infersweep/activities"
	"github.com/infersweep/infersweep/results"

	"github.com/aws/smithy-go/logging"
)

// credentialLookupTimeout bounds the AWS chain walk: off EC2 the instance
// metadata probe would otherwise hang for seconds.
const credentialLookupTimeout = 3 * time.Second

// EffectiveConfig is the configuration a worker would use, read from the
// environment, with every secret masked: what `infersweep config` shows.
type EffectiveConfig struct {
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
		WebhookURL string            `json:"webhook_url"`
		Format     string            `json:"format"`
		ReportURL  string            `json:"report_url,omitempty"`
		Kinds      []string          `json:"kinds"`
		Routes     map[string]string `json:"routes,omitempty"`
		FailedPct  float64           `json:"failed_points_pct"`
		StallAfter string            `json:"stall_after"`
	} `json:"alert"`
	APIToken string `json:"api_token"`
}

// LoadEffectiveConfig reads the Temporal, S3 and alert settings and
// where the AWS credential chain finds credentials; apiToken is the API's
// bearer token, shown masked. An error is an invalid setting.
func LoadEffectiveConfig(ctx context.Context, apiToken string) (EffectiveConfig, error) {
	var eff EffectiveConfig
	tcfg, err := LoadTemporalConfig()
	if err != nil {
		return eff, err
	}
	scfg, err := results.LoadS3Config()
	if err != nil {
		return eff, err
	}
	acfg, err := activities.LoadAlertConfig()
	if err != nil {
		return eff, err
	}
	t := &eff.Temporal
	t.ConfigFile, t.Profile = TemporalProfile()
	t.Address, t.Namespace, t.TLS = tcfg.Address, tcfg.Namespace, tcfg.UsesTLS()
	t.TLSCertFile, t.TLSKeyFile, t.TLSCAFile, t.TLSServerName = tcfg.TLSCertFile, tcfg.TLSKeyFile, tcfg.TLSCAFile, tcfg.TLSServerName
	t.APIKey = mask(tcfg.APIKey)
	eff.S3.S3Config = scfg
	eff.S3.AccessKeyID, eff.S3.SecretAccessKey, eff.S3.CredentialsSource = lookupCredentials(ctx, scfg.Region)
	eff.Alert.WebhookURL, eff.Alert.Format, eff.Alert.ReportURL = maskURL(acfg.WebhookURL), acfg.Format, acfg.ReportURL
	eff.Alert.Kinds, eff.Alert.FailedPct, eff.Alert.StallAfter = acfg.Kinds, acfg.FailedPointsPct, acfg.StallAfter.String()
	for pool, url := range acfg.Routes {
		if eff.Alert.Routes == nil {
			eff.Alert.Routes = map[string]string{}
		}
		eff.Alert.Routes[pool] = maskURL(url)
	}
	eff.APIToken = mask(apiToken)
	return eff, nil
}

// lookupCredentials walks the standard AWS chain and reports what it found,
// masked. A missing credential is reported, not an error: config is how a
// user finds out that one is missing.
func lookupCredentials(ctx context.Context, region string) (accessKeyID, secret, source string) {
	ctx, cancel := context.WithTimeout(ctx, credentialLookupTimeout)
	defer cancel()
	// The SDK's own warnings (off EC2: "falling back to IMDSv1") would
	// precede the report that already says what was and was not found.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region), awsconfig.WithLogger(logging.Nop{}))
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
