package s3store

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
)

// Faults makes a store misbehave as a loaded S3 does, for chaos tests: a
// fraction of requests answer 500 InternalError, half of them before the
// request takes effect and half after (the reply is lost), so a client's
// retries must be idempotent, not just repeated.
type Faults struct {
	Rate float64 // 0.05: one request in twenty
	Seed uint64
	// Injected counts faults by kind, "refused" and "lost-reply".
	refused, lost atomic.Int64
}

// Injected reports how many requests were refused and how many replies lost.
func (f *Faults) Injected() (refused, lostReply int64) { return f.refused.Load(), f.lost.Load() }

func (f *Faults) wrap(next http.Handler) http.Handler {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(f.Seed, 0x53))
	draw := func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch p := draw(); {
		case p < f.Rate/2:
			f.refused.Add(1)
		case p < f.Rate:
			next.ServeHTTP(httptest.NewRecorder(), req)
			f.lost.Add(1)
		default:
			next.ServeHTTP(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by infersweep chaos</Message></Error>`))
	})
}
