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
package loadgen
