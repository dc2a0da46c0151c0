// Package s3store is the dev stack's S3-compatible store: gofakes3 over a
// bbolt file (or memory), served over HTTP. Tests of the lake use it too.
package s3store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	bolt "go.etcd.io/bbolt"
)

// Server is an S3-compatible endpoint backed by one bbolt file: every
// PUT is a bbolt transaction, so a crash never leaves a torn object, and
// ListObjectsV2 pages like AWS. It does not verify request signatures,
// which is acceptable for a store bound to loopback.
type Server struct {
	http *http.Server
	db   *bolt.DB // nil when ephemeral
	done chan error
}

// boltLockTimeout bounds the wait for the state file's lock, so a second
// `infersweep dev` on the same state dir fails with a message instead of
// hanging.
const boltLockTimeout = 2 * time.Second

// Start serves the store on listener with bucket created. An empty dbFile
// keeps objects in memory. Non-nil faults make it fail some requests.
func Start(listener net.Listener, dbFile, bucket string, logger *slog.Logger, faults ...*Faults) (*Server, error) {
	srv := &Server{done: make(chan error, 1)}
	var backend gofakes3.Backend
	if dbFile == "" {
		backend = s3mem.New()
	} else {
		db, err := bolt.Open(dbFile, 0o600, &bolt.Options{Timeout: boltLockTimeout})
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: locked by another process (is another `infersweep dev` using this state dir?)", dbFile)
		}
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", dbFile, err)
		}
		srv.db = db
		backend = s3bolt.New(db)
	}
	if err := ensureBucket(backend, bucket); err != nil {
		srv.closeDB()
		return nil, err
	}

	fake := gofakes3.New(backend, gofakes3.WithLogger(s3Logger{logger: logger}))
	handler := fake.Server()
	for _, f := range faults {
		handler = f.wrap(handler)
	}
	srv.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		err := srv.http.Serve(listener)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		srv.done <- err
	}()
	return srv, nil
}

func ensureBucket(backend gofakes3.Backend, bucket string) error {
	exists, err := backend.BucketExists(bucket)
	if err != nil {
		return fmt.Errorf("check bucket %q: %w", bucket, err)
	}
	if exists {
		return nil
	}
	if err := backend.CreateBucket(bucket); err != nil {
		return fmt.Errorf("create bucket %q: %w", bucket, err)
	}
	return nil
}

// Stop shuts the server down and closes the state file.
func (s *Server) Stop(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if serveErr := <-s.done; serveErr != nil && err == nil {
		err = serveErr
	}
	s.closeDB()
	return err
}

func (s *Server) closeDB() {
	if s.db != nil {
		_ = s.db.Close()
	}
}

// s3Logger forwards gofakes3's messages at debug level: it reports every
// client mistake (a missing key, say) as an error, which is noise for a
// dev store whose clients probe for objects on purpose.
type s3Logger struct {
	logger *slog.Logger
}

func (l s3Logger) Print(level gofakes3.LogLevel, v ...any) {
	l.logger.Debug(fmt.Sprint(v...), "component", "s3", "s3_level", string(level))
}
