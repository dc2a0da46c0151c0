package results

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

func TestS3ConfigValidate(t *testing.T) {
	valid := S3Config{Endpoint: "http://127.0.0.1:9000", Region: "us-east-1", Bucket: "infersweep", PathStyle: true}
	tests := []struct {
		name    string
		mutate  func(*S3Config)
		wantErr string
	}{
		{"valid", func(*S3Config) {}, ""},
		{"aws endpoint", func(c *S3Config) { c.Endpoint = "" }, ""},
		{"endpoint without scheme", func(c *S3Config) { c.Endpoint = "127.0.0.1:9000" }, "INFERSWEEP_S3_ENDPOINT=\"127.0.0.1:9000\""},
		{"empty region", func(c *S3Config) { c.Region = "" }, "INFERSWEEP_S3_REGION is empty"},
		{"upper-case bucket", func(c *S3Config) { c.Bucket = "Results" }, "INFERSWEEP_S3_BUCKET=\"Results\": not a valid bucket name"},
		{"short bucket", func(c *S3Config) { c.Bucket = "ab" }, "not a valid bucket name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mutate(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestLoadS3ConfigFromEnvironment(t *testing.T) {
	t.Setenv("INFERSWEEP_S3_ENDPOINT", "http://127.0.0.1:7070")
	t.Setenv("INFERSWEEP_S3_BUCKET", "nightly-lake")
	t.Setenv("INFERSWEEP_S3_PATH_STYLE", "true")
	cfg, err := LoadS3Config()
	require.NoError(t, err)
	require.Equal(t, S3Config{Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", Bucket: "nightly-lake", PathStyle: true}, cfg)
	require.Contains(t, cfg.Env(), "INFERSWEEP_S3_PATH_STYLE=true")

	t.Setenv("INFERSWEEP_S3_PATH_STYLE", "yes please")
	_, err = LoadS3Config()
	require.ErrorContains(t, err, "S3_PATH_STYLE")
}

// realS3 describes the S3 server CI starts (versitygw, which verifies SigV4
// signatures and pages like AWS). Outside CI the test skips unless the
// variables are set; under CI a missing server fails the run.
func realS3(t *testing.T) (S3Config, aws.Credentials) {
	t.Helper()
	endpoint := os.Getenv("INFERSWEEP_TEST_S3_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but INFERSWEEP_TEST_S3_ENDPOINT is unset: .ci/run must start the S3 server")
		}
		t.Skip("no real S3 server: run `bash .ci/run`, or start one and set INFERSWEEP_TEST_S3_ENDPOINT, INFERSWEEP_TEST_S3_ACCESS_KEY, INFERSWEEP_TEST_S3_SECRET_KEY")
	}
	cfg := S3Config{Endpoint: endpoint, Region: "us-east-1", Bucket: fmt.Sprintf("infersweep-test-%d", time.Now().UnixNano()), PathStyle: true}
	creds := aws.Credentials{AccessKeyID: os.Getenv("INFERSWEEP_TEST_S3_ACCESS_KEY"), SecretAccessKey: os.Getenv("INFERSWEEP_TEST_S3_SECRET_KEY")}
	return cfg, creds
}

func clientWith(t *testing.T, cfg S3Config, creds aws.Credentials) *s3.Client {
	t.Helper()
	c, err := NewS3Client(context.Background(), cfg, awsconfig.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: creds}))
	require.NoError(t, err)
	return c
}

func TestStoreRoundTripAgainstRealS3(t *testing.T) {
	cfg, creds := realS3(t)
	ctx := context.Background()
	c := clientWith(t, cfg, creds)
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)})
	require.NoError(t, err)
	store := NewStore(c, cfg.Bucket)

	// More keys than one ListObjectsV2 page holds (1000), so List must
	// follow continuation tokens.
	const n = 1005
	for i := range n {
		key := fmt.Sprintf("v1/points/dt=2026-11-27/hardware=h100/sweep=s1/p%04d.parquet", i)
		require.NoError(t, store.Put(ctx, key, []byte(strings.Repeat("x", i%7)), "application/vnd.apache.parquet"))
	}
	require.NoError(t, store.Put(ctx, "v1/manifests/dt=2026-11-27/sweep=s1.json", []byte(`{"points":1005}`), "application/json"))

	points, err := store.List(ctx, "v1/points/")
	require.NoError(t, err)
	require.Len(t, points, n)
	require.Equal(t, "v1/points/dt=2026-11-27/hardware=h100/sweep=s1/p0006.parquet", points[6].Key)
	require.EqualValues(t, 6, points[6].Size)

	body, err := store.Get(ctx, "v1/manifests/dt=2026-11-27/sweep=s1.json")
	require.NoError(t, err)
	require.JSONEq(t, `{"points":1005}`, string(body))

	_, err = store.Get(ctx, "v1/manifests/dt=2026-11-27/sweep=missing.json")
	require.ErrorContains(t, err, "s3 get s3://"+cfg.Bucket+"/v1/manifests/dt=2026-11-27/sweep=missing.json")
}

func TestStoreRejectsWrongSecretWithClearError(t *testing.T) {
	cfg, creds := realS3(t)
	creds.SecretAccessKey += "-wrong"
	store := NewStore(clientWith(t, cfg, creds), cfg.Bucket)

	err := store.Put(context.Background(), "k", []byte("v"), "text/plain")
	require.ErrorIs(t, err, ErrCredentials)
	require.ErrorContains(t, err, "check AWS_SECRET_ACCESS_KEY")
	require.ErrorContains(t, err, "SignatureDoesNotMatch")
}
