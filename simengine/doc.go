// Package simengine is a simulated, vLLM-shaped inference engine for
// machines without GPUs: the same HTTP API, SSE chunks, errors and
// Prometheus names as vLLM, driven by a model of vLLM V1's scheduler
// (continuous batching, chunked prefill, FCFS admission under
// max-num-seqs and KV blocks of 16 tokens, preemption by recompute of the
// newest request) whose step times come from a roofline:
//
//	t = overhead + layers·t_layer + max(FLOPs/(peak·MFU), bytes/(HBM·MBU)) + TP all-reduces
//
// with FLOPs = 2·P_active·tokens + attention over cached context, and bytes
// = weights/TP (for a MoE, only the experts the batch's tokens touch) + KV
// read. KV capacity = HBM·utilization − weights/TP. Hardware and model
// figures come from public datasheets and model configs (catalog.go cites
// each); the calibration (MFU 0.6, MBU 0.8, 0.8 ms per step) reproduces
// Llama-3.1-8B on one H100: ≈ 6 ms decode steps at batch 1, ≈ 28 ms for a
// 1,024-token prefill, ≈ 7.7k output tok/s at batch 128 with 1.5k context.
//
// It is a model, not a measurement: use it to exercise the whole system and
// to see plausible curves before spending GPU hours, never to publish
// numbers. Predicted closed-loop points for Llama-3.3-70B FP8 at TP8
// (`infersweep engine predict`), 2·conc requests each:
//
//	hw      isl/osl    conc  tok/s/GPU tok/s/user
//	h100    1024/1024     4        170      173.0
//	h100    1024/1024    16        603      160.2
//	h100    1024/1024    64       1689      118.2
//	h100    1024/1024   256       3052       57.3
//	h100    8192/1024     4        630      151.1
//	h100    8192/1024    16       1526      102.1
//	h100    8192/1024    64       2380       43.1
//	h100    8192/1024   256       2814       13.4
//	h200    1024/1024     4        205      209.6
//	h200    1024/1024    16        717      192.6
//	h200    1024/1024    64       1937      137.9
//	h200    1024/1024   256       3344       64.0
//	h200    8192/1024     4        741      180.3
//	h200    8192/1024    16       1714      117.7
//	h200    8192/1024    64       2561       47.5
//	h200    8192/1024   256       2946       14.3
//	b200    1024/1024     4        255      258.2
//	b200    1024/1024    16        937      244.6
//	b200    1024/1024    64       2860      195.3
//	b200    1024/1024   256       5843      107.5
//	b200    8192/1024     4        999      235.0
//	b200    8192/1024    16       2707      175.1
//	b200    8192/1024    64       4747       84.3
//	b200    8192/1024   256       5937       28.2
//	mi355x  1024/1024     4        256      260.4
//	mi355x  1024/1024    16        909      241.0
//	mi355x  1024/1024    64       2547      177.6
//	mi355x  1024/1024   256       4607       86.0
//	mi355x  8192/1024     4        965      231.2
//	mi355x  8192/1024    16       2401      160.7
//	mi355x  8192/1024    64       3837       70.0
//	mi355x  8192/1024   256       4556       22.0
//
// B200 sits above H200 above H100 per GPU at equal interactivity, as in
// InferenceMAX's public results (a test holds the ordering). MI355X's
// position depends on software maturity the model does not capture.
//
// Disaggregated serving (ServerConfig.Role) follows vLLM's disaggregated
// prefill with NixlConnector and its toy proxy (package router plays the
// proxy): a prefill engine answers a request carrying kv_transfer_params
// {"do_remote_decode": true} with the params a decode engine needs
// (do_remote_prefill, remote_engine_id/host/port, remote_block_ids, and the
// sim's prompt_tokens). A decode engine given do_remote_prefill takes the
// prompt's KV blocks at admission, waits latency + bytes/bandwidth on its KV
// link (transfers queue on the link; a DP-attention replica has one link per
// rank), then recomputes only the last prompt token to sample the first, as
// vLLM does; requests without params are prefilled locally. The client's TTFT
// is thus prefill queue + prefill + transfer + one decode step. Bytes per GPU
// link are the prompt's KV over TP for a TP-sharded cache, all of it for MLA
// or DP attention. Links (kvlink.go) carry the vendors' line rates: NVLink 5
// in a GB200/GB300 NVL72 domain 900 GB/s, NVLink 4 (H100/H200, one node)
// 450 GB/s, InfiniBand NDR 400 Gb/s ≈ 50 GB/s and XDR 800 Gb/s ≈ 100 GB/s per
// GPU, RoCE 400G (Pollara 400, MI300X-MI355X clusters) ≈ 50 GB/s. Upstream's
// kv-p2p-transfer values (nixl, mooncake, mori, ucx) are transports, so
// KVLinkFor maps the runner's hardware to the fabric under them.
//
// Expert parallelism and DP attention (EngineConfig.EP, DPAttention) follow
// the DeepSeek-V3 technical report (§3.4: EP with all-to-all dispatch and
// combine, DP attention so the MLA cache is not duplicated across TP ranks),
// SGLang's large-scale EP blog (DP attention + DeepEP on 96 H100s) and vLLM's
// data/expert parallel deployment docs. With EP the MLP's all-reduce becomes
// an all-to-all per MoE layer that sends each token's top-k copies (FP8 out,
// BF16 back) to the experts' GPUs over the scale-up link, each GPU reading its
// own experts' share; with DP attention each TP rank runs attention for its
// share of the batch with its requests' whole KV (no attention all-reduce, the
// cache read per GPU falls by TP for MLA), while the dense weights are
// replicated on every rank. Small batches get dearer, large decode batches
// cheaper per token. With EP ≤ 1 and no DP attention the roofline is the one
// above, unchanged.
//
// Time: with TimeScale s > 1 the engine runs s times faster than real
// time; its own metrics (/metrics histograms) are in simulated seconds, and
// the load generator reports in simulated units when told the same scale.
// Engine runs on a virtual clock and is deterministic, for unit tests.
package simengine
