package main

import (
	"io"

	"claimsbatch/plan"

	"github.com/spf13/cobra"
)

func newPlanCmd(stdout io.Writer) *cobra.Command {
	var check string
	cmd := &cobra.Command{
		Use:   "plan [--check FILE]",
		Short: "Print the built-in Close Care plan (YAML), or check a plan file",
		Long: `plan prints the built-in Close Care plan. Copy it, change a limit or an option
list, and pass the copy to 'claimsbatch run --plan FILE' to reprocess under
altered terms. With --check FILE it validates a plan file and reports every
problem with its key.`,
		Example: `  claimsbatch plan > my-plan.yaml
  claimsbatch plan --check my-plan.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if check != "" {
				p, err := plan.Load(check)
				if err != nil {
					return err
				}
				_, err = io.WriteString(stdout, check+": plan "+p.Name+" is valid, sha256 "+p.SHA256+"\n")
				return err
			}
			_, err := stdout.Write(plan.DefaultYAML())
			return err
		},
	}
	cmd.Flags().StringVar(&check, "check", "", "validate this plan file instead of printing the built-in one")
	return cmd
}
