package simengine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Role is an engine's part in a disaggregated (prefill/decode) deployment.
type Role string

const (
	// Aggregated engines prefill and decode their own requests.
	Aggregated Role = "aggregated"
	// Prefill engines also hand a prompt's KV over to a decode engine
	// when a request asks for do_remote_decode.
	Prefill Role = "prefill"
	// Decode engines also take requests whose prompt a prefill engine
	// computed (do_remote_prefill), reading its KV over the KV link.
	Decode Role = "decode"
)

// ParseRole accepts "" as aggregated.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case "":
		return Aggregated, nil
	case Aggregated, Prefill, Decode:
		return r, nil
	}
	return "", fmt.Errorf("role %q: want prefill, decode or aggregated", s)
}

// kvTransferParams is vLLM's NixlConnector hand-off, in both directions:
// the proxy asks a prefill worker for do_remote_decode, the worker answers
// with do_remote_prefill and where the blocks are, and the proxy passes
// that answer to a decode worker. PromptTokens is the sim's addition: how
// much KV the decode side must read.
type kvTransferParams struct {
	DoRemoteDecode  bool    `json:"do_remote_decode"`
	DoRemotePrefill bool    `json:"do_remote_prefill"`
	RemoteEngineID  *string `json:"remote_engine_id"`
	RemoteHost      *string `json:"remote_host"`
	RemotePort      *int    `json:"remote_port"`
	RemoteBlockIDs  []int64 `json:"remote_block_ids"`
	TPSize          int     `json:"tp_size,omitempty"`
	PromptTokens    int     `json:"prompt_tokens,omitempty"`
}

// kvTransfer checks a request's kv_transfer_params against the engine's
// role, so that a router wired to the wrong pool fails loudly instead of
// silently running aggregated.
func (s *Server) kvTransfer(p *kvTransferParams) (kvTransferParams, error) {
	if p == nil {
		return kvTransferParams{}, nil
	}
	role := s.cfg.Role
	switch {
	case p.DoRemoteDecode && role != Prefill:
		return *p, fmt.Errorf("kv_transfer_params.do_remote_decode: this engine runs --role %s; send prefill requests to a --role prefill engine", role)
	case p.DoRemotePrefill && role != Decode:
		return *p, fmt.Errorf("kv_transfer_params.do_remote_prefill: this engine runs --role %s; send decode requests to a --role decode engine", role)
	}
	return *p, nil
}

// handOff is what a prefill worker answers: the blocks a decode worker
// reads, addressed as the client reached this engine.
func (s *Server) handOff(r *http.Request, prompt int) *kvTransferParams {
	host, portText, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, portText = r.Host, "80"
	}
	port, _ := strconv.Atoi(portText)
	engineID := "infersweep-sim-" + r.Host
	n := blocksFor(prompt)
	first := s.nextBlock.Add(int64(n)) - int64(n)
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	return &kvTransferParams{DoRemotePrefill: true, RemoteEngineID: &engineID, RemoteHost: &host, RemotePort: &port,
		RemoteBlockIDs: ids, TPSize: s.cfg.Engine.TP, PromptTokens: prompt}
}

// kvWait is how long a remotely prefilled request waited for its KV, from
// arrival (link queueing included) to landing.
func (s *Sequence) kvWait() time.Duration {
	if !s.RemotePrefill || !s.kvLanded {
		return 0
	}
	return s.KVReady - s.Arrival
}

// awaitKV sleeps, when only KV transfers are in flight, until the first
// lands (at engine time at) or a request arrives, moving the engine clock
// to whichever came first. It reports false when ctx ended.
func (s *Server) awaitKV(ctx context.Context, at time.Duration, wallBase time.Time, simBase time.Duration) bool {
	deadline := wallBase.Add(time.Duration(float64(at-simBase) / s.cfg.TimeScale))
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		s.engine.AdvanceTo(at)
	case <-s.wake:
		now := simBase + time.Duration(float64(time.Since(wallBase))*s.cfg.TimeScale)
		s.engine.AdvanceTo(min(now, at))
	}
	return true
}
