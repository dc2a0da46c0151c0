package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/resolver"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"
)

const clusterName = "active"

// namespaceRetention is how long the dev server keeps closed workflows. A
// week covers looking back at last night's and last weekend's sweeps.
const namespaceRetention = 7 * 24 * time.Hour

// temporalServer is one embedded Temporal server with all four services in
// this process, persisted in a single SQLite file (or in memory).
type temporalServer struct {
	server   temporal.Server
	hostPort string
	// memoryKeeper holds a reference to an in-memory database: SQLite drops
	// such a database when its last connection closes, and the namespace is
	// written before the server opens its own connections.
	memoryKeeper sqlplugin.DB
	stopping     *atomic.Bool
}

type temporalOptions struct {
	tls       *TLSFiles
	hostPort  string
	dbFile    string // empty: in-memory
	namespace string
	logger    *slog.Logger
}

// startTemporal prepares the database, then starts all four services in
// this process; the frontend listens on opts.hostPort.
func startTemporal(ctx context.Context, opts temporalOptions) (*temporalServer, error) {
	host, frontendPort, err := splitTemporalAddress(opts.hostPort)
	if err != nil {
		return nil, err
	}
	sqlCfg := sqliteConfig(opts.dbFile, frontendPort)
	ts := &temporalServer{hostPort: opts.hostPort, stopping: &atomic.Bool{}}
	if opts.dbFile == "" {
		// The plugin creates the schema when it opens an in-memory database.
		if ts.memoryKeeper, err = sql.NewSQLDB(sqlplugin.DbKindUnknown, sqlCfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler); err != nil {
			return nil, fmt.Errorf("open in-memory temporal database: %w", err)
		}
	}
	if err := prepareDatabase(sqlCfg, opts); err != nil {
		ts.closeKeeper()
		return nil, err
	}
	services, err := temporalServices(host, frontendPort)
	if err != nil {
		return nil, err
	}

	err = recoverFatal(func() (err error) {
		ts.server, err = temporal.NewServer(
			temporal.WithConfig(temporalConfig(opts, host, sqlCfg, services)),
			temporal.ForServices(temporal.DefaultServices),
			temporal.WithLogger(temporalLogger{logger: opts.logger.With("component", "temporal"), stopping: ts.stopping}),
			temporal.WithDynamicConfigClient(temporalDynamicConfig()),
		)
		if err != nil {
			return fmt.Errorf("create temporal server: %w", err)
		}
		if err := ts.server.Start(); err != nil {
			return fmt.Errorf("start temporal server: %w", err)
		}
		return nil
	})
	if err != nil {
		ts.closeKeeper()
		return nil, err
	}
	return ts, nil
}

// errPortTaken: a port probed free was taken before the server bound it
// (another stack starting beside this one); new ports may do.
var errPortTaken = errors.New("a temporal port was taken between probing and binding")

// recoverFatal runs f, turning the server's Fatal (a panic: its callers
// rely on Fatal not returning) into an error, so a stack that cannot
// start reports why instead of taking the process down.
func recoverFatal(f func() error) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fatal, ok := r.(serverFatal)
		if !ok {
			panic(r)
		}
		err = fatal
		if strings.Contains(string(fatal), "listener") {
			err = fmt.Errorf("%w: %w", errPortTaken, fatal)
		}
	}()
	// Some listeners (the HTTP API's) fail as errors, not Fatal: the same
	// race.
	if err = f(); err != nil && strings.Contains(err.Error(), "address already in use") {
		err = fmt.Errorf("%w: %w", errPortTaken, err)
	}
	return err
}

// splitTemporalAddress parses the frontend address the user gave: its
// port is needed as a number to name the in-memory database and to bind.
func splitTemporalAddress(hostPort string) (host string, port int, err error) {
	host, portText, err := net.SplitHostPort(hostPort)
	if err != nil {
		return "", 0, fmt.Errorf("temporal address %q: %w", hostPort, err)
	}
	port, err = strconv.Atoi(portText)
	if err != nil {
		return "", 0, fmt.Errorf("temporal address %q: port: %w", hostPort, err)
	}
	return host, port, nil
}

