package simengine

import (
	"slices"
	"time"
)

// startTransfer admits a remotely prefilled request s: it takes the blocks
// of the whole prompt at once (vLLM allocates them before the NIXL read
// so the KV has somewhere to land) and queues the read on the least busy
// link lane. It reports false, leaving s waiting, when the blocks are not
// free.
func (e *Engine) startTransfer(s *Sequence) bool {
	if !e.reserve(s, s.PromptLen) {
		return false
	}
	e.waiting = e.waiting[1:]
	lane := 0
	for i, t := range e.linkFree {
		if t < e.linkFree[lane] {
			lane = i
		}
	}
	s.KVStart = max(e.clock, e.linkFree[lane])
	s.KVReady = s.KVStart + e.cfg.KVLink.Transfer(e.rl.kvTransferBytesPerGPU(s.PromptLen))
	e.linkFree[lane] = s.KVReady
	e.transferring = append(e.transferring, s)
	return true
}

// landTransfers returns requests whose KV has arrived to the front of the
// queue, in arrival order, as vLLM re-queues them once NIXL reports the
// read done. The last prompt token is left to compute: vLLM recomputes it
// on the decode side to sample the first token.
func (e *Engine) landTransfers() {
	var landed []*Sequence
	kept := e.transferring[:0]
	for _, s := range e.transferring {
		if s.KVReady <= e.clock {
			s.kvLanded = true
			s.computed = s.PromptLen - 1
			landed = append(landed, s)
			continue
		}
		kept = append(kept, s)
	}
	clear(e.transferring[len(kept):])
	e.transferring = kept
	if len(landed) > 0 {
		e.waiting = append(landed, e.waiting...)
	}
}

// NextKVArrival is when the earliest transfer in flight lands, for a
// driver whose Step found nothing to compute.
func (e *Engine) NextKVArrival() (time.Duration, bool) {
	if len(e.transferring) == 0 {
		return 0, false
	}
	return slices.MinFunc(e.transferring, func(a, b *Sequence) int { return int(a.KVReady - b.KVReady) }).KVReady, true
}

// KVTransferTime is how long cfg's engine takes to receive the KV of a
// prompt of n tokens over its link, when the link is idle.
func KVTransferTime(cfg EngineConfig, n int) time.Duration {
	return cfg.KVLink.Transfer(cfg.roofline().kvTransferBytesPerGPU(n))
}
