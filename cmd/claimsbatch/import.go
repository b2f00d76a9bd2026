package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"claimsbatch/importer"
	"claimsbatch/plan"
	"claimsbatch/writers"

	"github.com/spf13/cobra"
)

type importFlags struct {
	profile  string
	in       string
	out      string
	force    bool
	format   string
	set      []string
	planPath string
	print    bool
	quiet    bool
}

func newImportCmd(stdout, stderr io.Writer) *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import --profile NAME|FILE --in DIR --out DIR [--format csv|parquet] [--set KEY=VALUE ...]",
		Short: "Map an extract written by others (Synthea, CMS DE-SynPUF, your own) into claims and members files",
		Long: `import reads the files of an extract in --in, maps them with a profile and
publishes in --out, atomically (as run does): claims, members (and fx when the
profile makes one), ready for 'claimsbatch run'; exceptions, one row per source
row that could not be mapped (source file, row, reason, raw row); and
manifest.json, which accounts for every source row (read = mapped + filtered
out + exceptions), names the profile with its SHA-256 and lists the --set
overrides.

A profile is a YAML file (docs/IMPORT.md describes it column by column), or
the name of a built-in one: ` + strings.Join(importer.BuiltinNames(), ", ") + `.
--print shows a profile; with --out it writes the profile and its code tables
into that directory, to copy and edit.

--set KEY=VALUE overrides one of the profile's defaults (a claims, members or
fx column that no block maps), e.g. --set residence_country=AU. Benefit codes
and member options are checked against the plan (--plan, default the built-in
Close Care plan).

Exit codes: 0 published (exceptions may exist), 1 failed (nothing published),
2 usage or configuration error (bad profile, missing --in file or column,
unknown profile name).`,
		Example: `  claimsbatch import --profile synthea --in synthea/output/csv --out in
  claimsbatch run --claims in/claims.csv --members in/members.csv --out out

  claimsbatch import --profile cms-desynpuf --in DE-SynPUF/ --out in --set residence_country=US
  claimsbatch import --profile synthea --print --out my-profile/   # copy to edit
  claimsbatch import --profile my-profile/synthea.yaml --in export/ --out in`,
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&f.profile, "profile", "", "profile: a built-in name ("+strings.Join(importer.BuiltinNames(), ", ")+") or a YAML file")
	fl.StringVar(&f.in, "in", "", "directory holding the extract's files")
	fl.StringVar(&f.out, "out", "", "output directory (created if missing); outputs appear there only when the import completes, replacing an earlier import there as a whole")
	fl.BoolVar(&f.force, "force", false, "replace --out even when it holds files that are not an import's")
	fl.StringVar(&f.format, "format", "csv", "output format: csv or parquet")
	fl.StringArrayVar(&f.set, "set", nil, "override a profile default, KEY=VALUE (repeatable), e.g. residence_country=AU")
	fl.StringVar(&f.planPath, "plan", "", "plan file the benefit codes and member options are checked against; default: the built-in Close Care plan")
	fl.BoolVar(&f.print, "print", false, "print the profile (YAML) instead of importing; with --out, write it and its code tables into that directory")
	fl.BoolVar(&f.quiet, "quiet", false, "no summary on success (errors are still printed)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if f.profile == "" {
			return usageError{fmt.Errorf("--profile is required (built in: %s; see 'claimsbatch import --help')", strings.Join(importer.BuiltinNames(), ", "))}
		}
		p, err := importer.Open(f.profile)
		if err != nil {
			return err
		}
		if f.print {
			return printProfile(stdout, p, f.out)
		}
		var missing []string
		for _, m := range []struct{ name, val string }{{"--in", f.in}, {"--out", f.out}} {
			if m.val == "" {
				missing = append(missing, m.name)
			}
		}
		if len(missing) > 0 {
			return usageError{fmt.Errorf("%s required (see 'claimsbatch import --help')", strings.Join(missing, " and "))}
		}
		format, err := writers.ParseFormat(f.format)
		if err != nil {
			return usageError{err}
		}
		pl := plan.Default()
		if f.planPath != "" {
			if pl, err = plan.Load(f.planPath); err != nil {
				return err
			}
		}
		opt := importer.Options{In: f.in, Out: f.out, Force: f.force, Format: format, Plan: pl, Version: version}
		for _, s := range f.set {
			st, err := importer.ParseSetting(s)
			if err != nil {
				return err
			}
			opt.Set = append(opt.Set, st)
		}
		m, err := importer.Import(cmd.Context(), p, opt)
		if err != nil {
			return err
		}
		if !f.quiet {
			printImportSummary(stderr, m, f.out)
		}
		return nil
	}
	return cmd
}

// printProfile writes the profile's YAML to stdout, or with dir the profile
// and its code tables into dir.
func printProfile(stdout io.Writer, p *importer.Profile, dir string) error {
	if dir == "" {
		_, err := stdout.Write(p.YAML())
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	name := p.Name + ".yaml"
	files := []importer.TableFile{{File: name, Data: p.YAML()}}
	files = append(files, p.Tables()...)
	for _, t := range files {
		path := filepath.Join(dir, t.File)
		if _, err := os.Stat(path); err == nil {
			return usageError{fmt.Errorf("%s exists; --print --out does not overwrite files", path)}
		}
	}
	for _, t := range files {
		path := filepath.Join(dir, t.File)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(path, t.Data, 0o640); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %s and %d code tables into %s; edit them and import with --profile %s\n",
		name, len(files)-1, dir, filepath.Join(dir, name))
	return nil
}

func printImportSummary(w io.Writer, m *importer.Manifest, dir string) {
	fmt.Fprintf(w, "\nclaimsbatch import  profile %s → %s\n", m.Profile.Name, dir)
	for _, s := range m.Sources {
		fmt.Fprintf(w, "  %s  %s\n      read %d = mapped %d", s.File, s.Use, s.RowsRead, s.Mapped)
		for _, f := range s.Filtered {
			fmt.Fprintf(w, " + %s %d", f.Filter, f.Rows)
		}
		fmt.Fprintf(w, " + exceptions %d", s.Exceptions)
		if s.Lines > 0 {
			fmt.Fprintf(w, " (%s)", plural(int(s.Lines), "line", "lines"))
		}
		fmt.Fprintln(w)
	}
	if len(m.Absent) > 0 {
		fmt.Fprintf(w, "  absent (optional): %s\n", strings.Join(m.Absent, ", "))
	}
	for _, o := range m.Outputs {
		fmt.Fprintf(w, "  wrote %s: %s\n", o.Name, plural(int(o.Rows), "row", "rows"))
	}
}
