package launch

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeELF writes the headers of a Linux x86-64 executable with the given
// program header types: enough for debug/elf, without a compiler.
func writeELF(t *testing.T, progs ...elf.ProgType) string {
	t.Helper()
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: uint16(len(progs)),
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	var buf bytes.Buffer
	require.NoError(t, binary.Write(&buf, binary.LittleEndian, hdr))
	for _, p := range progs {
		require.NoError(t, binary.Write(&buf, binary.LittleEndian, elf.Prog64{Type: uint32(p)}))
	}
	path := filepath.Join(t.TempDir(), "infersweep")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o755))
	return path
}

func TestRuntimeFilesAreTheLoaderAndLibrariesABinaryNeeds(t *testing.T) {
	script := filepath.Join(t.TempDir(), "run.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755))
	sh, err := filepath.EvalSymlinks("/bin/sh")
	require.NoError(t, err)
	tests := []struct {
		name    string
		path    string
		want    []string // base names
		wantErr string
	}{
		{"static", writeELF(t, elf.PT_LOAD, elf.PT_NOTE), nil, ""},
		// A C program of this machine: its loader, then libc.
		{"dynamic", sh, []string{"ld-linux-x86-64.so.2", "libc.so.6"}, ""},
		{"script", script, nil, "not an ELF executable"},
		{"missing", filepath.Join(t.TempDir(), "nothing"), nil, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := runtimeFiles(tt.path)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, f := range files {
				require.True(t, filepath.IsAbs(f), f)
				names = append(names, filepath.Base(f))
			}
			require.Equal(t, tt.want, names)
		})
	}
}

func TestBuildImageWritesTheContextAndReturnsTheID(t *testing.T) {
	binaryPath := writeELF(t, elf.PT_LOAD)
	var dockerfileText string
	var mode os.FileMode
	cli := &fakeCLI{answer: func(cmd string) (string, error) {
		// The context is gone once BuildImage returns: read it now.
		dir := cmd[strings.LastIndex(cmd, " ")+1:]
		data, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
		require.NoError(t, err)
		dockerfileText = string(data)
		info, err := os.Stat(filepath.Join(dir, "rootfs/usr/local/bin/infersweep"))
		require.NoError(t, err)
		mode = info.Mode()
		return "DEPRECATED: The legacy builder is deprecated\nsha256:1c2b88\n", nil
	}}
	id, err := BuildImage(context.Background(), cli, ImageBuild{Binary: binaryPath, Tag: "infersweep/sim:dev", Version: "(devel)", Commit: "977bc61",
		Created: time.Date(2026, 12, 7, 13, 0, 0, 0, time.FixedZone("CET", 3600))})
	require.NoError(t, err)
	require.Equal(t, "sha256:1c2b88", id)
	require.Len(t, cli.commands, 1)
	require.True(t, strings.HasPrefix(cli.commands[0], "docker build -q -t infersweep/sim:dev "), cli.commands[0])
	require.Equal(t, os.FileMode(0o755), mode)
	require.Equal(t, `FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 state /var/lib/infersweep
USER 65532:65532
LABEL org.opencontainers.image.title="infersweep"
LABEL org.opencontainers.image.version="(devel)"
LABEL org.opencontainers.image.revision="977bc61"
LABEL org.opencontainers.image.created="2026-12-07T12:00:00Z"
LABEL org.opencontainers.image.source="https://github.com/infersweep/infersweep"
CMD ["infersweep", "--help"]
`, dockerfileText)
	_, err = os.Stat(cli.commands[0][strings.LastIndex(cli.commands[0], " ")+1:])
	require.True(t, os.IsNotExist(err), "the build context is removed")
}

func TestBuildImageRefusesBeforeDockerRuns(t *testing.T) {
	tests := []struct {
		name    string
		build   ImageBuild
		wantErr string
	}{
		{"no tag", ImageBuild{Binary: "/bin/sh"}, "the image needs a tag"},
		{"no binary", ImageBuild{Binary: filepath.Join(t.TempDir(), "nothing"), Tag: "t"}, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := &fakeCLI{answer: func(string) (string, error) { return "", nil }}
			_, err := BuildImage(context.Background(), cli, tt.build)
			require.ErrorContains(t, err, tt.wantErr)
			require.Empty(t, cli.commands)
		})
	}
}

func TestDockerQuoteKeepsALabelOneValue(t *testing.T) {
	require.Equal(t, `"(unknown: built \"x\" \\ y)"`, dockerQuote(`(unknown: built "x" \ y)`))
	require.Equal(t, `"a b"`, dockerQuote("a\nb"))
}
