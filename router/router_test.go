package router

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAcquirePicksLeastOutstandingTiesRoundRobin(t *testing.T) {
	p := newPool("decode", []string{"a", "b", "c"})
	var got []string
	for range 3 {
		b := p.acquire()
		got = append(got, b.url)
		b.release()
	}
	require.Equal(t, []string{"a", "b", "c"}, got, "an idle pool goes round robin")

	busyA, busyB := p.acquire(), p.acquire() // a and b now hold one each
	require.Equal(t, []string{"a", "b"}, []string{busyA.url, busyB.url})
	require.Equal(t, "c", p.acquire().url, "c had none in flight")
	busyA.release()
	require.Equal(t, "a", p.acquire().url, "a is back to none while b and c hold one")
	require.Equal(t, int64(3), p.backends[0].requests.Load())
}

func TestNewRefusesMixedOrIncompleteModes(t *testing.T) {
	tests := []struct {
		cfg     Config
		wantErr string
	}{
		{Config{Prefill: []string{"http://p:1"}}, "disaggregated serving needs both --prefill and --decode engines"},
		{Config{Prefill: []string{"http://p:1"}, Decode: []string{"http://d:1"}, Workers: []string{"http://w:1"}}, "--workers cannot be mixed"},
		{Config{}, "no engines"},
		{Config{Workers: []string{"w:1"}}, `engine URL "w:1": want http://host:port`},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		require.ErrorContains(t, err, tt.wantErr)
	}
}

// fake is an engine that answers every path with status and body.
func fake(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func serve(t *testing.T, cfg Config) string {
	t.Helper()
	rt, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestHealthIsGreenOnlyWhenEveryBackendIs(t *testing.T) {
	up, down := fake(t, 200, ""), fake(t, 503, "")
	tests := []struct {
		name            string
		prefill, decode []string
		want            int
	}{
		{"all up", []string{up, up}, []string{up}, 200},
		{"one prefill down", []string{up, down}, []string{up}, 503},
		{"decode down", []string{up}, []string{down}, 503},
		{"decode unreachable", []string{up}, []string{"http://127.0.0.1:1"}, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(serve(t, Config{Prefill: tt.prefill, Decode: tt.decode}) + "/health")
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tt.want, resp.StatusCode)
		})
	}
}

func TestBackendErrorsKeepClientStatusAndBecome502ForTheRest(t *testing.T) {
	vllm404 := `{"object":"error","message":"The model ` + "`x`" + ` does not exist.","type":"NotFoundError","param":null,"code":404}`
	tests := []struct {
		name        string
		worker      string
		wantStatus  int
		wantMessage string
	}{
		{"client error passes through", fake(t, 404, vllm404), 404, "The model `x` does not exist."},
		{"engine error names the engine", fake(t, 500, `{"message":"boom"}`), 502, "worker backend http://127.0.0.1:"},
		{"unreachable engine", "http://127.0.0.1:1", 502, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(serve(t, Config{Workers: []string{tt.worker}})+"/v1/completions", "application/json", strings.NewReader(`{"model":"x","prompt":"hi"}`))
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tt.wantStatus, resp.StatusCode)
			var body struct{ Message string }
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			require.Contains(t, body.Message, tt.wantMessage)
		})
	}
	resp, err := http.Post(serve(t, Config{Workers: []string{fake(t, 200, "{}")}})+"/v1/completions", "application/json", strings.NewReader(`{"prompt":`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "broken JSON is refused before any engine sees it")
}

// The prefill engine is asked for one token, unstreamed, with
// do_remote_decode; the decode engine gets the original request with the
// prefill's kv_transfer_params.
func TestDisaggregatedRequestGoesToPrefillThenDecode(t *testing.T) {
	var prefillGot, decodeGot map[string]any
	// /metrics asks the engines for their power: only requests are decoded.
	prefill := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			return
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&prefillGot))
		_, _ = io.WriteString(w, `{"choices":[],"kv_transfer_params":{"do_remote_prefill":true,"remote_block_ids":[7,8],"prompt_tokens":20}}`)
	}))
	defer prefill.Close()
	decode := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			return
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&decodeGot))
		_, _ = io.WriteString(w, `{"choices":[{"text":" tok tok"}]}`)
	}))
	defer decode.Close()
	url := serve(t, Config{Prefill: []string{prefill.URL}, Decode: []string{decode.URL}})
	resp, err := http.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":50,"stream":true,"stream_options":{"include_usage":true}}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, `{"choices":[{"text":" tok tok"}]}`, string(body))

	require.Equal(t, 1.0, prefillGot["max_tokens"])
	require.Equal(t, false, prefillGot["stream"])
	require.NotContains(t, prefillGot, "stream_options")
	require.Equal(t, true, prefillGot["kv_transfer_params"].(map[string]any)["do_remote_decode"])

	require.Equal(t, 50.0, decodeGot["max_tokens"])
	require.Equal(t, true, decodeGot["stream"])
	require.Equal(t, map[string]any{"do_remote_prefill": true, "remote_block_ids": []any{7.0, 8.0}, "prompt_tokens": 20.0}, decodeGot["kv_transfer_params"])

	metrics, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	text, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	require.Contains(t, string(text), `infersweep_router_requests_total{backend="`+prefill.URL+`",role="prefill"} 1`)
	require.Contains(t, string(text), `infersweep_router_requests_total{backend="`+decode.URL+`",role="decode"} 1`)
}

func TestPrefillWithoutKVTransferParamsIsA502(t *testing.T) {
	url := serve(t, Config{Prefill: []string{fake(t, 200, `{"choices":[]}`)}, Decode: []string{fake(t, 200, "{}")}})
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(`{"model":"m","prompt":"hi"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	require.Contains(t, string(body), "answered without kv_transfer_params")
}

// A chunk reaches the client while the engine is still holding the
// stream open: nothing is buffered until the end.
func TestStreamChunksPassThroughAsTheyArrive(t *testing.T) {
	release := make(chan struct{})
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"n\":1}\n\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer engine.Close()
	defer close(release)
	resp, err := http.Post(serve(t, Config{Workers: []string{engine.URL}})+"/v1/completions", "application/json", strings.NewReader(`{"stream":true}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "data: {\"n\":1}\n", line)
}

func TestClientGoingAwayCancelsTheEngineRequest(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	engine := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// Reading the body to its end is what lets net/http watch the
		// connection and cancel r's context when it closes.
		_, _ = io.Copy(io.Discard, r.Body)
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(5 * time.Second):
		}
	}))
	defer engine.Close()
	url := serve(t, Config{Workers: []string{engine.URL}})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/completions", strings.NewReader(`{}`))
	require.NoError(t, err)
	go func() {
		<-started
		cancel()
	}()
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.Canceled)
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the engine's request was not cancelled")
	}
}
