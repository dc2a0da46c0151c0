package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/infersweep/infersweep/simengine"
)

func newEngineCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Inference engines infersweep can run; today the simulated one",
		Example: `  infersweep engine sim --model llama-3.3-70b --hardware h100 --precision fp8 --tp 8 --port 8000
  infersweep engine predict --model llama-3.3-70b --hardware mi355x --tp 8 -o json
  infersweep engine router --prefill http://10.0.0.1:8000,http://10.0.0.2:8000 --decode http://10.0.0.3:8000 --port 9000`,
	}
	cmd.AddCommand(newEngineSimCommand(g), newEnginePredictCommand(g), newEngineRouterCommand(g), newEngineCalibrateCommand(g))
	return cmd
}

// engineFlags are the vLLM-style flags shared by sim and predict.
type engineFlags struct {
	model, hardware, precision string
	cfg                        simengine.EngineConfig
	mfu, mbu                   float64
	stepOverhead               time.Duration
}

// register adds the flags; predict takes a list of hardware instead of one.
func (f *engineFlags) register(cmd *cobra.Command, oneHardware bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "llama-3.3-70b", "model: "+strings.Join(simengine.ModelNames(), ", "))
	if oneHardware {
		fl.StringVar(&f.hardware, "hardware", "h100", "accelerator: "+strings.Join(simengine.HardwareNames(), ", "))
	}
	fl.StringVar(&f.precision, "precision", "fp8", "weights: bf16, fp8 or fp4")
	fl.IntVar(&f.cfg.TP, "tp", 8, "tensor-parallel GPUs")
	fl.IntVar(&f.cfg.EP, "ep", 1, "expert-parallel GPUs among the TP ones (MoE models; 1: experts sliced by TP)")
	fl.BoolVar(&f.cfg.DPAttention, "dp-attn", false, "data-parallel attention: each TP rank runs attention for its own share of the batch")
	fl.IntVar(&f.cfg.MaxNumSeqs, "max-num-seqs", 512, "requests in a batch at most")
	fl.IntVar(&f.cfg.MaxNumBatchedTokens, "max-num-batched-tokens", 8192, "tokens in a step at most (chunked prefill)")
	fl.IntVar(&f.cfg.MaxModelLen, "max-model-len", 9472, "prompt + output tokens at most")
	fl.Float64Var(&f.cfg.GPUMemoryUtilization, "gpu-memory-utilization", 0.9, "fraction of HBM for weights and KV cache")
	fl.StringVar(&f.cfg.Framework, "framework", "vllm", "serving framework whose fitted step overhead and efficiency apply: "+strings.Join(simengine.Frameworks, ", ")+" (or upstream's names, e.g. dynamo-trt)")
	// Zero means the calibration fitted for the hardware, framework and
	// precision (simengine.CalibrationFor); a flag given overrides it.
	fl.Float64Var(&f.mfu, "mfu", 0, "achieved fraction of peak FLOP/s (default: fitted for the hardware and framework)")
	fl.Float64Var(&f.mbu, "mbu", 0, "achieved fraction of peak HBM bandwidth (default: fitted)")
	fl.DurationVar(&f.stepOverhead, "step-overhead", 0, "fixed cost of each engine step (default: fitted for the framework)")
}

func (f *engineFlags) resolve() (simengine.EngineConfig, error) {
	cfg := f.cfg
	var err error
	if cfg.Model, err = simengine.LookupModel(f.model); err != nil {
		return cfg, usageError{fmt.Errorf("--model: %w", err)}
	}
	if cfg.Hardware, err = simengine.LookupHardware(f.hardware); err != nil {
		return cfg, usageError{fmt.Errorf("--hardware: %w", err)}
	}
	switch p := simengine.Precision(strings.ToLower(f.precision)); p {
	case simengine.BF16, simengine.FP8, simengine.FP4:
		cfg.Precision = p
	default:
		return cfg, usageError{fmt.Errorf("--precision %q: want bf16, fp8 or fp4", f.precision)}
	}
	cal := simengine.CalibrationFor(cfg.Hardware.Name, cfg.Framework, cfg.Precision)
	if f.mfu > 0 {
		cal.MFU = f.mfu
	}
	if f.mbu > 0 {
		cal.MBU = f.mbu
	}
	if f.stepOverhead > 0 {
		cal.StepOverhead = f.stepOverhead
	}
	cfg.Calibration = cal
	return cfg, nil
}

