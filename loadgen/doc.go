// Package loadgen is infersweep's measuring instrument: an OpenAI-compatible
// streaming load generator for vLLM, SGLang, TensorRT-LLM and the simulated
// engine, with vLLM's metric definitions.
//
// Definitions (all times are client-side wall clock, monotonic):
//   - TTFT: first chunk whose "choices" array is non-empty, minus send time.
//   - ITL: every gap between consecutive such chunks, pooled over requests.
//     It is a per-chunk figure: an engine that sends several tokens in one
//     chunk shows fewer, longer gaps.
//   - E2EL: last such chunk minus send time.
//   - TPOT per request: (E2EL − TTFT) / (output_tokens − 1), for requests
//     with more than one output token.
//   - output_tokens: completion_tokens from the server's usage chunk, else the
//     number of content chunks (mismatches are counted and reported).
//
// Percentiles use numpy's default linear interpolation and std is the
// population standard deviation, as in vLLM's benchmark_serving.py.
//
// Trace replay (Replay) drives agentic sessions instead of random prompts.
// A session's turn k sends turn k-1's prompt, then turn k-1's answer, then
// turn k's new input, so its bytes start with turn k-1's. The answer goes
// in as token ids derived from the session, the turn and the number of
// tokens the server said it generated: a load generator without the
// model's tokenizer cannot send back the text it received, and derived
// ids keep every replay byte-identical. Shared content (a mooncake
// hash_id, a named system prompt) has ids derived from its key alone, so
// sessions that share it send identical bytes and an engine's prefix
// cache hits exactly where the trace says it would. Its figures (Agentic):
//   - Idle gap: from the previous answer's last content chunk (and the
//     end of its sub-agents) to the next send, as recorded, capped by
//     MaxIdleGap, divided by TimeScale.
//   - Measured window: opens when every lane has sent WarmupPerLane
//     requests; a request counts when it is sent inside the window, and
//     nothing is sent after Duration.
//   - By turn: TTFT, TPOT, ITL, E2EL of requests whose 0-based turn index
//     is 0, 1-3, 4-7, 8-15, 16-31, 32-63 or 64+.
//   - Session throughput: top-level sessions whose last turn was answered
//     in the window, per second.
//   - Input throughput: prompt tokens (whole context) of completed
//     requests per second; per GPU when GPUs is given.
//   - Mean concurrent requests: measured requests in flight, time-weighted
//     over the window: the concurrency held, below the lanes while
//     sessions sit in idle gaps, above it while sub-agents fan out.
//   - Estimated prefix-cache hit rate: the share of prompt tokens in
//     leading segments (blocks, shared prompts, earlier inputs, answers)
//     that an earlier request of the run, warm-ups included, had sent
//     after the same segments: an unbounded cache's hits at segment
//     granularity. The engine's own rate comes from /metrics:
//     vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total over
//     the window, else the mean of sglang:cache_hit_rate (or vLLM V0's
//     vllm:gpu_prefix_cache_hit_rate); counters about offloading or an
//     external prefix cache are reported as their change.
package loadgen
