package devstack

import (
	"context"
	"fmt"
	"net/http"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/server_options"
)

// uiStartTimeout bounds how long Start waits for the Web UI to answer.
const uiStartTimeout = 15 * time.Second

func startUI(ctx context.Context, host string, port int, temporalHostPort, namespace string, tls *TLSFiles) (*uiserver.Server, error) {
	cfg := &uiconfig.Config{
		TemporalGRPCAddress: temporalHostPort,
		Host:                host,
		Port:                port,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		HideLogs:            true,
		// The dev UI is served over plain HTTP on loopback, where a
		// Secure cookie would never be sent back.
		CORS: uiconfig.CORS{CookieInsecure: true},
	}
	if tls != nil {
		cfg.TLS = uiconfig.TLS{CaFile: tls.CAFile, CertFile: tls.CertFile, KeyFile: tls.KeyFile, ServerName: tls.ServerName, EnableHostVerification: true}
	}
	srv := uiserver.NewServer(server_options.WithConfigProvider(cfg))
	// Start blocks until Stop; it only fails to bind, which Start of the
	// stack rules out beforehand by probing the port.
	go func() { _ = srv.Start() }()

	url := fmt.Sprintf("http://%s:%d/", host, port)
	ctx, cancel := context.WithTimeout(ctx, uiStartTimeout)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			srv.Stop()
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return srv, nil
			}
		}
		select {
		case <-ctx.Done():
			srv.Stop()
			return nil, fmt.Errorf("temporal web UI did not answer at %s within %s", url, uiStartTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
