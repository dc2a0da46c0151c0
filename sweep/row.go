package sweep

import (
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Row is one row of upstream's matrix, as its generator
// (generate_sweep_configs.py full-sweep) prints it: single-node rows hold
// one concurrency, multinode rows the list one deployment runs in order.
// AppendInferenceX prints it with upstream's keys, values and key order.
type Row struct {
	Entry    string // the master-config key (not printed: upstream drops it)
	Label    string // the runner label (Runner is a node under a node filter)
	Scenario string

	Image, Model, ModelPrefix, Precision, Framework, Runner string

	ISL, OSL                     int
	TP, PP, DCPSize, PCPSize, EP int
	DPAttn                       bool
	SpecDecoding                 string
	Prefill, Decode              *Workers
	Conc                         []int
	MaxModelLen                  int
	ExpName                      string
	Multinode, Disagg            bool
	Router                       *Component
	KVP2PTransfer                string
	KVOffloading                 string
	KVOffloadBackend             *Component
	TotalCPUDRAMGB, Duration     int

	// hasRunEval: fixed-seq-len rows always print run-eval; agentic rows
	// only once eval selection ran (not with --no-evals).
	hasRunEval   bool
	RunEval      bool
	EvalConc     int // multinode: the concurrency the eval runs at
	EvalAllConcs bool
	EvalOnly     bool
}

// WriteInferenceX prints rows exactly as upstream's generator does
// (Python's json.dumps: ", " and ": " separators, ASCII only), so the two
// outputs compare with diff.
func WriteInferenceX(w io.Writer, rows []Row) error {
	buf := []byte{'['}
	for i := range rows {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		buf = rows[i].AppendInferenceX(buf)
	}
	buf = append(buf, "]\n"...)
	_, err := w.Write(buf)
	return err
}

// AppendInferenceX appends the row as upstream's JSON object.
func (r *Row) AppendInferenceX(buf []byte) []byte {
	o := pyObject{buf: append(buf, '{')}
	o.str("image", r.Image)
	o.str("model", r.Model)
	o.str("model-prefix", r.ModelPrefix)
	o.str("precision", r.Precision)
	o.str("framework", r.Framework)
	o.str("runner", r.Runner)
	agenticRow := r.Scenario == ScenarioAgentic
	if !agenticRow {
		o.num("isl", r.ISL)
		o.num("osl", r.OSL)
	}
	switch {
	case r.Multinode:
		o.str("spec-decoding", r.SpecDecoding)
		o.workers("prefill", r.Prefill)
		o.workers("decode", r.Decode)
		o.nums("conc", r.Conc)
	case agenticRow:
		r.appendTopology(&o)
		o.num("ep", r.EP)
		o.boolean("dp-attn", r.DPAttn)
		o.str("spec-decoding", r.SpecDecoding)
		o.num("conc", r.Conc[0])
	default:
		r.appendTopology(&o)
		o.num("conc", r.Conc[0])
	}
	if agenticRow {
		o.str("kv-offloading", r.KVOffloading)
		o.num("total-cpu-dram-gb", r.TotalCPUDRAMGB)
		o.num("duration", r.Duration)
		o.str("exp-name", r.ExpName)
		if r.Multinode {
			o.boolean("disagg", r.Disagg)
		}
		o.str("scenario-type", r.Scenario)
		o.component("kv-offload-backend", r.KVOffloadBackend)
	} else {
		o.num("max-model-len", r.MaxModelLen)
		if !r.Multinode {
			o.num("ep", r.EP)
			o.boolean("dp-attn", r.DPAttn)
			o.str("spec-decoding", r.SpecDecoding)
		}
		o.str("exp-name", r.ExpName)
		o.boolean("disagg", r.Disagg)
		o.boolean("run-eval", r.RunEval)
	}
	o.component("router", r.Router)
	if r.KVP2PTransfer != "" {
		o.str("kv-p2p-transfer", r.KVP2PTransfer)
	}
	if agenticRow && r.hasRunEval {
		o.boolean("run-eval", r.RunEval)
	}
	if r.EvalConc > 0 {
		o.num("eval-conc", r.EvalConc)
	}
	if r.EvalAllConcs {
		o.boolean("eval-all-concs", true)
	}
	if r.EvalOnly {
		o.boolean("eval-only", true)
	}
	return append(o.buf, '}')
}

func (r *Row) appendTopology(o *pyObject) {
	o.num("tp", r.TP)
	o.num("pp", r.PP)
	o.num("dcp-size", r.DCPSize)
	o.num("pcp-size", r.PCPSize)
}

// pyObject writes one JSON object the way Python's json.dumps does.
type pyObject struct {
	buf  []byte
	more bool
}

func (o *pyObject) key(k string) {
	if o.more {
		o.buf = append(o.buf, ", "...)
	}
	o.more = true
	o.buf = appendPyString(o.buf, k)
	o.buf = append(o.buf, ": "...)
}

func (o *pyObject) str(k, v string) {
	o.key(k)
	o.buf = appendPyString(o.buf, v)
}

func (o *pyObject) num(k string, v int) {
	o.key(k)
	o.buf = strconv.AppendInt(o.buf, int64(v), 10)
}

func (o *pyObject) boolean(k string, v bool) {
	o.key(k)
	o.buf = strconv.AppendBool(o.buf, v)
}

func (o *pyObject) nums(k string, vs []int) {
	o.key(k)
	o.buf = append(o.buf, '[')
	for i, v := range vs {
		if i > 0 {
			o.buf = append(o.buf, ", "...)
		}
		o.buf = strconv.AppendInt(o.buf, int64(v), 10)
	}
	o.buf = append(o.buf, ']')
}

func (o *pyObject) component(k string, c *Component) {
	if c == nil {
		return
	}
	o.key(k)
	in := pyObject{buf: append(o.buf, '{')}
	if c.versionFirst {
		in.str("version", c.Version)
	}
	in.str("name", c.Name)
	if !c.versionFirst && c.Version != "" {
		in.str("version", c.Version)
	}
	o.buf = append(in.buf, '}')
}

// workers prints a role as the file wrote it, then the parallelism
// defaults it left out (upstream's with_worker_parallelism_defaults).
func (o *pyObject) workers(k string, w *Workers) {
	o.key(k)
	in := pyObject{buf: append(o.buf, '{')}
	keys := w.keys
	for _, d := range []string{"pp", "dcp-size", "pcp-size"} {
		if !slices.Contains(keys, d) {
			keys = append(keys[:len(keys):len(keys)], d)
		}
	}
	for _, key := range keys {
		switch key {
		case "num-worker":
			in.num(key, w.NumWorker)
		case "tp":
			in.num(key, w.TP)
		case "pp":
			in.num(key, w.PP)
		case "ep":
			in.num(key, w.EP)
		case "dp-attn":
			in.boolean(key, w.DPAttn)
		case "dcp-size":
			in.num(key, w.DCPSize)
		case "pcp-size":
			in.num(key, w.PCPSize)
		case "hardware":
			in.str(key, w.Hardware)
		case "additional-settings":
			in.key(key)
			in.buf = append(in.buf, '[')
			for i, s := range w.AdditionalSettings {
				if i > 0 {
					in.buf = append(in.buf, ", "...)
				}
				in.buf = appendPyString(in.buf, s)
			}
			in.buf = append(in.buf, ']')
		}
	}
	o.buf = append(in.buf, '}')
}

// appendPyString quotes s as Python's json.dumps does with ensure_ascii:
// printable ASCII as is, the usual short escapes, everything else \uXXXX
// (UTF-16 surrogate pairs beyond the BMP).
func appendPyString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	u := func(buf []byte, r rune) []byte {
		return append(buf, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
	}
	buf = append(buf, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			buf = append(buf, '\\', byte(r))
		case r == '\n':
			buf = append(buf, `\n`...)
		case r == '\r':
			buf = append(buf, `\r`...)
		case r == '\t':
			buf = append(buf, `\t`...)
		case r == '\b':
			buf = append(buf, `\b`...)
		case r == '\f':
			buf = append(buf, `\f`...)
		case r >= ' ' && r <= '~':
			buf = append(buf, byte(r))
		case r > 0xFFFF:
			r -= 0x10000
			buf = u(u(buf, 0xD800+(r>>10)), 0xDC00+(r&0x3FF))
		case r == utf8.RuneError:
			buf = u(buf, 0xFFFD)
		default:
			buf = u(buf, r)
		}
	}
	return append(buf, '"')
}
