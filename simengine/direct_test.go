package simengine_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/simengine"
)

// rawStream sends a streaming completion request on a fresh connection
// and returns the connection and a reader positioned after the response
// header, with the header's lines.
func rawStream(t *testing.T, addr, body string) (net.Conn, *bufio.Reader, []string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "POST /v1/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
	require.NoError(t, err)
	r := bufio.NewReader(conn)
	var header []string
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if line == "\r\n" {
			return conn, r, header
		}
		header = append(header, strings.TrimRight(line, "\r\n"))
	}
}

var createdField = regexp.MustCompile(`"created":\d+`)

// The hijacked stream sends what net/http sent before it: the same
// header, chunked framing, vLLM's events, the usage event and [DONE];
// without a listener to give the connection back to, it says
// Connection: close and closes.
func TestHijackedStreamBytes(t *testing.T) {
	_, url, _ := startSim(t, serverConfig(t))
	waitReady(t, url)
	conn, r, header := rawStream(t, strings.TrimPrefix(url, "http://"),
		`{"model":"llama-3.1-8b","prompt":"hi there","max_tokens":3,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}`)
	defer conn.Close()
	require.Equal(t, "HTTP/1.1 200 OK", header[0])
	require.Contains(t, header, "Content-Type: text/event-stream")
	require.Contains(t, header, "Cache-Control: no-cache")
	require.Contains(t, header, "Transfer-Encoding: chunked")
	require.Contains(t, header, "Connection: close")
	body, err := io.ReadAll(httputilChunked(r))
	require.NoError(t, err)
	event := func(finish string) string {
		return `data: {"id":"cmpl-1","object":"text_completion","created":0,"model":"llama-3.1-8b","choices":[{"index":0,"text":" tok","logprobs":null,"finish_reason":` + finish + `,"stop_reason":null}],"usage":null}` + "\n\n"
	}
	want := event("null") + event("null") + event(`"length"`) +
		`data: {"choices":[],"id":"cmpl-1","model":"llama-3.1-8b","object":"text_completion","usage":{"completion_tokens":3,"prompt_tokens":2,"total_tokens":5}}` + "\n\n" +
		"data: [DONE]\n\n"
	require.Equal(t, want, createdField.ReplaceAllString(string(body), `"created":0`))
	_, err = r.ReadByte()
	require.ErrorIs(t, err, io.EOF, "the server closes after the last chunk")
}

// httputilChunked decodes an HTTP/1.1 chunked body, checking the framing
// that clients parse.
func httputilChunked(r *bufio.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for {
			var size int
			line, err := r.ReadString('\n')
			if err == nil {
				_, err = fmt.Sscanf(line, "%x\r\n", &size)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if size == 0 {
				_, err = r.Discard(2)
				pw.CloseWithError(err)
				return
			}
			chunk := make([]byte, size+2)
			if _, err := io.ReadFull(r, chunk); err != nil || string(chunk[size:]) != "\r\n" {
				pw.CloseWithError(fmt.Errorf("chunk of %d bytes not followed by CRLF: %v", size, err))
				return
			}
			_, _ = pw.Write(chunk[:size])
		}
	}()
	return pr
}

// Served by Serve, a finished stream's connection goes back to net/http,
// so a keep-alive client sends its next request on it.
func TestHijackedStreamKeepsTheConnectionAlive(t *testing.T) {
	srv, err := simengine.NewServer(serverConfig(t))
	require.NoError(t, err)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, listener) }()
	url := "http://" + listener.Addr().String()
	waitReady(t, url)
	client := &http.Client{Transport: &http.Transport{}}
	var reused []bool
	for range 3 {
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = append(reused, info.Reused) }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, url+"/v1/chat/completions",
			strings.NewReader(`{"model":"llama-3.1-8b","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"ignore_eos":true,"stream":true}`))
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, 5, strings.Count(string(body), "data: "), "four tokens and [DONE]")
		require.Equal(t, 1, strings.Count(string(body), `"role":"assistant"`))
		require.True(t, strings.HasSuffix(string(body), "data: [DONE]\n\n"))
	}
	require.Equal(t, []bool{false, true, true}, reused)

	// The kept-alive connection waits outside net/http, whose Shutdown
	// would give a connection it sees as new 5 s; it is closed at once.
	stopping := time.Now()
	cancel()
	require.NoError(t, <-done)
	require.Less(t, time.Since(stopping), 2*time.Second)
	_, err = client.Get(url + "/health")
	require.Error(t, err, "the server is gone")
}

// A client that leaves mid-stream aborts its sequence: the engine frees
// its blocks and stops running it.
func TestClientLeavingAbortsTheHijackedStream(t *testing.T) {
	cfg := serverConfig(t)
	cfg.TimeScale = 1
	_, url, _ := startSim(t, cfg)
	waitReady(t, url)
	addr := strings.TrimPrefix(url, "http://")
	const leaving = 8
	for range leaving {
		conn, r, _ := rawStream(t, addr, `{"model":"llama-3.1-8b","prompt":"hi","max_tokens":3000,"ignore_eos":true,"stream":true}`)
		_, err := r.ReadString('\n') // the first chunk's size: the stream runs
		require.NoError(t, err)
		require.NoError(t, conn.Close())
	}
	// The gauge is updated after a step, so a short request that
	// finishes shows how many others still run.
	require.Eventually(t, func() bool {
		resp, err := http.Post(url+"/v1/completions", "application/json",
			strings.NewReader(`{"model":"llama-3.1-8b","prompt":"hi","max_tokens":1}`))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		return strings.Contains(get(t, url+"/metrics"), `vllm:num_requests_running{model_name="llama-3.1-8b"} 0`)
	}, 5*time.Second, 50*time.Millisecond)
	metrics := get(t, url+"/metrics")
	require.NotContains(t, metrics, `vllm:request_success_total{model_name="llama-3.1-8b"} 0`, "the short requests finished")
	require.Regexp(t, `vllm:request_success_total\{model_name="llama-3.1-8b"\} \d+\n`, metrics)
}

// TestMemoryPerStream guards the point of hijacking: 1,000 open streams
// cost the server a few KB each (a hijacked connection, its sequence and
// its SSE prefix), not the ~55 KB of a handler goroutine with net/http's
// buffers. The clients are bare connections in this process, counted in
// the figure, so the server's share is smaller still.
func TestMemoryPerStream(t *testing.T) {
	const streams = 1000
	const maxBytesPerStream = 8 << 10
	cfg := serverConfig(t)
	cfg.TimeScale, cfg.RecordChunks = 1, false
	cfg.Engine.MaxNumSeqs = streams
	_, url, _ := startSim(t, cfg)
	waitReady(t, url)
	addr := strings.TrimPrefix(url, "http://")

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	conns := make([]net.Conn, 0, streams)
	readers := make([]*bufio.Reader, 0, streams)
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for range streams {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		conns = append(conns, conn)
		body := `{"model":"llama-3.1-8b","prompt":"hi","max_tokens":3000,"ignore_eos":true,"stream":true}`
		_, err = fmt.Fprintf(conn, "POST /v1/completions HTTP/1.1\r\nHost: sim\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		require.NoError(t, err)
	}
	// Every stream has its header and a first token: all are admitted,
	// hijacked and being written.
	for _, conn := range conns {
		r := bufio.NewReaderSize(conn, 16)
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			if strings.HasPrefix(line, "data: ") {
				break
			}
		}
		readers = append(readers, r)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perStream := (int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)) / streams
	t.Logf("%d bytes of heap and stack per stream", perStream)
	require.Less(t, perStream, int64(maxBytesPerStream))
	require.Len(t, readers, streams)
}
