package activities

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/infersweep/infersweep/loadgen"
)

func TestADeploymentPointWithFailuresCountsOnlyWhileEveryWorkerServes(t *testing.T) {
	tests := []struct {
		name    string
		gang    []string
		failed  int
		health  int // the frontend's /health status; 0: no frontend
		wantErr string
	}{
		{name: "single-node points are measured as they are", failed: 3, health: 0},
		{name: "no failed request: nothing to ask", gang: []string{"n0", "n1"}, failed: 0, health: 0},
		{name: "failures while every worker serves: the point's own", gang: []string{"n0", "n1"}, failed: 3, health: http.StatusOK},
		{name: "a worker gone: the node's fault, nothing committed", gang: []string{"n0", "n1"}, failed: 3, health: http.StatusServiceUnavailable,
			wantErr: "a worker of the deployment stopped serving during the load"},
		{name: "the frontend gone too", gang: []string{"n0", "n1"}, failed: 3, wantErr: "frontend health"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := "http://127.0.0.1:1"
			if tt.health != 0 {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					require.Equal(t, "/health", r.URL.Path)
					w.WriteHeader(tt.health)
				}))
				defer srv.Close()
				url = srv.URL
			}
			err := deploymentServes(context.Background(), LoadInput{Gang: tt.gang, Engine: EngineInfo{BaseURL: url}},
				loadgen.Summary{Completed: 9, Failed: tt.failed})
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			var app *temporal.ApplicationError
			require.ErrorAs(t, err, &app)
			require.Equal(t, ErrNodeFault, app.Type())
		})
	}
}
