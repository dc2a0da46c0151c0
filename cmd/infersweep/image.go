package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/infersweep/infersweep/launch"
	"github.com/infersweep/infersweep/workers"
)

func newImageCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "image",
		Short:   "Container images of this binary, for the docker backend's simulated engines",
		Example: "  infersweep image build --tag " + launch.DefaultSimImage,
	}
	cmd.AddCommand(newImageBuildCommand(g))
	return cmd
}

func newImageBuildCommand(g *globalFlags) *cobra.Command {
	var tag, binary string
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build an image FROM scratch holding this binary: what the docker backend runs simulated engines in",
		Long: `build makes an image of nothing but a statically linked infersweep, at
/usr/local/bin/infersweep, run as user 65532, labelled with its version and
commit (org.opencontainers.image.*). It has no entrypoint: the docker backend
starts 'infersweep engine sim ...' in it, as it starts 'vllm serve ...' in a
vLLM image. No registry is needed; the local docker engine builds it.

A binary linked against the C library (go build and go install link one
where cgo is on) brings this machine's dynamic loader and the libraries it
loads into the image; one built with CGO_ENABLED=0 comes alone.`,
		Example: `  infersweep image build

  # another tag, another binary, the id for a script
  infersweep image build --tag infersweep/sim:v1 --binary bin/infersweep -o json | jq -r .id`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			built, err := buildImage(cmd.Context(), launch.ExecRunner{}, tag, binary)
			if err != nil {
				return err
			}
			return printImage(cmd.OutOrStdout(), built, asJSON)
		},
	}
	cmd.Flags().StringVar(&tag, "tag", launch.DefaultSimImage, "name:tag of the image (the docker backend runs "+launch.DefaultSimImage+")")
	cmd.Flags().StringVar(&binary, "binary", "", "the infersweep to put in the image (default: this executable)")
	return cmd
}

// builtImage is what `image build -o json` prints.
type builtImage struct {
	Tag    string `json:"tag"`
	ID     string `json:"id"`
	Binary string `json:"binary"`
}

func buildImage(ctx context.Context, docker launch.Runner, tag, binary string) (builtImage, error) {
	b := launch.ImageBuild{Binary: binary, Tag: tag}
	if binary == "" {
		self, err := os.Executable()
		if err != nil {
			return builtImage{}, fmt.Errorf("find this executable: %w; pass --binary", err)
		}
		v := workers.ReadVersion()
		b.Binary, b.Version, b.Commit = self, v.Version, v.Commit
	} else {
		if _, err := os.Stat(binary); err != nil {
			return builtImage{}, usageError{fmt.Errorf("--binary: %w", err)}
		}
		b.Version, b.Commit = versionOf(binary)
	}
	id, err := launch.BuildImage(ctx, docker, b)
	if err != nil {
		return builtImage{}, err
	}
	return builtImage{Tag: tag, ID: id, Binary: b.Binary}, nil
}

// versionOf reads another binary's version and commit from its build
// info; a version stamped at link time is not in it, and a file that is
// no Go binary is refused later, by BuildImage.
func versionOf(binary string) (version, commit string) {
	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		return "(unknown)", "(unknown)"
	}
	commit = "(unknown: built without VCS stamping)"
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value
		}
	}
	return info.Main.Version, commit
}

func printImage(out io.Writer, built builtImage, asJSON bool) error {
	if asJSON {
		return writeJSON(out, built)
	}
	_, err := fmt.Fprintf(out, "built %s (%s) from %s\n", built.Tag, built.ID, built.Binary)
	return err
}

// ensureSimImage builds the simulated engine's image from this binary
// when the Docker engine does not have it, so `demo --backend docker`
// needs no step before it.
func ensureSimImage(ctx context.Context, progress io.Writer, tag string) error {
	docker := launch.ExecRunner{}
	if _, err := docker.Run(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", tag); err == nil {
		return nil
	}
	fmt.Fprintf(progress, "building the simulated engine's image %s from this binary…\n", tag)
	built, err := buildImage(ctx, docker, tag, "")
	if err != nil {
		return fmt.Errorf("the docker backend needs %s: %w", tag, err)
	}
	fmt.Fprintf(progress, "built %s (%s)\n", built.Tag, built.ID)
	return nil
}
