package simengine

import (
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
