package launch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kubeApp is one start's objects on the cluster, found by their lease
// label: applied, watched through their pods, and deleted once, however
// often Stop is called.
type kubeApp struct {
	k        *Kubernetes
	selector string // infersweep.lease=<label value>
	lease    string
	kinds    string // what delete removes: exactly the kinds applied
	pods     int    // how many pods run once all have started
	hostRole string // the pod whose node is the engine's Placement.Host
	port     int
	model    string
	markers  []string

	mu        sync.Mutex
	pace      pacer
	nextCheck time.Time
	last      podState

	stopOnce sync.Once
	tail     string
	stopErr  error
}

func (k *Kubernetes) newApp(spec Spec, kinds string, pods int, markers []string) *kubeApp {
	poll := k.Poll
	if poll == 0 {
		poll = 2 * time.Second
	}
	lease := labelValue(spec.Lease)
	role := "engine"
	if spec.Point.Multinode {
		role = "frontend"
	}
	return &kubeApp{k: k, selector: LabelLease + "=" + lease, lease: lease, kinds: kinds, pods: pods, hostRole: role,
		port: spec.Port, model: spec.Point.Model, markers: markers, pace: pacer{wait: min(100*time.Millisecond, poll), max: poll}}
}

// start applies objects, waits for every pod to be ready, then for the
// engine behind service to answer at readyURL of its cluster address.
func (a *kubeApp) start(ctx context.Context, objects []kObject, service string, readyURL func(string) string) (*Engine, error) {
	manifest, err := marshalManifest(objects)
	if err != nil {
		return nil, &StartError{Kind: ConfigFailure, Msg: err.Error()}
	}
	in, ok := a.k.Exec.(StdinRunner)
	if !ok {
		return nil, fmt.Errorf("kubernetes backend: runner %T cannot pass a manifest on stdin (it needs RunInput)", a.k.Exec)
	}
	started := time.Now()
	if _, err := in.RunInput(ctx, manifest, a.k.kubectl(), "apply", "-n", a.k.namespace(), "-f", "-"); err != nil {
		// Some objects may exist already: apply is not atomic.
		tail, _ := a.stop(ctx)
		return nil, &StartError{Kind: NodeFailure, Msg: err.Error(), LogTail: tail}
	}
	state, err := a.waitReady(ctx)
	if err != nil {
		return nil, a.startError(ctx, state, err)
	}
	out, err := a.k.Exec.Run(ctx, a.k.kubectl(), "get", "service", service, "-n", a.k.namespace(), "-o", "jsonpath={.spec.clusterIP}")
	if err != nil {
		return nil, a.startError(ctx, state, err)
	}
	engine := &Engine{
		BaseURL: fmt.Sprintf("http://%s:%d", strings.TrimSpace(out), a.port), Model: a.model,
		Placement: Placement{Host: state.hosts[a.hostRole], Job: a.lease},
		stop:      a.stop, running: a.running,
	}
	if err := waitHealthy(ctx, readyURL(engine.BaseURL), a.running); err != nil {
		a.mu.Lock()
		state = a.last
		a.mu.Unlock()
		return nil, a.startError(ctx, state, err)
	}
	engine.StartupSeconds = time.Since(started).Seconds()
	return engine, nil
}

// waitReady looks at the pods until all are ready or one has failed
// (errEngineExited). Polling `kubectl get pods` rather than blocking in
// `kubectl wait`: wait fails at once while a controller has not created
// the pods yet and sits out its whole timeout on a crash-looping one.
func (a *kubeApp) waitReady(ctx context.Context) (podState, error) {
	var last podState
	var lastErr error
	for {
		st, err := a.look(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				lastErr = err // a busy API server: ask again
			}
		case st.exited != "":
			return st, errEngineExited
		case st.ready >= a.pods:
			return st, nil
		default:
			last = st
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return last, fmt.Errorf("not ready: %w (last kubectl error: %v)", ctx.Err(), lastErr)
			}
			return last, fmt.Errorf("not ready: %w", ctx.Err())
		case <-time.After(a.pace.next()):
		}
	}
}

// running tells waitHealthy and the sweep whether every pod still runs
// unrestarted; it asks the API server at the pacer's rate.
func (a *kubeApp) running(ctx context.Context) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if time.Now().Before(a.nextCheck) {
		return true
	}
	st, err := a.look(ctx)
	a.nextCheck = time.Now().Add(a.pace.next())
	if err != nil {
		// An API server that does not answer says nothing of the pods.
		return true
	}
	a.last = st
	return st.exited == "" && st.total >= a.pods
}

// look reads the app's pods.
func (a *kubeApp) look(ctx context.Context) (podState, error) {
	out, err := a.k.Exec.Run(ctx, a.k.kubectl(), "get", "pods", "-n", a.k.namespace(), "-l", a.selector, "-o", "json")
	if err != nil {
		return podState{}, err
	}
	var list podList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return podState{}, fmt.Errorf("read kubectl's pods: %w", err)
	}
	return list.state(), nil
}

// stop keeps the pods' log tails and deletes the app, also when ctx has
// ended: an activity cancelled mid-start must not leave pods behind
// holding GPUs. Delete waits for the pods to go, so the next engine's
// startup time is its own and not the end of this one's grace period.
func (a *kubeApp) stop(ctx context.Context) (string, error) {
	a.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
		defer cancel()
		// Logs of pods that never started fail; the others' still come.
		a.tail, _ = a.k.Exec.Run(ctx, a.k.kubectl(), "logs", "-n", a.k.namespace(), "-l", a.selector,
			"--tail="+strconv.Itoa(logTailLines), "--prefix", "--all-containers", "--max-log-requests="+strconv.Itoa(a.pods))
		if _, err := a.k.Exec.Run(ctx, a.k.kubectl(), "delete", a.kinds, "-n", a.k.namespace(), "-l", a.selector, "--ignore-not-found"); err != nil {
			a.stopErr = fmt.Errorf("delete %s: %w", a.selector, err)
		}
	})
	return a.tail, a.stopErr
}

// startError deletes an app that did not become ready and says whom to
// blame: what the pods say first (OOMKilled, an image that does not
// exist), then the engine's log; a wait cut short blames the node,
// naming why the pods were still pending.
func (a *kubeApp) startError(ctx context.Context, st podState, err error) *StartError {
	tail, _ := a.stop(ctx)
	if !errors.Is(err, errEngineExited) {
		msg := err.Error()
		if st.pending != "" {
			msg += " (" + st.pending + ")"
		}
		return &StartError{Kind: NodeFailure, Msg: msg, LogTail: tail}
	}
	kind := st.kind
	if kind == "" {
		kind = Classify(tail, a.markers...)
	}
	return &StartError{Kind: kind, Msg: fmt.Sprintf("%v: %s", err, st.exited), LogTail: tail}
}
