package simengine

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// reuseListener hands net/http the connections it accepts and also those
// whose hijacked streams finished, so a keep-alive client sends its next
// request on the same connection, as it would to net/http or uvicorn.
//
// A connection, new or given back, waits for its request here, in a
// goroutine blocked on a one-byte read, not in net/http: a connection
// there holds a 4 KB read and a 4 KB write buffer besides its goroutine
// from the moment it is accepted, and 10,000 clients that connect at once,
// or whose streams end together, would leave 10,000 of them waiting.
type reuseListener struct {
	net.Listener
	errs chan error
	back chan net.Conn
	done chan struct{}

	mu     sync.Mutex // guards closed and fresh
	closed bool
	// fresh are connections given back that have not begun their next
	// request: net/http would see them as new, and Shutdown waits 5 s
	// before treating new ones as idle, so Close closes them itself.
	fresh map[net.Conn]struct{}
}

// firstRequestTimeout closes a new connection that sends nothing, as
// the server's ReadHeaderTimeout would in net/http.
const firstRequestTimeout = 10 * time.Second

func newReuseListener(l net.Listener) *reuseListener {
	r := &reuseListener{Listener: l, errs: make(chan error), back: make(chan net.Conn), done: make(chan struct{}),
		fresh: map[net.Conn]struct{}{}}
	go r.acceptLoop()
	return r
}

func (r *reuseListener) acceptLoop() {
	for {
		c, err := r.Listener.Accept()
		if err == nil {
			if !r.wait(c, firstRequestTimeout) {
				_ = c.Close()
			}
			continue
		}
		// net/http backs off from temporary errors and stops on others.
		select {
		case r.errs <- err:
		case <-r.done:
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Accept returns a new connection or one whose next request has begun,
// whichever comes first.
func (r *reuseListener) Accept() (net.Conn, error) {
	select {
	case c := <-r.back:
		return c, nil
	case err := <-r.errs:
		return nil, err
	case <-r.done:
		return nil, net.ErrClosed
	}
}

// give takes c to be served again once its client sends the next
// request; false means the caller closes it. A nil listener (no Serve)
// takes nothing.
func (r *reuseListener) give(c net.Conn) bool {
	if r == nil {
		return false
	}
	if p, ok := c.(*primedConn); ok {
		c = p.Conn // its byte was read with the request it carried
	}
	// No timeout: net/http keeps an idle keep-alive connection as long,
	// without an IdleTimeout.
	return r.wait(c, 0)
}

// wait has c wait for its next request; false, the listener is closed.
func (r *reuseListener) wait(c net.Conn, timeout time.Duration) bool {
	p := &primedConn{Conn: c}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.fresh[p] = struct{}{}
	go r.awaitRequest(p, timeout)
	return true
}

// awaitRequest hands p to net/http once its first byte arrives, and closes
// it when the client closes it first or, with a timeout, sends nothing
// for that long.
func (r *reuseListener) awaitRequest(p *primedConn, timeout time.Duration) {
	if timeout > 0 {
		_ = p.Conn.SetReadDeadline(time.Now().Add(timeout))
	}
	_, err := p.Conn.Read(p.first[:])
	if err == nil && timeout > 0 {
		err = p.Conn.SetReadDeadline(time.Time{})
	}
	if err != nil {
		r.forget(p)
		_ = p.Conn.Close()
		return
	}
	p.primed = true
	select {
	case r.back <- p:
	case <-r.done:
		_ = p.Conn.Close()
	}
}

func (r *reuseListener) forget(c net.Conn) {
	r.mu.Lock()
	delete(r.fresh, c)
	r.mu.Unlock()
}

// connState is the http.Server's ConnState hook: a connection given back
// stops being fresh once net/http reads a request from it or closes it.
func (r *reuseListener) connState(c net.Conn, state http.ConnState) {
	if state != http.StateNew {
		r.forget(c)
	}
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

// primedConn is a connection whose first byte was read while it waited
// for its next request; net/http reads that byte first.
type primedConn struct {
	net.Conn
	first  [1]byte
	primed bool // first not yet read; net/http reads from one goroutine at a time
}

func (p *primedConn) Read(b []byte) (int, error) {
	if p.primed && len(b) > 0 {
		b[0], p.primed = p.first[0], false
		return 1, nil
	}
	return p.Conn.Read(b)
}

// SyscallConn lets connClosed peek at the socket under a reused
// connection.
func (p *primedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := p.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("connection has no socket")
	}
	return sc.SyscallConn()
}