// sqliteConfig is the SQLite store in dbFile, or in memory when dbFile is
// empty.
func sqliteConfig(dbFile string, frontendPort int) *config.SQL {
	if dbFile == "" {
		// A shared in-memory database lives as long as one connection to it
		// is open; the name keeps two ephemeral stacks in one process apart.
		return &config.SQL{
			PluginName:        sqliteplugin.PluginName,
			ConnectAttributes: map[string]string{"mode": "memory", "cache": "shared"},
			DatabaseName:      "infersweep-" + strconv.Itoa(frontendPort),
		}
	}
	return &config.SQL{
		PluginName: sqliteplugin.PluginName,
		// WAL lets the UI's reads proceed beside the server's writes; FULL
		// sync makes every committed workflow step survive a power cut.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "full"},
		DatabaseName:      dbFile,
	}
}

// temporalServices places the four services. Only the frontend port is
// the user's; the other services and the membership ring take whatever
// the kernel gives, on loopback.
func temporalServices(host string, frontendPort int) (map[string]config.Service, error) {
	services := map[string]config.Service{}
	for _, name := range []primitives.ServiceName{primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		grpcPort := frontendPort
		var err error
		if name != primitives.FrontendService {
			if grpcPort, err = probePort(ServiceTemporal, host, 0); err != nil {
				return nil, err
			}
		}
		membershipPort, err := probePort(ServiceTemporal, host, 0)
		if err != nil {
			return nil, err
		}
		rpc := config.RPC{GRPCPort: grpcPort, MembershipPort: membershipPort, BindOnIP: host}
		if name == primitives.FrontendService {
			// The HTTP API (and Nexus, which needs it) on any free port.
			if rpc.HTTPPort, err = probePort(ServiceTemporal, host, 0); err != nil {
				return nil, err
			}
		}
		services[string(name)] = config.Service{RPC: rpc}
	}
	return services, nil
}

// temporalConfig is a single-cluster, single-shard server with archival
// off: a dev server on one machine needs neither replication nor history
// kept beyond the namespace's retention.
func temporalConfig(opts temporalOptions, host string, sqlCfg *config.SQL, services map[string]config.Service) *config.Config {
	cfg := &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: host},
		},
		Persistence: config.Persistence{
			DefaultStore:     sqliteplugin.PluginName,
			VisibilityStore:  sqliteplugin.PluginName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
		},
		ClusterMetadata: &cluster.Config{
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: opts.hostPort},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            services,
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
			History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
			Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
		}},
		// The server's own system workers dial the frontend through this.
		PublicClient: config.PublicClient{HostPort: opts.hostPort},
	}
	if opts.tls != nil {
		cfg.Global.TLS = temporalTLS(opts.tls, host)
	}
	return cfg
}

// temporalTLS requires mutual TLS on the frontend: clients must present a
// certificate the CA signed; the server's own workers present the
// server's.
func temporalTLS(t *TLSFiles, host string) config.RootTLS {
	serverName := t.ServerName
	if serverName == "" {
		serverName = host
	}
	client := config.ClientTLS{RootCAFiles: []string{t.CAFile}, ServerName: serverName}
	return config.RootTLS{
		Frontend:     config.GroupTLS{Server: config.ServerTLS{CertFile: t.CertFile, KeyFile: t.KeyFile, ClientCAFiles: []string{t.CAFile}, RequireClientAuth: true}, Client: client},
		SystemWorker: config.WorkerTLS{CertFile: t.CertFile, KeyFile: t.KeyFile, Client: client},
	}
}

