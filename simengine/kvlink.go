package simengine

import (
	"fmt"
	"strings"
	"time"
)

// KVLink is the interconnect a disaggregated deployment's KV cache
// crosses from a prefill GPU to a decode GPU, per GPU and direction.
type KVLink struct {
	Name string
	GBs  float64 // GB/s (1e9 bytes) per GPU, one direction
	// Latency is each transfer's fixed cost: the connector's metadata
	// handshake, the RDMA read's round trips and the completion notice.
	// No datasheet gives it; NIXL and Mooncake report tens of µs on
	// NVLink and a few hundred µs across a fabric.
	Latency time.Duration
}

// Transfer is how long a payload of the given bytes takes on the link.
func (l KVLink) Transfer(bytes float64) time.Duration {
	if l.GBs <= 0 {
		return l.Latency
	}
	return l.Latency + time.Duration(bytes/(l.GBs*1e9)*float64(time.Second))
}

// kvLinkCatalog: line rates from the vendors' public figures.
var kvLinkCatalog = []KVLink{
	// NVIDIA GB200/GB300 NVL72: fifth-generation NVLink, 1.8 TB/s
	// bidirectional per GPU across the 72-GPU domain, so prefill and
	// decode racks-mates exchange KV at NVLink speed.
	{Name: "nvlink5", GBs: 900, Latency: 20 * time.Microsecond},
	// NVIDIA H100/H200 SXM: fourth-generation NVLink, 900 GB/s
	// bidirectional per GPU, within one 8-GPU node only.
	{Name: "nvlink4", GBs: 450, Latency: 20 * time.Microsecond},
	// NVIDIA Quantum-2 InfiniBand NDR with one ConnectX-7 at 400 Gb/s per
	// GPU, the scale-out fabric of DGX/HGX H100, H200 and B200 clusters.
	{Name: "ib-ndr", GBs: 50, Latency: 200 * time.Microsecond},
	// NVIDIA Quantum-X800 InfiniBand XDR with one ConnectX-8 at 800 Gb/s
	// per GPU (B300 clusters).
	{Name: "ib-xdr", GBs: 100, Latency: 200 * time.Microsecond},
	// RoCEv2 at 400 Gb/s per GPU: AMD Pensando Pollara 400 or ConnectX-7
	// Ethernet, the fabric of MI300X/MI325X/MI355X clusters.
	{Name: "roce-400g", GBs: 50, Latency: 250 * time.Microsecond},
}

// LookupKVLink finds a link by name (case-insensitive).
func LookupKVLink(name string) (KVLink, error) {
	for _, l := range kvLinkCatalog {
		if strings.EqualFold(l.Name, name) {
			return l, nil
		}
	}
	return KVLink{}, fmt.Errorf("kv link %q is not in the catalogue (have %s)", name, strings.Join(KVLinkNames(), ", "))
}

// KVLinkNames lists the catalogue.
func KVLinkNames() []string {
	names := make([]string, len(kvLinkCatalog))
	for i, l := range kvLinkCatalog {
		names[i] = l.Name
	}
	return names
}

// kvTransports are the connectors upstream's sweep files name under
// kv-p2p-transfer: they are software over a link, not links.
var kvTransports = []string{"nixl", "mooncake", "mori", "ucx"}

// KVLinkFor maps a runner's hardware (upstream names such as "gb200",
// "cluster:gb300-nv", "b200-multinode", "mi355x-disagg") and a transport
// ("nixl", "mooncake", "mori", "ucx", or "" for the default) to the link
// the KV crosses: a transport moves bytes over whatever fabric joins the
// prefill and decode GPUs, and that fabric is set by the hardware.
func KVLinkFor(hardware, transfer string) (KVLink, error) {
	if t := strings.ToLower(transfer); t != "" {
		known := false
		for _, k := range kvTransports {
			known = known || t == k
		}
		if !known {
			if l, err := LookupKVLink(t); err == nil {
				return l, nil // a link named directly
			}
			return KVLink{}, fmt.Errorf("kv-p2p-transfer %q: want one of %s or a link (%s)",
				transfer, strings.Join(kvTransports, ", "), strings.Join(KVLinkNames(), ", "))
		}
	}
	hw := strings.ToLower(hardware)
	hw = hw[strings.LastIndex(hw, ":")+1:]
	var name string
	switch {
	case strings.HasPrefix(hw, "gb200"), strings.HasPrefix(hw, "gb300"):
		name = "nvlink5" // prefill and decode share the NVL72 domain
	case strings.HasPrefix(hw, "b300"):
		name = "ib-xdr"
	case strings.HasPrefix(hw, "b200"), strings.HasPrefix(hw, "h100"), strings.HasPrefix(hw, "h200"):
		name = "ib-ndr"
	case strings.HasPrefix(hw, "mi"):
		name = "roce-400g"
	default:
		return KVLink{}, fmt.Errorf("hardware %q: no default kv link; pass one of %s", hardware, strings.Join(KVLinkNames(), ", "))
	}
	return LookupKVLink(name)
}
