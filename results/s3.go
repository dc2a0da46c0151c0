package results

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/kelseyhightower/envconfig"
)

const envPrefix = "INFERSWEEP"

// S3Config says where the lake lives. Credentials are not here: they come
// from the standard AWS chain (environment, shared files, IAM role).
type S3Config struct {
	Endpoint  string `envconfig:"S3_ENDPOINT" desc:"S3 endpoint URL; empty for AWS"`
	Region    string `envconfig:"S3_REGION" default:"us-east-1" desc:"S3 region"`
	Bucket    string `envconfig:"S3_BUCKET" default:"infersweep" desc:"bucket that holds the lake"`
	PathStyle bool   `envconfig:"S3_PATH_STYLE" default:"false" desc:"path-style addressing (MinIO, versitygw, the dev store)"`
}

// LoadS3Config reads INFERSWEEP_S3_* and checks it.
func LoadS3Config() (S3Config, error) {
	var cfg S3Config
	if err := envconfig.Process(envPrefix, &cfg); err != nil {
		return cfg, fmt.Errorf("s3 config: %w", err)
	}
	return cfg, cfg.Validate()
}

// bucketName is AWS's rule for new general-purpose buckets.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Validate reports the first setting that cannot work, naming its variable.
func (c S3Config) Validate() error {
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s_S3_ENDPOINT=%q: want a URL like http://127.0.0.1:9000", envPrefix, c.Endpoint)
		}
	}
	if c.Region == "" {
		return fmt.Errorf("%s_S3_REGION is empty", envPrefix)
	}
	if !bucketName.MatchString(c.Bucket) {
		return fmt.Errorf("%s_S3_BUCKET=%q: not a valid bucket name (3-63 of a-z, 0-9, '.', '-')", envPrefix, c.Bucket)
	}
	return nil
}

// Env renders the config as NAME=value pairs another process can import.
func (c S3Config) Env() []string {
	return []string{
		envPrefix + "_S3_ENDPOINT=" + c.Endpoint,
		envPrefix + "_S3_REGION=" + c.Region,
		envPrefix + "_S3_BUCKET=" + c.Bucket,
		fmt.Sprintf("%s_S3_PATH_STYLE=%t", envPrefix, c.PathStyle),
	}
}

// NewS3Client builds a client for cfg. Extra load options (static
// credentials for the dev stack, say) override the standard chain.
func NewS3Client(ctx context.Context, cfg S3Config, opts ...func(*awsconfig.LoadOptions) error) (*s3.Client, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, append([]func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// A loaded store answers 500 or 503 SlowDown now and then: five
		// attempts with backoff ride through a blip (the SDK's default is
		// three); Temporal retries the activity beyond that.
		o.RetryMaxAttempts = 5
		// Only AWS computes CRC checksums on every request by default;
		// S3-compatible stores differ, and the lake relies on ETags and
		// write-once keys rather than trailing checksums.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}), nil
}

// Store reads and writes objects in the lake's bucket.
type Store struct {
	client *s3.Client
	bucket string
	// pageSize is ListObjectsV2's MaxKeys; 0 leaves the server's default.
	pageSize int32
}

// NewStore wraps a client bound to one bucket.
func NewStore(client *s3.Client, bucket string) *Store {
	return &Store{client: client, bucket: bucket}
}

// WithPageSize returns a store that lists n keys per request, to exercise
// paging.
func (s *Store) WithPageSize(n int32) *Store {
	c := *s
	c.pageSize = n
	return &c
}

// Bucket is the store's bucket name.
func (s *Store) Bucket() string { return s.bucket }

// ErrExists is returned by PutIfAbsent when the key already holds an object.
var ErrExists = errors.New("object already exists")

// PutIfAbsent stores body only if key is free (If-None-Match: *), so two
// writers of one key can never both succeed.
func (s *Store) PutIfAbsent(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String(contentType),
		IfNoneMatch: aws.String("*"),
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "PreconditionFailed" || apiErr.ErrorCode() == "ConditionalRequestConflict") {
		return fmt.Errorf("s3 put s3://%s/%s: %w", s.bucket, key, ErrExists)
	}
	return s.wrap("put", key, err)
}

// Size is the object's length in bytes.
func (s *Store) Size(ctx context.Context, key string) (int64, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return 0, s.wrap("head", key, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// GetRange reads length bytes at off.
func (s *Store) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+length-1)),
	})
	if err != nil {
		return nil, s.wrap("get range of", key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	return body, s.wrap("read", key, err)
}

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// Put stores body under key. The body is in memory because the SDK needs a
// seekable body to sign a request sent over plain HTTP.
func (s *Store) Put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String(contentType),
	})
	return s.wrap("put", key, err)
}

// Get returns the whole object at key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	return body, s.wrap("read", key, err)
}

// List returns every object under prefix, following continuation tokens.
func (s *Store) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	return s.ListAfter(ctx, prefix, "")
}

// ListAfter lists keys under prefix that sort after startAfter: a date
// range of a Hive-partitioned prefix without listing what comes before.
func (s *Store) ListAfter(ctx context.Context, prefix, startAfter string) ([]ObjectInfo, error) {
	var objects []ObjectInfo
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	if s.pageSize > 0 {
		in.MaxKeys = aws.Int32(s.pageSize)
	}
	pages := s3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.wrap("list", prefix, err)
		}
		for _, o := range page.Contents {
			objects = append(objects, ObjectInfo{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)})
		}
	}
	return objects, nil
}

// authHints turn the S3 error codes that mean "your credentials are wrong"
// into the fix, since the SDK's own text only names the code.
var authHints = map[string]string{
	"SignatureDoesNotMatch": "the secret key does not match the access key: check AWS_SECRET_ACCESS_KEY",
	"InvalidAccessKeyId":    "the access key is unknown to this S3 endpoint: check AWS_ACCESS_KEY_ID",
	"AccessDenied":          "the credentials lack permission on this bucket",
}

// ErrCredentials marks errors caused by rejected credentials.
var ErrCredentials = errors.New("s3 credentials rejected")

// ErrNotFound is returned for a key that holds no object.
var ErrNotFound = errors.New("no such object")

func (s *Store) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if hint, ok := authHints[apiErr.ErrorCode()]; ok {
			return fmt.Errorf("s3 %s s3://%s/%s: %w: %s (%s)", op, s.bucket, key, ErrCredentials, hint, apiErr.ErrorCode())
		}
		if code := apiErr.ErrorCode(); code == "NoSuchKey" || code == "NotFound" {
			return fmt.Errorf("s3 %s s3://%s/%s: %w", op, s.bucket, key, ErrNotFound)
		}
	}
	return fmt.Errorf("s3 %s s3://%s/%s: %w", op, s.bucket, key, err)
}
