// Command actionlint is rhysd/actionlint (its own command, flags and rules) that also knows
// the actions our workflows pin by commit. actionlint checks a step's `with:` inputs only
// for actions in its bundled data set, looked up by the exact `uses:` string
// (`pulumi/actions@v6`): a step pinned by a commit SHA, or on a release newer than the data
// set, is not checked at all. So each pinned action's own action.yml, committed byte for
// byte as `<dir>/<owner>/<repo>@<sha>.yml`, is registered under `<owner>/<repo>@<sha>`
// before actionlint runs; an unknown or missing required input is then a finding.
//
//	actionlint -pinned-actions <dir> [actionlint's flags and files...]
//
// Exit codes are actionlint's (0 clean, 1 findings, 2 bad options, 3 fatal); 3 also when a
// metadata file cannot be read.
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v4"

	_ "time/tzdata"
)

func main() {
	args := os.Args
	if len(args) >= 3 && args[1] == "-pinned-actions" {
		if err := register(args[2]); err != nil {
			fmt.Fprintf(os.Stderr, "actionlint: pinned actions in %s: %v\n", args[2], err)
			os.Exit(3)
		}
		args = append([]string{args[0]}, args[3:]...)
	}
	cmd := actionlint.Command{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(cmd.Main(args))
}

func register(dir string) error {
	found := 0
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() || filepath.Ext(path) != ".yml" {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		spec := strings.TrimSuffix(filepath.ToSlash(rel), ".yml")
		if strings.Count(spec, "/") != 1 || !strings.Contains(spec, "@") {
			return fmt.Errorf("%s: not <owner>/<repo>@<sha>.yml", rel)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var meta actionlint.ActionMetadata
		if err := yaml.Unmarshal(data, &meta); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		actionlint.PopularActions[spec] = &meta
		found++
		return nil
	})
	if err == nil && found == 0 {
		err = fmt.Errorf("no <owner>/<repo>@<sha>.yml file")
	}
	return err
}
