package results

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
)

// UpstreamRoot is the checkout root a control worker plans against when a
// sweep carries an upstream index: the files under it are the index's,
// read from the lake, not from any disk.
const UpstreamRoot = "/inferencex"

// UpstreamIndex names the files of an InferenceX checkout a sweep planned
// from beyond its specs (the srt-slurm recipes its multinode entries
// launch), by checkout-relative path, each kept in the lake by content as
// specs are. The control worker may run on another machine than the one
// that has the checkout: it reads them through the index.
type UpstreamIndex struct {
	Files map[string]string `json:"files"` // checkout-relative path (slashes) → spec digest
}

// NewUpstreamIndex indexes files (checkout-relative paths, with their
// bytes) by content: the index's bytes, and each file's bytes by the
// digest PutSpec keeps it under. Unchanged files are the same index.
func NewUpstreamIndex(files map[string][]byte) (index []byte, byDigest map[string][]byte, err error) {
	idx := UpstreamIndex{Files: map[string]string{}}
	byDigest = map[string][]byte{}
	for rel, data := range files {
		digest := SpecDigest(data)
		idx.Files[rel], byDigest[digest] = digest, data
	}
	index, err = json.Marshal(idx) // map keys sorted: one index, one digest
	return index, byDigest, err
}

// PutUpstream keeps files in the lake by content, then their index, and
// returns the index's ref (lake:v1/specs/<digest>.yaml).
func (l *Lake) PutUpstream(ctx context.Context, files map[string][]byte) (ref string, err error) {
	index, byDigest, err := NewUpstreamIndex(files)
	if err != nil {
		return "", err
	}
	for _, digest := range slices.Sorted(maps.Keys(byDigest)) {
		if _, _, err := l.PutSpec(ctx, byDigest[digest]); err != nil {
			return "", fmt.Errorf("keep upstream file %s in the lake: %w", digest, err)
		}
	}
	ref, _, err = l.PutSpec(ctx, index)
	return ref, err
}

// UpstreamReader wraps read (which reads lake refs) so that paths under
// UpstreamRoot come from the index at ref; other names pass through. A
// path the index lacks does not exist, as in a checkout without it.
func UpstreamReader(ref string, read func(string) ([]byte, error)) (func(string) ([]byte, error), error) {
	body, err := read(ref)
	if err != nil {
		return nil, fmt.Errorf("upstream index %s: %w", ref, err)
	}
	var idx UpstreamIndex
	if err := json.Unmarshal(body, &idx); err != nil {
		return nil, fmt.Errorf("upstream index %s: %w", ref, err)
	}
	return func(name string) ([]byte, error) {
		rel, ok := strings.CutPrefix(path.Clean(strings.ReplaceAll(name, `\`, "/")), UpstreamRoot+"/")
		if !ok {
			return read(name)
		}
		digest, ok := idx.Files[rel]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return read(LakeRefPrefix + SpecKey(digest))
	}, nil
}
