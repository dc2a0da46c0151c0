package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkParseAndRecordChunk is the per-chunk cost of the hot path:
// reading one SSE event, scanning its JSON and recording its time.
// Target: ≤ 2 µs and 0 allocations per chunk.
func BenchmarkParseAndRecordChunk(b *testing.B) {
	const chunksPerStream = 1024
	var stream bytes.Buffer
	for range chunksPerStream {
		stream.WriteString("data: " + completionChunk + "\n\n")
	}
	stream.WriteString("data: " + usageChunk + "\n\ndata: [DONE]\n\n")
	raw := stream.Bytes()
	reader := newSSEReader(nil, readBufferSize)
	rec := Record{ITLs: make([]uint32, 0, chunksPerStream)}
	b.SetBytes(int64(len(raw)) / chunksPerStream)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		reader.r.Reset(bytes.NewReader(raw))
		rec.ITLs, rec.Chunks = rec.ITLs[:0], 0
		s := streamState{rec: &rec, send: time.Now()}
		for i < b.N {
			p, err := reader.next()
			if err != nil {
				break
			}
			if err := s.onPayload(time.Now(), p); err != nil {
				b.Fatal(err)
			}
			i++
			if s.sawDone {
				break
			}
		}
	}
}

// fastEngine streams pre-rendered chunks as fast as the socket takes them.
type fastEngine struct{ chunk []byte }

func (f fastEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n int
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(r.Body)
	if i := strings.Index(body.String(), `"max_tokens":`); i >= 0 {
		fmt.Sscanf(body.String()[i+len(`"max_tokens":`):], "%d", &n)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher := w.(http.Flusher)
	for range n {
		_, _ = w.Write(f.chunk)
		flusher.Flush()
	}
	_, _ = w.Write([]byte("data: [DONE]\n\n"))
}

// BenchmarkClientThroughput runs the whole client at C=256 against an
// in-process server that streams as fast as it can, and reports chunks/s
// (client and server share this machine's cores).
func BenchmarkClientThroughput(b *testing.B) {
	srv := httptest.NewServer(fastEngine{chunk: []byte("data: " + completionChunk + "\n\n")})
	defer srv.Close()
	w := DefaultWorkload()
	w.Model, w.InputLen, w.OutputLen = "m", 16, 256
	for b.Loop() {
		res, err := Run(context.Background(), Config{BaseURL: srv.URL, Workload: w, MaxConcurrency: 256, NumPrompts: 1024})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Summary.ClientChunksPerS), "chunks/s")
		b.ReportMetric(float64(res.Summary.ClientCPUMicrosChunk), "cpu-µs/chunk")
	}
}

// BenchmarkReplaySessions holds INFERSWEEP_BENCH_SESSIONS (default 5,000)
// concurrent agent sessions against an in-process server that streams as
// fast as it can, for 10 s: short synthesized sessions (a 200-token
// system prompt, 100-token turns, 16-token answers, idle gaps of about
// 0.2 s), so that the client's own cost per session is what is measured.
// It fails unless every lane started a session and no request failed.
//
//	go test -run '^$' -bench ReplaySessions -benchtime 1x ./loadgen
func BenchmarkReplaySessions(b *testing.B) {
	sessions := 5000
	if v := os.Getenv("INFERSWEEP_BENCH_SESSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("INFERSWEEP_BENCH_SESSIONS=%q: want a positive number", v)
		}
		sessions = n
	}
	srv := httptest.NewServer(fastEngine{chunk: []byte("data: " + completionChunk + "\n\n")})
	defer srv.Close()
	c := DefaultSynth()
	c.Sessions, c.SystemPromptTokens, c.MaxContextTokens = 1000, 200, 4096
	c.FirstInputTokens, c.TurnInputTokens, c.OutputTokens = LogNormal{200, 0.3}, LogNormal{100, 0.3}, LogNormal{16, 0.2}
	c.IdleGapMs, c.SubAgentProbability = LogNormal{200, 0.5}, 0
	trace, err := Synthesize(c)
	if err != nil {
		b.Fatal(err)
	}
	w := DefaultWorkload()
	w.Model = "m"
	for b.Loop() {
		res, err := Replay(context.Background(), ReplayConfig{BaseURL: srv.URL, Workload: w, Trace: trace, Sessions: sessions,
			Duration: 10 * time.Second, MaxIdleGap: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		s, a := res.Summary, res.Summary.Agentic
		if a.SessionsStarted < sessions || s.Failed > 0 {
			b.Fatalf("%d of %d lanes started a session, %d requests failed (%v)", a.SessionsStarted, sessions, s.Failed, s.ErrorExamples)
		}
		b.ReportMetric(float64(a.SessionsStarted), "sessions")
		b.ReportMetric(float64(a.MeanConcurrentRequests), "in-flight")
		b.ReportMetric(float64(s.RequestThroughput), "req/s")
		b.ReportMetric(float64(s.ClientCPUMicrosChunk), "cpu-µs/chunk")
	}
}
