package simengine

import (
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Streaming at scale. A handler goroutine per stream, with net/http's
// read and write buffers and its background reader, cost about 55 KB a
// stream and a goroutine wake-up, a write and a flush per token. So once a
// streaming request is admitted, its connection is hijacked and its
// handler returns: the scheduler hands each step's streams to a few
// writer goroutines, which write all of one connection's pending chunks
// (several tokens when a writer fell behind) in one HTTP chunk with one
// write, and one watcher notices clients that leave while nothing is
// written to them. The bytes on the wire are the ones net/http would send.

// directWriteTimeout drops a client that has read nothing for this long:
// its writer shard shares the wait with every other stream in the shard,
// and a client this far behind has no use for the tokens anyway.
const directWriteTimeout = 10 * time.Second

// deadlineSlack is how stale a stream's write deadline may get before it
// is pushed out again: setting it re-arms a runtime timer, a cost paid
// once a second instead of on every write.
const deadlineSlack = time.Second

// livenessInterval is how often streams that got no bytes for that long
// are checked for a departed client: long enough that a stream written
// every step (steps last tens of ms) is never checked, a syscall saved per
// stream. A client that leaves while its stream is being written is
// noticed by the failing write within two steps.
const livenessInterval = 250 * time.Millisecond

// writerYieldEvery is how many streams a writer serves between yields to
// the scheduler. A writer's loop of write syscalls never blocks, and Go
// runs expired timers only when a goroutine yields (or every 10 ms, by
// preemption): without this the engine loop's step deadline would wait
// for a writer to finish the whole step's writes (tens of ms at 10,000
// streams).
const writerYieldEvery = 32

// chunkHeaderRoom is the space kept in front of a write for its HTTP
// chunk header: up to six hex digits and CRLF.
const chunkHeaderRoom = 8

// directStream is one hijacked streaming response.
type directStream struct {
	gen        generation // w and r are nil: the handler has returned
	head       string
	conn       net.Conn
	closeAfter bool // the response said Connection: close
	seq        *Sequence
	arrival    time.Duration
	requestID  string

	queued atomic.Bool // in a writer's ready list
	active atomic.Bool // written to since the watcher last looked
	ended  atomic.Bool

	// Owned by the stream's writer goroutine.
	deadline time.Time // of writes, between directWriteTimeout - deadlineSlack and directWriteTimeout away
	written  int
	stalled  bool
	times    []int64
}

// directStreams is the server's share of hijacked streams.
type directStreams struct {
	start  sync.Once
	shards []writerShard
	// relisten takes finished keep-alive connections back to net/http;
	// nil when the server was started by Handler alone (httptest).
	relisten *reuseListener
	// pending collects one step's streams per shard; only the scheduler
	// goroutine touches it.
	pending [][]*directStream

	mu     sync.Mutex // guards live, closed
	live   map[*directStream]struct{}
	closed bool
}

type writerShard struct {
	mu    sync.Mutex
	ready []*directStream
	wake  chan struct{}
}

// startWriters runs the writers and the watcher until the engine stops.
func (s *Server) startWriters() {
	n := max(4, runtime.GOMAXPROCS(0))
	ds := &s.direct
	ds.shards = make([]writerShard, n)
	ds.pending = make([][]*directStream, n)
	ds.live = map[*directStream]struct{}{}
	for i := range ds.shards {
		ds.shards[i].wake = make(chan struct{}, 1)
		go s.runWriter(&ds.shards[i])
	}
	go s.watchDirect()
}

// startDirect hijacks the connection of an admitted streaming request,
// writes the response header and queues the sequence. It reports false,
// having touched nothing, where the connection cannot be hijacked (HTTP/2,
// HTTP/1.0, a recorder in a test); the caller then streams through
// net/http.
func (s *Server) startDirect(g *generation, seq *Sequence, arrival time.Duration) bool {
	hj, ok := g.w.(http.Hijacker)
	if !ok || !g.r.ProtoAtLeast(1, 1) {
		return false
	}
	s.direct.start.Do(s.startWriters)
	conn, rw, err := hj.Hijack()
	if err != nil {
		return false
	}
	// Pipelined bytes already read from the connection would be lost to
	// net/http, so such a connection closes after the response.
	d := &directStream{gen: *g, conn: conn, seq: seq, arrival: arrival, requestID: g.r.Header.Get("X-Request-Id"),
		closeAfter: s.direct.relisten == nil || g.r.Close || rw.Reader.Buffered() > 0}
	d.gen.w, d.gen.r = nil, nil
	d.head = d.gen.streamHead()
	if s.cfg.RecordChunks {
		d.times = make([]int64, 0, g.output)
	}
	header := "HTTP/1.1 200 OK\r\nCache-Control: no-cache\r\nContent-Type: text/event-stream\r\nDate: " +
		time.Now().UTC().Format(http.TimeFormat) + "\r\nTransfer-Encoding: chunked\r\n"
	if d.closeAfter {
		header += "Connection: close\r\n"
	}
	d.deadline = time.Now().Add(directWriteTimeout)
	_ = conn.SetWriteDeadline(d.deadline)
	if _, err := conn.Write([]byte(header + "\r\n")); err != nil {
		_ = conn.Close()
		return true
	}
	g.stream.direct = d
	ds := &s.direct
	ds.mu.Lock()
	closed := ds.closed
	if !closed {
		ds.live[d] = struct{}{}
	}
	ds.mu.Unlock()
	if closed { // the engine is gone
		_ = conn.Close()
		return true
	}
	s.submit(seq)
	return true
}

// queueDirect adds d to its writer's share of this step; the scheduler
// calls it for every stream that sampled a token, then dispatchDirect.
func (s *Server) queueDirect(d *directStream) {
	if d.queued.Swap(true) {
		return // its writer has not got to it yet and will write all it has
	}
	i := d.gen.id % uint64(len(s.direct.pending))
	s.direct.pending[i] = append(s.direct.pending[i], d)
}

// dispatchDirect hands the step's streams to the writers, one lock per
// writer rather than per stream.
func (s *Server) dispatchDirect() {
	for i, list := range s.direct.pending {
		if len(list) == 0 {
			continue
		}
		sh := &s.direct.shards[i]
		sh.mu.Lock()
		sh.ready = append(sh.ready, list...)
		sh.mu.Unlock()
		clear(list)
		s.direct.pending[i] = list[:0]
		select {
		case sh.wake <- struct{}{}:
		default:
		}
	}
}

func (s *Server) runWriter(sh *writerShard) {
	var batch []*directStream
	buf := make([]byte, 0, 4096)
	for {
		select {
		case <-s.stopped:
			return
		case <-sh.wake:
		}
		sh.mu.Lock()
		batch, sh.ready = sh.ready, batch[:0]
		sh.mu.Unlock()
		for i, d := range batch {
			// Cleared before reading the token count, so a step that
			// publishes after this read queues the stream again.
			d.queued.Store(false)
			buf = s.flushDirect(d, buf)
			if i%writerYieldEvery == writerYieldEvery-1 {
				runtime.Gosched()
			}
		}
		clear(batch)
	}
}

// flushDirect writes every token d has sampled and not yet sent, as one
// HTTP chunk, and after the last one, the end of the stream. buf is
// scratch space, returned for reuse.
func (s *Server) flushDirect(d *directStream, buf []byte) []byte {
	if d.stalled || d.ended.Load() {
		return buf
	}
	g := &d.gen
	sampled := int(g.stream.sampled.Load())
	buf = append(buf[:0], make([]byte, chunkHeaderRoom)...)
	from := d.written
	for d.written < sampled {
		if g.stallAt > 0 && d.written+1 == g.stallAt {
			// Injected stall: keep the connection, send nothing more.
			d.stalled = true
			break
		}
		d.written++
		buf = g.appendTokenEvent(buf, d.head, d.written)
	}
	done := d.written == g.output
	if done {
		buf = g.appendEnd(buf)
	}
	size := len(buf) - chunkHeaderRoom
	if size == 0 {
		return buf
	}
	var hex [chunkHeaderRoom]byte
	header := append(strconv.AppendUint(hex[:0], uint64(size), 16), '\r', '\n')
	start := chunkHeaderRoom - len(header)
	copy(buf[start:], header)
	buf = append(buf, '\r', '\n')
	if now := time.Now(); d.deadline.Sub(now) < directWriteTimeout-deadlineSlack {
		d.deadline = now.Add(directWriteTimeout)
		_ = d.conn.SetWriteDeadline(d.deadline)
	}
	if _, err := d.conn.Write(buf[start:]); err != nil {
		s.endDirect(d, false)
		return buf
	}
	d.active.Store(true)
	if d.times != nil {
		now := time.Since(s.start).Nanoseconds()
		for range d.written - from {
			d.times = append(d.times, now)
		}
	}
	if done {
		s.endDirect(d, true)
	}
	return buf
}
