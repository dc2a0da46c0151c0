package launch

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultSimImage is the image the docker backend runs simulated engines
// in: the one `infersweep image build` tags by default.
const DefaultSimImage = "infersweep/sim:dev"

// ErrDynamicBinary means a binary needs a dynamic loader, which an image
// FROM scratch does not have.
var ErrDynamicBinary = errors.New("the binary is dynamically linked: an image FROM scratch cannot run it; build it with CGO_ENABLED=0")

// ImageBuild is an image to build around an infersweep binary.
type ImageBuild struct {
	// Binary is a statically linked Linux infersweep.
	Binary string
	Tag    string
	// Version and Commit label the image (workers.ReadVersion).
	Version string
	Commit  string
	// Created labels the image; zero means now.
	Created time.Time
}

// imageBinary is where the binary lies in the image: on the PATH Docker
// sets by default, so engines are started as `infersweep engine sim ...`
// the way a vLLM image is given `vllm serve ...`.
const imageBinary = "usr/local/bin/infersweep"

// BuildImage builds an image holding nothing but the binary, so the docker
// backend runs simulated engines the way it runs real ones, without a
// registry. It returns the image id.
func BuildImage(ctx context.Context, docker Runner, b ImageBuild) (string, error) {
	if b.Tag == "" {
		return "", errors.New("build image: the image needs a tag")
	}
	if err := checkStatic(b.Binary); err != nil {
		return "", fmt.Errorf("build image from %s: %w", b.Binary, err)
	}
	dir, err := os.MkdirTemp("", "infersweep-image-")
	if err != nil {
		return "", fmt.Errorf("build image: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := copyExecutable(b.Binary, filepath.Join(dir, imageBinary)); err != nil {
		return "", fmt.Errorf("build image: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile(b)), 0o644); err != nil {
		return "", fmt.Errorf("build image: %w", err)
	}
	out, err := docker.Run(ctx, "docker", "build", "-q", "-t", b.Tag, dir)
	if err != nil {
		return "", fmt.Errorf("build image %s: %w", b.Tag, err)
	}
	// The legacy builder warns about its deprecation on stderr, which the
	// Runner mixes in: the id is the line that looks like one.
	for _, line := range strings.Split(out, "\n") {
		if id := strings.TrimSpace(line); strings.HasPrefix(id, "sha256:") {
			return id, nil
		}
	}
	return "", fmt.Errorf("build image %s: docker build printed no image id: %s", b.Tag, strings.TrimSpace(out))
}

// checkStatic refuses what a scratch image cannot execute: anything but an
// ELF file, or one that asks for an interpreter (the dynamic loader).
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		var format *elf.FormatError
		if errors.As(err, &format) {
			return errors.New("not an ELF executable: an image FROM scratch runs only static Linux binaries")
		}
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return ErrDynamicBinary
		}
	}
	return nil
}

func copyExecutable(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	// 0755: the image runs it as an unprivileged user, not its owner.
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

// dockerfile has no ENTRYPOINT: the backend names the command, as for any
// engine image. The user is distroless's nonroot, since nothing in the
// image needs root.
func dockerfile(b ImageBuild) string {
	created := b.Created
	if created.IsZero() {
		created = time.Now()
	}
	labels := [][2]string{
		{"org.opencontainers.image.title", "infersweep"},
		{"org.opencontainers.image.version", b.Version},
		{"org.opencontainers.image.revision", b.Commit},
		{"org.opencontainers.image.created", created.UTC().Format(time.RFC3339)},
		{"org.opencontainers.image.source", "https://github.com/infersweep/infersweep"},
	}
	var s strings.Builder
	fmt.Fprintf(&s, "FROM scratch\nCOPY %s /%s\nUSER 65532:65532\n", imageBinary, imageBinary)
	for _, l := range labels {
		fmt.Fprintf(&s, "LABEL %s=%s\n", l[0], dockerQuote(l[1]))
	}
	s.WriteString("CMD [\"infersweep\", \"--help\"]\n")
	return s.String()
}

// dockerQuote quotes a LABEL value: versions like "(devel)" have spaces
// and parentheses, and a line break would end the instruction.
func dockerQuote(v string) string {
	v = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ").Replace(v)
	return `"` + v + `"`
}
