package simengine

import "time"

// Collective latencies: small-message (≤ 64 KiB) all-reduce over 8 ranks
// as nccl-tests/rccl-tests and vLLM's custom all-reduce report them, to
// the nearest few µs. They are orders of magnitude, not datasheet values:
// the calibration's per-layer overhead absorbs the rest. Cross-node
// collectives (more ranks than the scale-up domain) pay scaleOutLatency
// more and run at scaleOutGBs.
const (
	// NVSwitch, one-shot all-reduce with NVLS or vLLM's custom kernel.
	nvswitchLatency = 8 * time.Microsecond
	// xGMI point-to-point (no switch): the custom all-reduce reads every
	// peer; rccl-tests put 8-GPU small all-reduces at ~15–25 µs.
	xgmiLatency = 15 * time.Microsecond
	// PCIe Gen5 through the host bridge, no peer-to-peer switch assumed
	// (unsure: depends on the server's PCIe topology).
	pcieLatency = 25 * time.Microsecond
	// InfiniBand NDR 400 Gb/s per GPU (ConnectX-7), the scale-out network
	// of every upstream multinode cluster; RDMA adds a few µs per hop.
	scaleOutLatency = 10 * time.Microsecond
	scaleOutGBs     = 50
)

// hardwareCatalog: dense tensor TFLOP/s, HBM and links from the vendors'
// datasheets, as of 2025–2026. The SKU names are the ones upstream's
// runner labels use (sweep.DefaultNodeHardware).
var hardwareCatalog = []Hardware{
	// NVIDIA H100 SXM datasheet: 989 TF BF16, 1,979 TF FP8 (dense), 80 GB
	// HBM3 at 3.35 TB/s, NVLink 4 900 GB/s bidirectional, 700 W.
	{Name: "h100", TFLOPS: map[Precision]float64{BF16: 989, FP8: 1979}, HBMGB: 80, HBMTBs: 3.35, LinkGBs: 450, TDPkW: 0.70,
		ScaleUpGPUs: 8, Fabric: "NVLink 4", CollectiveLatency: nvswitchLatency},
	// NVIDIA H200 SXM datasheet: H100 compute, 141 GB HBM3e at 4.8 TB/s, 700 W.
	{Name: "h200", TFLOPS: map[Precision]float64{BF16: 989, FP8: 1979}, HBMGB: 141, HBMTBs: 4.8, LinkGBs: 450, TDPkW: 0.70,
		ScaleUpGPUs: 8, Fabric: "NVLink 4", CollectiveLatency: nvswitchLatency},
	// NVIDIA HGX B200 datasheet: 2.25 PF BF16, 4.5 PF FP8, 9 PF FP4 dense per
	// GPU, 180 GB HBM3e at 7.7 TB/s, NVLink 5 1.8 TB/s bidirectional, 1,000 W.
	{Name: "b200", TFLOPS: map[Precision]float64{BF16: 2250, FP8: 4500, FP4: 9000}, HBMGB: 180, HBMTBs: 7.7, LinkGBs: 900, TDPkW: 1.0,
		ScaleUpGPUs: 8, Fabric: "NVLink 5", CollectiveLatency: nvswitchLatency},
	// NVIDIA HGX B300 (Blackwell Ultra) datasheet: 108 PF FP4, 36 PF FP8
	// and 18 PF BF16 dense per 8 GPUs (13.5 / 4.5 / 2.25 PF each), 288 GB
	// HBM3e at 8 TB/s, NVLink 5, ~1,100 W (the power figure is the one we
	// are least sure of: OEMs ship 1,100–1,200 W).
	{Name: "b300", TFLOPS: map[Precision]float64{BF16: 2250, FP8: 4500, FP4: 13500}, HBMGB: 288, HBMTBs: 8, LinkGBs: 900, TDPkW: 1.1,
		ScaleUpGPUs: 8, Fabric: "NVLink 5", CollectiveLatency: nvswitchLatency},
	// NVIDIA GB200 NVL72 datasheet ÷ 72 GPUs: 2.5 PF BF16, 5 PF FP8, 10 PF
	// FP4 dense, 186 GB HBM3e at 8 TB/s, NVLink 5 1.8 TB/s bidirectional
	// across the 72-GPU rack; 1,200 W per GPU.
	{Name: "gb200", TFLOPS: map[Precision]float64{BF16: 2500, FP8: 5000, FP4: 10000}, HBMGB: 186, HBMTBs: 8, LinkGBs: 900, TDPkW: 1.2,
		ScaleUpGPUs: 72, Fabric: "NVLink 5 (NVL72)", CollectiveLatency: nvswitchLatency},
	// NVIDIA GB300 NVL72 datasheet ÷ 72 GPUs: 1,080 PF FP4 dense (15 PF
	// per GPU), 5 PF FP8, 2.5 PF BF16 dense, 288 GB HBM3e at 8 TB/s,
	// NVLink 5 1.8 TB/s bidirectional across the rack, ~1,400 W per GPU.
	{Name: "gb300", TFLOPS: map[Precision]float64{BF16: 2500, FP8: 5000, FP4: 15000}, HBMGB: 288, HBMTBs: 8, LinkGBs: 900, TDPkW: 1.4,
		ScaleUpGPUs: 72, Fabric: "NVLink 5 (NVL72)", CollectiveLatency: nvswitchLatency},
	// NVIDIA RTX PRO 6000 Blackwell Server Edition datasheet: 96 GB GDDR7
	// at 1.6 TB/s, ~4 PF FP4 with sparsity (so ~2 PF dense; FP8 and BF16
	// halve each step: unsure, the datasheet quotes sparse AI TOPS only),
	// no NVLink: PCIe Gen5 x16, 64 GB/s each way; 600 W.
	{Name: "rtx6000pro", TFLOPS: map[Precision]float64{BF16: 500, FP8: 1000, FP4: 2000}, HBMGB: 96, HBMTBs: 1.6, LinkGBs: 64, TDPkW: 0.6,
		ScaleUpGPUs: 8, Fabric: "PCIe Gen5", CollectiveLatency: pcieLatency},
	// AMD Instinct MI300X datasheet: 1,307 TF BF16, 2,615 TF FP8 dense,
	// 192 GB HBM3 at 5.3 TB/s, 7 Infinity Fabric links × 64 GB/s each way,
	// 750 W.
	{Name: "mi300x", TFLOPS: map[Precision]float64{BF16: 1307, FP8: 2615}, HBMGB: 192, HBMTBs: 5.3, LinkGBs: 448, TDPkW: 0.75,
		ScaleUpGPUs: 8, Fabric: "Infinity Fabric (xGMI)", CollectiveLatency: xgmiLatency},
	// AMD Instinct MI325X datasheet: MI300X compute, 256 GB HBM3e at
	// 6 TB/s, same links, 1,000 W.
	{Name: "mi325x", TFLOPS: map[Precision]float64{BF16: 1307, FP8: 2615}, HBMGB: 256, HBMTBs: 6, LinkGBs: 448, TDPkW: 1.0,
		ScaleUpGPUs: 8, Fabric: "Infinity Fabric (xGMI)", CollectiveLatency: xgmiLatency},
	// AMD Instinct MI355X datasheet: 2.5 PF BF16, 5 PF FP8, 10 PF MXFP4
	// dense, 288 GB HBM3e at 8 TB/s, 1,400 W; 7 Infinity Fabric links of
	// 1,075 GB/s in all, ~538 GB/s each way (the link figure: unsure).
	{Name: "mi355x", TFLOPS: map[Precision]float64{BF16: 2500, FP8: 5000, FP4: 10000}, HBMGB: 288, HBMTBs: 8, LinkGBs: 538, TDPkW: 1.4,
		ScaleUpGPUs: 8, Fabric: "Infinity Fabric (xGMI)", CollectiveLatency: xgmiLatency},
}
