package simengine

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// endDirect ends a hijacked stream once. Finished, its record is kept
// before the body's last chunk goes out, as net/http's handler kept it
// before returning, so a client that read to the end finds it in
// /debug/requests; then the connection goes back to net/http for the
// client's next request, or closes where the response said so. Otherwise
// the connection closes and the sequence is aborted, so the scheduler
// frees its blocks.
func (s *Server) endDirect(d *directStream, finished bool) {
	if d.ended.Swap(true) {
		return
	}
	s.direct.mu.Lock()
	delete(s.direct.live, d)
	s.direct.mu.Unlock()
	if !finished {
		_ = d.conn.Close()
		d.gen.stream.aborted.Store(true)
		s.poke()
		return
	}
	s.recordRequest(d.gen.id, d.requestID, d.seq, d.arrival, d.gen.prompt, d.gen.output, d.times)
	_, err := d.conn.Write([]byte("0\r\n\r\n"))
	// net/http sets no write deadline of its own without a WriteTimeout,
	// so ours must not outlive the stream.
	if err != nil || d.closeAfter || d.conn.SetDeadline(time.Time{}) != nil || !s.direct.relisten.give(d.conn) {
		_ = d.conn.Close()
	}
}

// watchDirect looks, every livenessInterval, for clients that left
// streams nothing was written to lately (queued, prefilling, stalled),
// and when the engine stops, closes every stream it still holds: the
// connections go down with the engine.
func (s *Server) watchDirect() {
	tick := time.NewTicker(livenessInterval)
	defer tick.Stop()
	var idle []*directStream
	for {
		select {
		case <-s.stopped:
			s.direct.mu.Lock()
			s.direct.closed = true
			idle = idle[:0]
			for d := range s.direct.live {
				idle = append(idle, d)
			}
			s.direct.mu.Unlock()
			for _, d := range idle {
				s.endDirect(d, false)
			}
			return
		case <-tick.C:
		}
		idle = idle[:0]
		s.direct.mu.Lock()
		for d := range s.direct.live {
			if !d.active.Swap(false) {
				idle = append(idle, d)
			}
		}
		s.direct.mu.Unlock()
		for _, d := range idle {
			if !d.ended.Load() && connClosed(d.conn) {
				s.endDirect(d, false)
			}
		}
		clear(idle)
	}
}

// reuseListener hands net/http the connections it accepts and also those
// whose hijacked streams finished, so a keep-alive client sends its next
// request on the same connection, as it would to net/http or uvicorn.
type reuseListener struct {
	net.Listener
	accepted chan acceptResult
	back     chan net.Conn
	done     chan struct{}

	mu     sync.Mutex // guards closed, fresh, and sends on back against Close
	closed bool
	// fresh are connections given back that have not begun their next
	// request: net/http sees them as new, and Shutdown would wait 5 s
	// before treating them as idle, so Close closes them itself.
	fresh map[net.Conn]struct{}
}

type acceptResult struct {
	conn net.Conn
	err  error
}

// reuseBacklog bounds the connections waiting to be served again; net/http
// accepts in a tight loop, so it only fills if that loop has stopped.
const reuseBacklog = 1024

func newReuseListener(l net.Listener) *reuseListener {
	r := &reuseListener{Listener: l, accepted: make(chan acceptResult), back: make(chan net.Conn, reuseBacklog), done: make(chan struct{}),
		fresh: map[net.Conn]struct{}{}}
	go r.acceptLoop()
	return r
}

func (r *reuseListener) acceptLoop() {
	for {
		c, err := r.Listener.Accept()
		select {
		case r.accepted <- acceptResult{c, err}:
		case <-r.done:
			if c != nil {
				_ = c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Accept returns a new connection or one given back, whichever comes
// first.
func (r *reuseListener) Accept() (net.Conn, error) {
	select {
	case c := <-r.back:
		return c, nil
	case a := <-r.accepted:
		return a.conn, a.err
	case <-r.done:
		return nil, net.ErrClosed
	}
}

// give queues c to be served again; false means the caller closes it. A
// nil listener (no Serve) takes nothing.
func (r *reuseListener) give(c net.Conn) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	select {
	case r.back <- c:
		r.fresh[c] = struct{}{}
		return true
	default:
		return false
	}
}

// connState is the http.Server's ConnState hook: a connection given back
// stops being fresh once net/http reads a request from it or closes it.
func (r *reuseListener) connState(c net.Conn, state http.ConnState) {
	if state == http.StateNew {
		return
	}
	r.mu.Lock()
	delete(r.fresh, c)
	r.mu.Unlock()
}

// Close stops accepting and closes the connections still waiting to be
// served again.
func (r *reuseListener) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.done)
	for c := range r.fresh {
		_ = c.Close()
	}
	clear(r.fresh)
	r.mu.Unlock()
	return r.Listener.Close()
}