// simLong is sim's help text.
const simLong = `sim starts a server with vLLM's API (/v1/completions, /v1/chat/completions,
/v1/models, /health, /version, /metrics) whose tokens come from a model of vLLM's
scheduler and a roofline of the chosen hardware: throughput and latency respond
to concurrency, sequence lengths, TP and hardware the way real engines do. It is
a model, not a measurement (see 'go doc ./simengine').

/health answers 503 until --startup-delay has passed. /debug/requests returns
the server-side time of every chunk (with --record-chunks), to check a client's
measurements. With --time-scale s the engine runs s times faster than real time
and its metrics are in simulated seconds; tell the load generator the same scale.

Fault flags (seeded by --seed) make it fail like real engines: at startup
(exit 1 with an out-of-memory line), by crashing mid-run, stalling streams or
answering HTTP 500. --fault-plan draws at most one fault per engine at startup
instead (chaos runs: "10% of engines fail to start"). A config that cannot fit (weights larger than HBM at this
TP) fails at startup the same way.

Disaggregated serving: --role prefill answers a request carrying
kv_transfer_params {"do_remote_decode": true} (what 'engine router' sends) with
the kv_transfer_params a decode engine needs; --role decode skips the prefill of
a request carrying {"do_remote_prefill": true, ...} and waits instead for its
KV to cross --kv-link (default: the link the hardware's clusters use), as vLLM
with NixlConnector does.

Prefix cache: as vLLM V1 by default, full 16-token blocks of a prompt's token
ids (text prompts: their bytes) are cached by a chained hash and reused by
later prompts with the same prefix, evicted least recently used first
(--no-enable-prefix-caching turns it off). --kv-offloading dram --cpu-dram-gb N
(or vLLM's --kv-offloading-backend native --kv-offloading-size GiB) keeps
blocks evicted from HBM in N GB of host DRAM and loads hits back over the
GPU's host link (PCIe Gen5 x16, NVLink-C2C on Grace). /metrics counts
vllm:prefix_cache_queries/hits, vllm:external_prefix_cache_* and
infersweep_kv_offload_*.`