// temporalDynamicConfig tunes the server's production defaults for one
// user on one machine.
func temporalDynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// Search attributes registered a moment ago must be usable at once:
		// the first sweep starts right after `dev` registers them.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		// A dev server stops on Ctrl-C; nothing is gained by draining
		// in-flight polls for the production default.
		dynamicconfig.FrontendShutdownDrainDuration.Key(): time.Duration(0),
		dynamicconfig.MatchingShutdownDrainDuration.Key(): time.Duration(0),
		dynamicconfig.HistoryShutdownDrainDuration.Key():  time.Duration(0),
		// One history shard carries every workflow here, and its transfer
		// queue is read at most 20 times a second by default: every
		// activity and workflow task then waits ~46 ms to be dispatched.
		// Production spreads that over hundreds of shards.
		dynamicconfig.TransferProcessorMaxPollRPS.Key(): 1000,
	}
}

// prepareDatabase creates the schema in a new database file and the
// namespace when it is missing; both are no-ops on a state dir from an
// earlier run.
func prepareDatabase(sqlCfg *config.SQL, opts temporalOptions) error {
	if opts.dbFile != "" {
		if _, err := os.Stat(opts.dbFile); errors.Is(err, os.ErrNotExist) {
			if err := sqlite.SetupSchema(sqlCfg); err != nil {
				return fmt.Errorf("create temporal schema in %s: %w", opts.dbFile, err)
			}
		} else if err := forgetEarlierHosts(sqlCfg); err != nil {
			return err
		}
	}
	ns, err := sqlite.NewNamespaceConfig(clusterName, opts.namespace, false, nil)
	if err != nil {
		return fmt.Errorf("namespace %q: %w", opts.namespace, err)
	}
	ns.Detail.Config.Retention = durationpb.New(namespaceRetention)
	if err := sqlite.CreateNamespaces(sqlCfg, ns); err != nil {
		return fmt.Errorf("create namespace %q: %w", opts.namespace, err)
	}
	return nil
}

// forgetEarlierHosts removes the membership rows an earlier server on
// this state dir left behind. Its services listened on other ports (they
// take any free one), and until those rows expire the restarted server
// routes shard and task-queue traffic to hosts that no longer exist:
// "Not enough hosts to serve the request", and no workflow moves, for
// over 30 s (found by the chaos run's Temporal restart). The state
// dir's lock guarantees no other server of it is alive.
func forgetEarlierHosts(sqlCfg *config.SQL) error {
	db, err := sql.NewSQLDB(sqlplugin.DbKindMain, sqlCfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("open temporal database %s: %w", sqlCfg.DatabaseName, err)
	}
	defer db.Close()
	// Rows expire two days after their last heartbeat; the pruning query
	// takes no other filter than a time.
	_, err = db.PruneClusterMembership(context.Background(), &sqlplugin.PruneClusterMembershipFilter{PruneRecordsBefore: time.Now().Add(365 * 24 * time.Hour)})
	if err != nil {
		return fmt.Errorf("forget the earlier server's hosts in %s: %w", sqlCfg.DatabaseName, err)
	}
	return nil
}

// registerSearchAttributes adds whichever of attrs the namespace lacks. It
// goes through the operator API rather than the namespace row so that state
// dirs created by an older infersweep gain attributes added since.
func registerSearchAttributes(ctx context.Context, c client.Client, namespace string, attrs map[string]enumspb.IndexedValueType) error {
	ops := c.OperatorService()
	existing, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes of %q: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, kind := range attrs {
		have, ok := existing.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = kind
		case have != kind:
			return fmt.Errorf("search attribute %s of namespace %q is %s, infersweep needs %s: use a fresh --state-dir", name, namespace, have, kind)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("add search attributes to %q: %w", namespace, err)
	}
	return nil
}

func (s *temporalServer) stop() error {
	s.stopping.Store(true)
	err := s.server.Stop()
	s.closeKeeper()
	return err
}

func (s *temporalServer) closeKeeper() {
	if s.memoryKeeper != nil {
		_ = s.memoryKeeper.Close()
	}
}
