package evals

// Sampler is how each document's few-shot examples are chosen from the
// few-shot file, named as lm-eval's fewshot_config.sampler names it.
type Sampler string

const (
	// SamplerDefault is lm-eval's ContextSampler, what a task file with no
	// fewshot_config (upstream's gsm8k.yaml) gets: random.sample of the
	// few-shot split, one generator for the whole task.
	SamplerDefault Sampler = "default"
	// SamplerFirstN is lm-eval's first_n: the file's first k documents
	// before every question.
	SamplerFirstN Sampler = "first_n"
)

// fewshotSeed is lm-eval's default fewshot_random_seed, the fourth value
// of --seed 0,1234,1234,1234, which set_fewshot_seed gives the sampler
// before any request is built.
const fewshotSeed = 1234

// fewshots picks the examples of each of n documents, in document order,
// from pool. The default sampler is lm-eval's as build_all_requests
// drives it: documents in order, each drawing rng.sample(pool, k) from one
// random.Random(1234) whose state carries on to the next document, so
// the examples depend on a document's position and on --limit only by
// where the list stops. lm-eval drops an example equal to the question
// only when the few-shot and test splits are the same split, which
// upstream's gsm8k.yaml (train and test) never has, so none is dropped.
func (t Task) fewshots(pool []Doc, n int) [][]Doc {
	out := make([][]Doc, n)
	k := t.NumFewshot
	if k == 0 {
		return out
	}
	if t.Sampler != SamplerDefault {
		for i := range out {
			out[i] = pool[:k]
		}
		return out
	}
	rng := newPyRandom(fewshotSeed)
	for i := range out {
		shots := make([]Doc, k)
		for j, idx := range rng.sample(len(pool), k) {
			shots[j] = pool[idx]
		}
		out[i] = shots
	}
	return out
}
