package launch

import (
	"fmt"
	"strings"
)

// podList is what `kubectl get pods -o json` says, as far as the backend
// reads it.
type podList struct {
	Items []struct {
		Metadata struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			NodeName string `json:"nodeName"`
		} `json:"spec"`
		Status struct {
			Phase      string `json:"phase"`
			Conditions []struct {
				Type    string `json:"type"`
				Status  string `json:"status"`
				Reason  string `json:"reason"`
				Message string `json:"message"`
			} `json:"conditions"`
			ContainerStatuses []containerStatus `json:"containerStatuses"`
		} `json:"status"`
	} `json:"items"`
}

type containerStatus struct {
	Name         string         `json:"name"`
	RestartCount int            `json:"restartCount"`
	State        containerState `json:"state"`
	LastState    containerState `json:"lastState"`
}

type containerState struct {
	Waiting *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"waiting"`
	Terminated *struct {
		Reason   string `json:"reason"`
		ExitCode int    `json:"exitCode"`
	} `json:"terminated"`
}

// podState is what the pods of one start say together.
type podState struct {
	total, ready int
	hosts        map[string]string // infersweep.role → node of its first pod
	// exited says why the start has failed for good; kind blames the
	// config or node where the pods tell, "" where the log must.
	exited  string
	kind    FailureKind
	pending string // why a pod still waits (unschedulable), for timeouts
}

// missingImage are what registries answer for an image that does not
// exist, as the kubelet reports them: no other node can pull it either.
var missingImage = []string{"not found", "manifest unknown", "does not exist", "repository name not known"}

// configWaits are container waits that no other node would get past.
var configWaits = map[string]bool{"InvalidImageName": true, "CreateContainerConfigError": true, "CreateContainerError": true}

func (l podList) state() podState {
	st := podState{hosts: map[string]string{}}
	for _, p := range l.Items {
		st.total++
		role := p.Metadata.Labels[labelRole]
		if _, ok := st.hosts[role]; !ok && p.Spec.NodeName != "" {
			st.hosts[role] = p.Spec.NodeName
		}
		for _, c := range p.Status.Conditions {
			switch {
			case c.Type == "Ready" && c.Status == "True":
				st.ready++
			case c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable":
				st.pending = fmt.Sprintf("pod %s is unschedulable: %s", p.Metadata.Name, c.Message)
			}
		}
		if p.Status.Phase == "Failed" || p.Status.Phase == "Succeeded" {
			st.fail(blameLog, fmt.Sprintf("pod %s %s", p.Metadata.Name, strings.ToLower(p.Status.Phase)))
		}
		for _, c := range p.Status.ContainerStatuses {
			st.container(p.Metadata.Name, c)
		}
	}
	return st
}

// blameLog leaves the blame to the engine's log (Classify).
const blameLog FailureKind = ""

// container reads one container's state into st.
func (st *podState) container(pod string, c containerStatus) {
	for _, s := range []containerState{c.State, c.LastState} {
		if s.Terminated != nil && s.Terminated.Reason == "OOMKilled" {
			st.fail(ConfigFailure, fmt.Sprintf("pod %s was killed for memory (OOMKilled, exit code %d)", pod, s.Terminated.ExitCode))
			return
		}
	}
	if w := c.State.Waiting; w != nil {
		switch {
		case w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff":
			kind := NodeFailure
			for _, m := range missingImage {
				if strings.Contains(strings.ToLower(w.Message), m) {
					kind = ConfigFailure
				}
			}
			st.fail(kind, fmt.Sprintf("pod %s cannot pull its image (%s): %s", pod, w.Reason, w.Message))
			return
		case configWaits[w.Reason]:
			st.fail(ConfigFailure, fmt.Sprintf("pod %s cannot start (%s): %s", pod, w.Reason, w.Message))
			return
		}
	}
	switch {
	case c.State.Terminated != nil:
		st.fail(blameLog, fmt.Sprintf("pod %s exited (exit code %d%s)", pod, c.State.Terminated.ExitCode, exitSignal(fmt.Sprint(c.State.Terminated.ExitCode))))
	case c.RestartCount > 0:
		st.fail(blameLog, fmt.Sprintf("pod %s restarted %d times", pod, c.RestartCount))
	}
}

// fail keeps the first failure seen, but a verdict of the pods over one
// left to the log.
func (st *podState) fail(kind FailureKind, why string) {
	if st.exited == "" || (st.kind == blameLog && kind != blameLog) {
		st.exited, st.kind = why, kind
	}
}
