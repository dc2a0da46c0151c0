package simengine

import (
	"fmt"
	"strings"
)

// Host links: what KV blocks cross between a GPU and its host's DRAM, per
// GPU and direction, at the line rate (DMA engines reach 80–90% of it;
// the model does not discount). A load has no fixed cost here: the copies
// are issued with the step's kernels.
var (
	// PCIe 5.0 x16: 32 GT/s × 16 lanes × 128b/130b ≈ 63 GB/s each way (PCI-SIG
	// PCIe 5.0 base specification; NVIDIA's H100/H200 SXM datasheets and
	// AMD's MI300X/MI325X/MI355X datasheets quote "PCIe Gen5 x16, 128 GB/s"
	// both ways together).
	pcie5x16 = KVLink{Name: "pcie5-x16", GBs: 63}
	// NVLink-C2C between Grace and Blackwell in a GB200/GB300 superchip:
	// 900 GB/s both ways together per superchip (NVIDIA GB200 NVL72 and
	// GB300 NVL72 datasheets), shared by its two GPUs: 225 GB/s per GPU
	// each way (unsure: how the 900 GB/s splits between the two GPUs is
	// not published; Grace's LPDDR5X, ~500 GB/s, does not cap it lower).
	nvlinkC2C = KVLink{Name: "nvlink-c2c", GBs: 225}
)

// hostLinks maps the catalogue's hardware to its host link.
var hostLinks = map[string]KVLink{
	// HGX H100/H200: each SXM GPU hangs off a PCIe Gen5 x16 switch port
	// to the host (datasheets above).
	"h100": pcie5x16, "h200": pcie5x16,
	// HGX B200 (datasheet: PCIe Gen5 x16 per GPU) and HGX B300, whose
	// GPUs speak PCIe Gen6 but whose x86 hosts are Gen5 today (unsure:
	// Gen6 hosts would double it).
	"b200": pcie5x16, "b300": pcie5x16,
	"gb200": nvlinkC2C, "gb300": nvlinkC2C,
	// RTX PRO 6000 Blackwell Server Edition datasheet: PCIe Gen5 x16.
	"rtx6000pro": pcie5x16,
	// AMD Instinct MI300X, MI325X and MI355X datasheets: PCIe Gen5 x16.
	"mi300x": pcie5x16, "mi325x": pcie5x16, "mi355x": pcie5x16,
}

// HostLinkFor is the link between a GPU of the named hardware and its
// host's DRAM.
func HostLinkFor(hardware string) (KVLink, error) {
	if l, ok := hostLinks[strings.ToLower(hardware)]; ok {
		return l, nil
	}
	return KVLink{}, fmt.Errorf("hardware %q: no host link in the catalogue, so no DRAM tier (have %s)", hardware, strings.Join(HardwareNames(), ", "))
}
