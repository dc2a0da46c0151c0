package main

import (
	"fmt"
	"io"

	"github.com/infersweep/infersweep/workers"
	"github.com/spf13/cobra"
)

func newVersionCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the build's version, commit and key library versions",
		Example: "  infersweep version\n  infersweep version -o json | jq -r .commit",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.jsonOutput()
			if err != nil {
				return err
			}
			return printVersion(cmd.OutOrStdout(), workers.ReadVersion(), asJSON)
		},
	}
}

func printVersion(out io.Writer, v workers.Version, asJSON bool) error {
	if asJSON {
		return writeJSON(out, v)
	}
	modified := ""
	if v.Modified {
		modified = " (with uncommitted changes)"
	}
	fmt.Fprintf(out, "infersweep %s\ncommit     %s%s\ngo         %s\n", v.Version, v.Commit, modified, v.GoVersion)
	for _, dep := range workers.ReportedDependencies {
		if ver, ok := v.Dependencies[dep]; ok {
			fmt.Fprintf(out, "           %s %s\n", dep, ver)
		}
	}
	return nil
}
