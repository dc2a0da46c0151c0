package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	uiserver "github.com/temporalio/ui-server/v2/server"
	"go.temporal.io/sdk/client"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/infersweep/infersweep/devstack/s3store"

	"github.com/infersweep/infersweep/results"
	"github.com/infersweep/infersweep/workers"
	"github.com/infersweep/infersweep/workflows"
)

// Options choose where the stack listens and keeps its state. Zero ports
// mean "any free port", which is what tests want; the CLI passes the
// well-known defaults (7233, 8233, 9000).
type Options struct {
	// StateDir holds temporal.db and s3.bolt; ignored when Ephemeral.
	StateDir  string
	Ephemeral bool
	IP        string // default 127.0.0.1
	// TemporalPort is the frontend gRPC port; UIPort serves the Web UI;
	// S3Port the object store.
	TemporalPort int
	UIPort       int
	S3Port       int
	Namespace    string // default "default"
	Bucket       string // default "infersweep"
	Logger       *slog.Logger
	// S3Faults, when set, makes the S3 store fail some requests (chaos).
	S3Faults *s3store.Faults
	// TLS, when set, makes the frontend require mutual TLS, as a
	// production cluster does; the stack's own clients (and the UI) use
	// the same certificate.
	TLS *TLSFiles
}

// TLSFiles are PEM files: a certificate and key the frontend serves and
// clients present, and the CA that signed both.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
	ServerName                string // the name in the certificate; default the IP
}

// Service names the part of the stack a port belongs to, for errors that
// tell the user which flag to change.
type Service string

const (
	ServiceTemporal Service = "Temporal frontend"
	ServiceUI       Service = "Temporal Web UI"
	ServiceS3       Service = "S3 store"
)

// PortInUseError reports a port that another process holds.
type PortInUseError struct {
	Service Service
	Address string
	Err     error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("%s: cannot listen on %s: %v", e.Service, e.Address, e.Err)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// DevCredentials are the static keys the embedded store hands out. It does
// not check signatures, but the AWS SDK signs every request and needs some.
var DevCredentials = aws.Credentials{AccessKeyID: "infersweep", SecretAccessKey: "infersweep-dev-secret", Source: "infersweep dev stack"}

// Stack is a running dev stack. Stop it to release ports and flush state.
type Stack struct {
	Temporal workers.TemporalConfig
	S3       results.S3Config
	UIURL    string
	StateDir string // empty when ephemeral

	temporal *temporalServer
	ui       *uiserver.Server
	s3       *s3store.Server
	logger   *slog.Logger
}

// Start brings up Temporal, its Web UI and the S3 store, registers
// infersweep's search attributes, and returns once all three answer.
// Nothing is left running when it returns an error.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	opts = withDefaults(opts)
	stack := &Stack{logger: opts.Logger}
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = stack.Stop(stopCtx)
		}
	}()

	var temporalDB, s3DB string
	if !opts.Ephemeral {
		if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
			return nil, fmt.Errorf("create state dir: %w", err)
		}
		stack.StateDir = opts.StateDir
		temporalDB = filepath.Join(opts.StateDir, "temporal.db")
		s3DB = filepath.Join(opts.StateDir, "s3.bolt")
	}

	// The S3 listener is kept and served; the other two ports are probed,
	// because the Temporal and UI servers bind by themselves (and the UI
	// server exits the process when it can't).
	s3Listener, err := listen(ServiceS3, opts.IP, opts.S3Port)
	if err != nil {
		return nil, err
	}
	// A port the user named is checked before anything starts; a free one
	// is picked just before the UI binds it (below), since the UI exits
	// the whole process when a stack starting beside this one took it in
	// between.
	if opts.UIPort != 0 {
		if _, err := probePort(ServiceUI, opts.IP, opts.UIPort); err != nil {
			s3Listener.Close()
			return nil, err
		}
	}

	// The S3 store opens its state file first: its lock tells at once
	// whether another stack is using this state dir.
	var faults []*s3store.Faults
	if opts.S3Faults != nil {
		faults = append(faults, opts.S3Faults)
	}
	if stack.s3, err = s3store.Start(s3Listener, s3DB, opts.Bucket, opts.Logger, faults...); err != nil {
		s3Listener.Close()
		return nil, err
	}
	stack.S3 = results.S3Config{
		Endpoint:  "http://" + s3Listener.Addr().String(),
		Region:    "us-east-1",
		Bucket:    opts.Bucket,
		PathStyle: true,
	}

	temporalHostPort, err := stack.startTemporal(ctx, opts, temporalDB)
	if err != nil {
		return nil, err
	}
	stack.Temporal = workers.TemporalConfig{Address: temporalHostPort, Namespace: opts.Namespace}
	if t := opts.TLS; t != nil {
		stack.Temporal.TLSCertFile, stack.Temporal.TLSKeyFile, stack.Temporal.TLSCAFile, stack.Temporal.TLSServerName = t.CertFile, t.KeyFile, t.CAFile, t.ServerName
	}
	if err := stack.prepareNamespace(ctx); err != nil {
		return nil, err
	}

	uiPort, err := probePort(ServiceUI, opts.IP, opts.UIPort)
	if err != nil {
		return nil, err
	}
	if stack.ui, err = startUI(ctx, opts.IP, uiPort, temporalHostPort, opts.Namespace, opts.TLS); err != nil {
		return nil, err
	}
	stack.UIURL = fmt.Sprintf("http://%s/namespaces/%s/workflows", net.JoinHostPort(opts.IP, strconv.Itoa(uiPort)), opts.Namespace)
	return stack, nil
}

