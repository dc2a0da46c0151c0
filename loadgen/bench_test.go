package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
