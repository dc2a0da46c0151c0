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

// ImageBuild is an image to build around an infersweep binary.
type ImageBuild struct {
	// Binary is a Linux infersweep: static, or linked against the C
	// library, whose loader and libraries come into the image with it.
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

// BuildImage builds an image holding nothing but the binary (and, for a
// binary linked against the C library, this machine's loader and the
// libraries it loads), so the docker backend runs simulated engines the
// way it runs real ones, without a registry. It returns the image id.
func BuildImage(ctx context.Context, docker Runner, b ImageBuild) (string, error) {
	if b.Tag == "" {
		return "", errors.New("build image: the image needs a tag")
	}
	libs, err := runtimeFiles(b.Binary)
	if err != nil {
		return "", fmt.Errorf("build image from %s: %w", b.Binary, err)
	}
	dir, err := os.MkdirTemp("", "infersweep-image-")
	if err != nil {
		return "", fmt.Errorf("build image: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := copyExecutable(b.Binary, filepath.Join(dir, "rootfs", imageBinary)); err != nil {
		return "", fmt.Errorf("build image: %w", err)
	}
	for _, lib := range libs {
		if err := copyExecutable(lib, filepath.Join(dir, "rootfs", lib)); err != nil {
			return "", fmt.Errorf("build image: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		return "", fmt.Errorf("build image: %w", err)
	}
	if err := writeUsers(filepath.Join(dir, "rootfs", "etc")); err != nil {
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

// writeUsers names the image's user, as distroless does: the embedded
// Temporal server looks its user up (user.Current) and fails to start in
// an image without /etc/passwd.
func writeUsers(etc string) error {
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(etc, "passwd"), []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(etc, "group"), []byte("root:x:0:\nnonroot:x:65532:\n"), 0o644)
}

// libDirs are where the loader of a Debian-like system finds libraries.
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}

// runtimeFiles are the host files an image FROM scratch needs besides the
// binary to run it: none for a static binary; for one that names an
// interpreter (a plain go build or go install with cgo on), that loader
// and every shared library it loads, found as the loader finds them. A
// file that is no ELF executable is refused: scratch runs nothing else.
func runtimeFiles(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		var format *elf.FormatError
		if errors.As(err, &format) {
			return nil, errors.New("not an ELF executable: an image FROM scratch runs only Linux binaries")
		}
		return nil, err
	}
	defer f.Close()
	var interp string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			data, err := io.ReadAll(p.Open())
			if err != nil {
				return nil, fmt.Errorf("read its interpreter: %w", err)
			}
			interp = strings.TrimRight(string(data), "\x00")
		}
	}
	if interp == "" {
		return nil, nil
	}
	files := []string{interp}
	// libc names the loader too, by the name it has in the lib dirs.
	seen := map[string]bool{filepath.Base(interp): true}
	needed, err := f.ImportedLibraries()
	for len(needed) > 0 && err == nil {
		name := needed[0]
		needed = needed[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		lib := findLibrary(name)
		if lib == "" {
			return nil, fmt.Errorf("it needs %s, found in none of %s", name, strings.Join(libDirs, ", "))
		}
		files = append(files, lib)
		more, libErr := importedLibraries(lib)
		needed, err = append(needed, more...), libErr
	}
	if err != nil {
		return nil, fmt.Errorf("its shared libraries: %w", err)
	}
	return files, nil
}

func findLibrary(name string) string {
	for _, dir := range libDirs {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name)
		}
	}
	return ""
}

func importedLibraries(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ImportedLibraries()
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
	// state is an empty directory: a volume mounted at /var/lib/infersweep
	// (compose.local.yaml's stack) starts owned by the image's user.
	s.WriteString("FROM scratch\nCOPY rootfs/ /\nCOPY --chown=65532:65532 state /var/lib/infersweep\nUSER 65532:65532\n")
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
