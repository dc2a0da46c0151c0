// Package resultstest starts a real lake for tests of other packages: the
// dev stack's S3 store in memory, behind the same client production uses,
// so listings page and reads fail as they do against S3.
package resultstest

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/infersweep/infersweep/devstack/s3store"
	"github.com/infersweep/infersweep/results"
)

// Lake is an empty lake in memory, gone when the test ends.
func Lake(tb testing.TB) *results.Lake {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen for the S3 store: %v", err)
	}
	srv, err := s3store.Start(l, "", "lake", slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("start the S3 store: %v", err)
	}
	tb.Cleanup(func() { _ = srv.Stop(context.Background()) })
	cfg := results.S3Config{Endpoint: "http://" + l.Addr().String(), Region: "us-east-1", Bucket: "lake", PathStyle: true}
	creds := credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}}
	c, err := results.NewS3Client(context.Background(), cfg, awsconfig.WithCredentialsProvider(creds))
	if err != nil {
		tb.Fatalf("S3 client: %v", err)
	}
	return results.NewLake(results.NewStore(c, "lake"))
}
