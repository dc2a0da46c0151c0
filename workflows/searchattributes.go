package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Search attributes make sweeps findable in the Temporal UI and CLI, e.g.
// `temporal workflow list --query "SweepDate = '2026-11-27' AND Model = 'llama-3.3-70b'"`.
//
// A sweep spans many models, frameworks and precisions, so those are keyword
// lists (the query `Model = 'x'` matches any sweep whose list contains x).
// Hardware is a single keyword set on each per-hardware child workflow: the
// SQLite visibility store of the dev server has only three keyword-list
// columns, and a hardware child is what a hardware team looks for.
var (
	SweepIDKey   = temporal.NewSearchAttributeKeyKeyword("SweepId")
	SweepDateKey = temporal.NewSearchAttributeKeyKeyword("SweepDate")
	HardwareKey  = temporal.NewSearchAttributeKeyKeyword("Hardware")
	FrameworkKey = temporal.NewSearchAttributeKeyKeywordList("Framework")
	ModelKey     = temporal.NewSearchAttributeKeyKeywordList("Model")
	PrecisionKey = temporal.NewSearchAttributeKeyKeywordList("Precision")
)

// SearchAttributes lists every custom search attribute infersweep writes, with
// its indexed type, so a namespace can be prepared before the first sweep.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	keys := []temporal.SearchAttributeKey{SweepIDKey, SweepDateKey, HardwareKey, FrameworkKey, ModelKey, PrecisionKey}
	attrs := make(map[string]enumspb.IndexedValueType, len(keys))
	for _, k := range keys {
		attrs[k.GetName()] = k.GetValueType()
	}
	return attrs
}
