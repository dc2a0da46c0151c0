package simengine

// rootHash stands in for vLLM's NONE_HASH, the parent of a prompt's first
// block; any constant works as long as every request uses the same one.
const rootHash uint64 = 0x9e3779b97f4a7c15

// HashTokenBlocks is vLLM's prefix-cache key of each full 16-token block
// of ids: a hash of the parent block's hash and the block's token ids, so
// that a block matches only behind the same whole prefix. The partial
// block at the end is left out, as vLLM caches full blocks only. vLLM
// hashes with SHA-256 (or Python's hash); FNV-1a is enough here, where a
// collision would only cost a wrong hit in a model, and it runs inline:
// every request with token ids is hashed on the handler's goroutine.
func HashTokenBlocks(ids []int) []uint64 {
	hashes := make([]uint64, 0, len(ids)/BlockSize)
	parent := rootHash
	for start := 0; start+BlockSize <= len(ids); start += BlockSize {
		h := fnvWord(fnvOffset, parent, 8)
		for _, id := range ids[start : start+BlockSize] {
			h = fnvWord(h, uint64(uint32(id)), 4)
		}
		parent = h
		hashes = append(hashes, parent)
	}
	return hashes
}

// FNV-1a, 64-bit (the constants of hash/fnv).
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

// fnvWord adds the low n bytes of v to h, little-endian.
func fnvWord(h, v uint64, n int) uint64 {
	for range n {
		h ^= v & 0xff
		h *= fnvPrime
		v >>= 8
	}
	return h
}

// hashTextBlocks keys a text prompt, for which the simulator has no
// tokenizer: the text's bytes in chunks of 4·BlockSize (four characters a
// token, as textTokens counts), chained like token blocks, at most
// maxBlocks of them so a hit never exceeds the prompt's counted tokens. A
// chat whose next turn repeats the earlier messages shares their chunks.
func hashTextBlocks(text []byte, maxBlocks int) []uint64 {
	const chunk = 4 * BlockSize
	n := max(min(len(text)/chunk, maxBlocks), 0)
	hashes := make([]uint64, 0, n)
	parent := rootHash
	for i := range n {
		h := fnvWord(fnvOffset, parent, 8)
		for _, c := range text[i*chunk : (i+1)*chunk] {
			h = (h ^ uint64(c)) * fnvPrime
		}
		parent = h
		hashes = append(hashes, parent)
	}
	return hashes
}

// kvBlock is one cached block, in HBM or in the DRAM tier. refs counts the
// requests using it in HBM; an HBM block with refs 0 sits in the free
// queue, still cached until a new allocation takes it.
type kvBlock struct {
	hash       uint64
	refs       int
	prev, next *kvBlock
}

// blockLRU is vLLM's free-block queue (or the DRAM tier's order): least
// recently used at the front, evicted first.
type blockLRU struct {
	root kvBlock // sentinel: root.next is the front
	n    int
}

func (l *blockLRU) init() { l.root.next, l.root.prev = &l.root, &l.root }

func (l *blockLRU) pushBack(b *kvBlock) {
	b.prev, b.next = l.root.prev, &l.root
	l.root.prev.next = b
	l.root.prev = b
	l.n++
}

func (l *blockLRU) remove(b *kvBlock) {
	b.prev.next, b.next.prev = b.next, b.prev
	b.prev, b.next = nil, nil
	l.n--
}

func (l *blockLRU) front() *kvBlock {
	if l.n == 0 {
		return nil
	}
	return l.root.next
}

// CacheStats are the prefix cache's counters since start, in tokens as
// vLLM counts them (vllm:prefix_cache_queries and _hits for HBM,
// vllm:external_prefix_cache_* for what a KV connector, here the DRAM
// tier, supplies), and the DRAM tier's traffic in blocks.
type CacheStats struct {
	Queries, Hits                 int64
	ExternalQueries, ExternalHits int64
	// OffloadStoredBlocks went from HBM to DRAM on eviction,
	// OffloadLoadedBlocks came back for a hit.
	OffloadStoredBlocks, OffloadLoadedBlocks int64
}

// prefixCache holds the hashes of cached blocks. It does not own block
// counts: the engine's free count includes the cached blocks no request
// references (lru), as vLLM counts them free.
type prefixCache struct {
	hbm map[uint64]*kvBlock
	lru blockLRU // HBM blocks with refs 0, evictable
	// dram is the exclusive second tier: blocks land there when HBM
	// evicts them and leave when a hit loads them back.
	dram    map[uint64]*kvBlock
	dramLRU blockLRU
	dramCap int // blocks
	stats   CacheStats
}

func newPrefixCache(dramBlocks int) *prefixCache {
	c := &prefixCache{hbm: map[uint64]*kvBlock{}, dram: map[uint64]*kvBlock{}, dramCap: dramBlocks}
	c.lru.init()
	c.dramLRU.init()
	return c
}

// match is the longest run of hashes cached from the start: hbm blocks
// in HBM, then dram more in the DRAM tier, at most limit in all.
func (c *prefixCache) match(hashes []uint64, limit int) (hbm, dram int) {
	hashes = hashes[:min(len(hashes), limit)]
	for hbm < len(hashes) && c.hbm[hashes[hbm]] != nil {
		hbm++
	}
	for hbm+dram < len(hashes) && c.dram[hashes[hbm+dram]] != nil {
		dram++
	}
	return hbm, dram
}

// evictable counts the blocks among hashes that sit in the free queue: a
// request that reuses them takes them out of the free count.
func (c *prefixCache) evictable(hashes []uint64) int {
	n := 0
	for _, h := range hashes {
		if c.hbm[h].refs == 0 {
			n++
		}
	}
	return n
}

// ref takes a reference on a cached HBM block.
func (c *prefixCache) ref(h uint64) *kvBlock {
	b := c.hbm[h]
	if b.refs == 0 {
		c.lru.remove(b)
	}
	b.refs++
	return b
}

// insert caches a block a request has just computed or loaded, referenced
// by it. A hash already cached (two requests computed the same block at
// once) stays private to the second, as vLLM keeps one copy per hash.
func (c *prefixCache) insert(h uint64) *kvBlock {
	if c.hbm[h] != nil {
		return nil
	}
	b := &kvBlock{hash: h, refs: 1}
	c.hbm[h] = b
	return b
}

// unref drops a request's reference; at zero the block joins the back of
// the free queue, still cached.
func (c *prefixCache) unref(b *kvBlock) {
	b.refs--
	if b.refs == 0 {
		c.lru.pushBack(b)
	}
}

// evict reuses the least recently used free cached block for a new
// allocation, moving its contents to the DRAM tier when there is one.
func (c *prefixCache) evict() {
	b := c.lru.front()
	c.lru.remove(b)
	delete(c.hbm, b.hash)
	if c.dramCap == 0 {
		return
	}
	if d := c.dram[b.hash]; d != nil {
		c.dramLRU.remove(d)
		c.dramLRU.pushBack(d)
		return
	}
	if c.dramLRU.n >= c.dramCap {
		old := c.dramLRU.front()
		c.dramLRU.remove(old)
		delete(c.dram, old.hash)
	}
	c.dram[b.hash] = b
	c.dramLRU.pushBack(b)
	c.stats.OffloadStoredBlocks++
}

// load takes a block out of the DRAM tier for a hit; the caller inserts
// it in HBM once it has blocks for it.
func (c *prefixCache) load(h uint64) {
	d := c.dram[h]
	c.dramLRU.remove(d)
	delete(c.dram, h)
	c.stats.OffloadLoadedBlocks++
}
