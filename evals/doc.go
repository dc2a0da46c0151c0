// Package evals measures a served model's accuracy the way EleutherAI's
// lm-evaluation-harness does, so that a number from here can be set beside
// one from lm-eval: the same few-shot prompt text, the same request to an
// OpenAI-compatible /v1/completions endpoint (lm-eval's local-completions
// model), the same answer filters, the same exact_match rules and the same
// standard error of the mean.
//
// Datasets are the user's files (JSONL in the task's published shape);
// nothing downloads and nothing from a benchmark ships here. Every result
// names the SHA-256 of the bytes it read. GenerateArithmetic makes a
// synthetic set in GSM8K's shape for tests and for the simulated engine,
// which can answer it (SolveArithmetic) with a chosen accuracy.
//
// Tasks: gsm8k (lm_eval/tasks/gsm8k/gsm8k.yaml, version 3.0). lm-eval draws
// each prompt's few-shot examples at random from the train split (seed
// 1234); here they are the first k documents of the few-shot file, which
// is lm-eval's "first_n" sampler: the prompt text matches lm-eval's for the
// same examples.
package evals
