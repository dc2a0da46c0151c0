// Package evals measures a served model's accuracy the way upstream
// InferenceX runs EleutherAI's lm-evaluation-harness (0.4.9.2, pinned at
// b315ef3), so that a number from here can be set beside one from there:
// the same prompts, the same request to an OpenAI-compatible endpoint, the
// same answer filters, the same exact_match rules and the same standard
// error of the mean.
//
// Two APIs (API). Chat, the default, is upstream's run_lm_eval:
// local-chat-completions with --apply_chat_template, its edited task
// files (utils/evals/gsm8k.yaml, gpqa_diamond.yaml), few-shot examples
// as user and assistant turns drawn by lm-eval's default sampler, and
// max_tokens from its context budget (MaxTokensFor). Completions is stock
// lm-eval's local-completions with its stock gsm8k.yaml, 256 tokens, and
// the few-shot file's first examples, for reproducing stock numbers.
//
// Datasets are the user's files (JSONL in the task's published shape);
// nothing downloads and nothing from a benchmark ships here. Every result
// names the SHA-256 of the bytes it read and how it asked (API, prompt
// format, sampler, max_tokens, stop). GenerateArithmetic makes a
// synthetic set in GSM8K's shape for tests and for the simulated engine,
// which can answer it (SolveArithmetic) with a chosen accuracy.
package evals