// startTemporal starts the server on opts.TemporalPort, or on free ports:
// a stack starting beside this one may take a port between probing and
// binding (the frontend's or another of the server's), and then new ones
// are tried.
func (s *Stack) startTemporal(ctx context.Context, opts Options, dbFile string) (string, error) {
	for attempt := 1; ; attempt++ {
		port, err := probePort(ServiceTemporal, opts.IP, opts.TemporalPort)
		if err != nil {
			return "", err
		}
		hostPort := net.JoinHostPort(opts.IP, strconv.Itoa(port))
		s.temporal, err = startTemporal(ctx, temporalOptions{hostPort: hostPort, dbFile: dbFile, namespace: opts.Namespace, logger: opts.Logger, tls: opts.TLS})
		// A fixed frontend port is probed again each time; the others (HTTP
		// API, the internal services) are new ones.
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 3 {
			return hostPort, err
		}
		opts.Logger.Warn("temporal port taken while starting; trying others", "attempt", attempt, "error", err)
	}
}

func withDefaults(opts Options) Options {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Bucket == "" {
		opts.Bucket = "infersweep"
	}
	if opts.StateDir == "" {
		opts.StateDir = ".infersweep"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return opts
}

func (s *Stack) prepareNamespace(ctx context.Context) error {
	c, err := s.Dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return registerSearchAttributes(ctx, c, s.Temporal.Namespace, workflows.SearchAttributes())
}

// Lake is the results lake in the stack's S3 store, with its credentials.
func (s *Stack) Lake(ctx context.Context) (*results.Lake, error) {
	c, err := results.NewS3Client(ctx, s.S3, awsconfig.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: DevCredentials}))
	if err != nil {
		return nil, err
	}
	return results.NewLake(results.NewStore(c, s.S3.Bucket)), nil
}

// Dial returns an SDK client for the stack's namespace. The caller closes it.
func (s *Stack) Dial(ctx context.Context) (client.Client, error) {
	return workers.Dial(ctx, s.Temporal, s.logger)
}

// Env lists the environment another process needs to join this stack, as
// NAME=value pairs: a worker in a second terminal, the Temporal CLI, an AWS
// or DuckDB client.
func (s *Stack) Env() []string {
	env := append(s.Temporal.Env(), s.S3.Env()...)
	return append(env,
		"AWS_ACCESS_KEY_ID="+DevCredentials.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+DevCredentials.SecretAccessKey,
		// For the Temporal CLI, which reads its own variables.
		"TEMPORAL_ADDRESS="+s.Temporal.Address,
		"TEMPORAL_NAMESPACE="+s.Temporal.Namespace,
	)
}

// Stop shuts the UI, Temporal and S3 down in that order, so no component
// outlives the one it talks to. It returns when all have stopped or ctx ends.
func (s *Stack) Stop(ctx context.Context) error {
	var errs []error
	if s.ui != nil {
		s.ui.Stop()
		s.ui = nil
	}
	if s.temporal != nil {
		s.stopTemporal(ctx)
		s.temporal = nil
	}
	if s.s3 != nil {
		errs = append(errs, s.s3.Stop(ctx))
		s.s3 = nil
	}
	return errors.Join(errs...)
}

// temporalStopBudget is the part of a shutdown the Temporal server may use.
// Its system worker's last RPC can wait up to ten seconds for a matching
// service that has already stopped; waiting for it gains nothing.
const temporalStopBudget = 6 * time.Second

// stopTemporal stops the server, or gives up on it after its budget: every
// workflow step is committed to SQLite before it is acknowledged, so
// leaving a slow shutdown behind loses nothing.
func (s *Stack) stopTemporal(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, temporalStopBudget)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.temporal.stop() }()
	select {
	case err := <-done:
		if err != nil {
			s.logger.Warn("temporal server stopped with an error", "error", err)
		}
	case <-ctx.Done():
		s.logger.Info("temporal server still stopping; not waiting for it", "waited", temporalStopBudget)
	}
}

func listen(service Service, ip string, port int) (net.Listener, error) {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &PortInUseError{Service: service, Address: addr, Err: err}
	}
	return l, nil
}

// probePort checks that port is free (or picks a free one for 0) and
// releases it for the server that will bind it.
// probePort checks that port is free and returns it; port 0 picks a free
// one. The caller binds it later, and in between another program may take
// it (the Web UI then exits the whole process, Temporal fails to start).
// So a free port is picked below the kernel's ephemeral range (32768 and
// up on Linux), where programs asking for "any port" never land.
func probePort(service Service, ip string, port int) (int, error) {
	if port != 0 {
		return bindAndRelease(service, ip, port)
	}
	const low, high = 20000, 32768
	var err error
	for range 64 {
		var p int
		if p, err = bindAndRelease(service, ip, low+rand.IntN(high-low)); err == nil {
			return p, nil
		}
	}
	return 0, err
}

func bindAndRelease(service Service, ip string, port int) (int, error) {
	l, err := listen(service, ip, port)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
