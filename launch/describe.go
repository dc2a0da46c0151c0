package launch

import (
	"cmp"
	"context"
	"path/filepath"
)

// Describers say what each backend would run for a spec, for review
// (infersweep recipe render): nothing is started or written.

// Describe is the local backend's command line, its environment first.
func (l *Local) Describe(spec Spec) (string, error) {
	command, err := Render(spec, l.Self, "127.0.0.1")
	if err != nil {
		return "", err
	}
	command.PlaceFiles(filepath.Join("$TMPDIR", spec.Name+"-files"))
	return shellJoin(append(append([]string(nil), command.Env...), command.Args...)), nil
}

// Describe is the docker run line.
func (d *Docker) Describe(spec Spec) (string, error) {
	command, err := Render(spec, "infersweep", cmp.Or(d.Host, "127.0.0.1"))
	if err != nil {
		return "", err
	}
	image, sim := command.Image, spec.Point.Framework == "sim"
	if sim {
		image = cmp.Or(d.SimImage, DefaultSimImage)
	}
	mounts, _ := mountFiles(command.Files, filepath.Join("$TMPDIR", spec.Name+"-files"))
	return "docker " + shellJoin(d.runArgs(spec, sim, image, command, mounts)), nil
}

// Describe is the sbatch line; whether the cluster has pyxis is asked
// as Start asks it (SetPyxis answers for a cluster out of reach).
func (s *Slurm) Describe(ctx context.Context, spec Spec) (string, error) {
	wrap, _, err := s.wrap(ctx, &spec)
	if err != nil {
		return "", err
	}
	return "sbatch " + shellJoin(s.sbatchArgs(spec, filepath.Join(s.logDir(), spec.Name+".log"), wrap)), nil
}

// SetPyxis says whether the cluster's srun has pyxis, instead of asking
// it: for rendering a cluster's commands from elsewhere.
func (s *Slurm) SetPyxis(has bool) {
	s.pyxis.mu.Lock()
	defer s.pyxis.mu.Unlock()
	s.pyxis.known, s.pyxis.has = true, has
}