func newEngineSimCommand(g *globalFlags) *cobra.Command {
	f := &engineFlags{}
	var (
		host, servedName, faultPlan string
		role, kvLink                string
		port                        int
		cfg                         simengine.ServerConfig
		cache                       cacheFlags
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve a simulated vLLM-shaped engine over HTTP",
		Long:  simLong,
		Example: `  infersweep engine sim --model llama-3.3-70b --hardware h100 --precision fp8 --tp 8 --port 8000

  # 20× faster than real time, ready after 2 s, 5% of requests fail
  infersweep engine sim --time-scale 20 --startup-delay 2s --error-rate 0.05

  # agentic sessions: prefix cache (on by default) plus 400 GB of host DRAM behind HBM
  infersweep engine sim --kv-offloading dram --cpu-dram-gb 400

  # one prefill and one decode engine of DeepSeek-R1 on GB200 behind a router
  infersweep engine sim --role prefill --model deepseek-r1 --hardware gb200 --precision fp4 --tp 4 --ep 4 --dp-attn --port 8001 &
  infersweep engine sim --role decode --model deepseek-r1 --hardware gb200 --precision fp4 --tp 8 --ep 8 --dp-attn --kv-link nvlink5 --port 8002 &
  infersweep engine router --prefill http://127.0.0.1:8001 --decode http://127.0.0.1:8002 --port 8000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			engineCfg, err := f.resolve()
			if err != nil {
				return err
			}
			if cfg.Role, engineCfg.KVLink, err = resolveDisagg(role, kvLink, f.hardware); err != nil {
				return err
			}
			if err := cache.apply(&engineCfg); err != nil {
				return err
			}
			logger, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			plan, err := simengine.ParseFaultPlan(faultPlan)
			if err != nil {
				return usageError{fmt.Errorf("--fault-plan: %w", err)}
			}
			plan.Record = cfg.Faults.Plan.Record
			cfg.Faults.Plan = plan
			cfg.Engine, cfg.Logger, cfg.ServedModelName = engineCfg, logger, servedName
			if cfg.ServedModelName == "" {
				cfg.ServedModelName = engineCfg.Model.Name
			}
			return runSim(cmd.Context(), cmd.OutOrStdout(), cfg, net.JoinHostPort(host, strconv.Itoa(port)))
		},
	}
	f.register(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&host, "host", "127.0.0.1", "address to listen on")
	fl.IntVar(&port, "port", 8000, "port to listen on")
	fl.StringVar(&servedName, "served-model-name", "", "model id clients send (default: --model)")
	fl.StringVar(&role, "role", "aggregated", "part in a disaggregated deployment: prefill, decode or aggregated")
	fl.StringVar(&kvLink, "kv-link", "", "link the KV crosses from prefill to decode: "+strings.Join(simengine.KVLinkNames(), ", ")+" (default: by --hardware)")
	fl.Float64Var(&cfg.TimeScale, "time-scale", 1, "run this many times faster than real time")
	fl.DurationVar(&cfg.StartupDelay, "startup-delay", 0, "time before /health turns 200, as model loading takes")
	fl.BoolVar(&cfg.RecordChunks, "record-chunks", false, "keep every chunk's send time for /debug/requests (8 bytes/token)")
	registerFaultFlags(fl, &cfg.Faults, &faultPlan)
	cache.register(fl)
	fl.SetNormalizeFunc(vllmFlagNames)
	fl.Float64Var(&cfg.Accuracy, "accuracy", 0, "answer the generated arithmetic questions ('infersweep eval generate') correctly with this probability, seeded by --seed (0: filler tokens, as for any other prompt)")
	return cmd
}

// registerFaultFlags adds the flags that make the sim fail like real
// engines.
func registerFaultFlags(fl *pflag.FlagSet, faults *simengine.Faults, faultPlan *string) {
	fl.Float64Var(&faults.FailStartupProb, "fail-startup-prob", 0, "probability the engine fails to start")
	fl.IntVar(&faults.CrashAfterRequests, "crash-after-requests", 0, "crash after this many completed requests (0: never)")
	fl.Float64Var(&faults.StallProb, "stall-prob", 0, "probability a stream stops mid-answer, connection held open")
	fl.Float64Var(&faults.ErrorRate, "error-rate", 0, "probability a request gets HTTP 500")
	fl.DurationVar(&faults.SlowStart, "slow-start", 0, "steps run 5× slower for this long after startup")
	fl.Uint64Var(&faults.Seed, "seed", 0, "seed for faults and early stops")
	fl.StringVar(faultPlan, "fault-plan", "", "draw at most one fault per engine: startup=P,crash=P,stall=P,error=P[,ensure] (chaos runs)")
	fl.StringVar(&faults.Plan.Record, "fault-record", "", "append the fault drawn from --fault-plan to this file")
}

// resolveDisagg checks --role and --kv-link; without --kv-link the link is
// the one clusters of the hardware use between prefill and decode nodes.
func resolveDisagg(role, kvLink, hardware string) (simengine.Role, simengine.KVLink, error) {
	r, err := simengine.ParseRole(role)
	if err != nil {
		return r, simengine.KVLink{}, usageError{fmt.Errorf("--role: %w", err)}
	}
	var link simengine.KVLink
	if kvLink == "" {
		link, err = simengine.KVLinkFor(hardware, "")
	} else {
		link, err = simengine.LookupKVLink(kvLink)
	}
	if err != nil {
		return r, link, usageError{fmt.Errorf("--kv-link: %w", err)}
	}
	return r, link, nil
}

func runSim(ctx context.Context, out io.Writer, cfg simengine.ServerConfig, addr string) error {
	srv, err := simengine.NewServer(cfg)
	var oom *simengine.OOMError
	if errors.As(err, &oom) {
		cfg.Logger.Error("engine startup failed", "error", err)
		return err
	}
	if err != nil {
		return usageError{err}
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return usageError{fmt.Errorf("listen on %s: %w (pass --port with a free port)", addr, err)}
	}
	// An aggregated engine's line reads as it always has: scripts match it.
	role := ""
	if cfg.Role != simengine.Aggregated {
		role = ", " + string(cfg.Role)
	}
	fmt.Fprintf(out, "simulated %s (%s, %s, TP %d%s) on http://%s, time scale %g\n",
		cfg.ServedModelName, cfg.Engine.Hardware.Name, cfg.Engine.Precision, cfg.Engine.TP, role, listener.Addr(), cfg.TimeScale)
	return srv.Serve(ctx, listener)
}

func newEnginePredictCommand(g *globalFlags) *cobra.Command {
	f := &engineFlags{}
	var (
		hardware    []string
		concurrency []int
		isl, osl    int
	)
	cmd := &cobra.Command{
		Use:   "predict",
		Short: "Print the simulated engine's throughput/interactivity curve without running it",
		Long: `predict runs the simulated engine's scheduler on a virtual clock at each
concurrency (closed loop, 2·conc requests of --isl/--osl tokens) and prints
throughput per GPU and interactivity (1000 / median TPOT). It takes well under
a second and needs no server: a dry run of a sweep's curve.`,
		Example: `  infersweep engine predict --model llama-3.3-70b --precision fp8 --tp 8 \
    --hardware h100,h200,b200,mi355x --isl 1024 --osl 1024 --conc 4,16,64,256 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			cfgs := make([]simengine.EngineConfig, len(hardware))
			for i, hw := range hardware {
				f.hardware = hw
				if cfgs[i], err = f.resolve(); err != nil {
					return err
				}
			}
			rows, err := simengine.PredictCurve(cfgs, isl, osl, concurrency)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, rows)
			}
			fmt.Fprintf(out, "%s %s TP%d, %d/%d tokens, simulated (a model, not a measurement)\n", f.model, f.precision, f.cfg.TP, isl, osl)
			tw := newTable(out)
			fmt.Fprintln(tw, "hardware\tconc\ttok/s/GPU\tout tok/s/GPU\ttok/s/user\tTTFT ms")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.1f\t%.1f\n", r.Hardware, r.Concurrency, r.TputPerGPU, r.OutputTputPerGPU, r.Interactivity, r.MedianTTFTms)
			}
			return tw.Flush()
		},
	}
	f.register(cmd, false)
	fl := cmd.Flags()
	fl.StringSliceVar(&hardware, "hardware", []string{"h100"}, "accelerators to compare: "+strings.Join(simengine.HardwareNames(), ", "))
	fl.IntSliceVar(&concurrency, "conc", []int{4, 8, 16, 32, 64, 128, 256}, "concurrencies")
	fl.IntVar(&isl, "isl", 1024, "input tokens per request")
	fl.IntVar(&osl, "osl", 1024, "output tokens per request")
	return cmd
}
