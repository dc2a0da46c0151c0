package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// RecipeFingerprint is upstream's recipe-fingerprint of a row
// (process_changelog.py): the SHA-256 of the row as it is generated for
// throughput (--no-evals), without its concurrency and exp-name, as JSON
// with sorted keys, no spaces and ASCII only. Every point of one launch
// recipe shares it, whatever eval selection ran.
func (r Row) RecipeFingerprint() string {
	r.RunEval, r.EvalOnly, r.EvalConc, r.EvalAllConcs, r.hasRunEval = false, false, 0, false, r.Scenario != ScenarioAgentic
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.AppendInferenceX(nil), &fields); err != nil {
		panic("sweep: a row's own JSON does not decode: " + err.Error())
	}
	delete(fields, "conc")
	delete(fields, "exp-name")
	sum := sha256.Sum256(canonicalJSON(nil, fields))
	return hex.EncodeToString(sum[:])
}

// canonicalJSON writes v with sorted keys and no spaces, escaping as
// Python's json.dumps(ensure_ascii=True) does: AppendInferenceX already
// wrote every string that way, so raw values are copied as they are.
func canonicalJSON(buf []byte, fields map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(appendPyString(buf, k), ':')
		buf = appendCompact(buf, fields[k])
	}
	return append(buf, '}')
}

// appendCompact writes a raw JSON value without spaces, objects with
// sorted keys.
func appendCompact(buf []byte, raw json.RawMessage) []byte {
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '{':
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(raw, &inner); err == nil {
			return canonicalJSON(buf, inner)
		}
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err == nil {
			buf = append(buf, '[')
			for i, item := range items {
				if i > 0 {
					buf = append(buf, ',')
				}
				buf = appendCompact(buf, item)
			}
			return append(buf, ']')
		}
	}
	// Scalars: strings stay as AppendInferenceX escaped them.
	return append(buf, raw...)
}
