package x12

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package's place in the layout: besides the standard
// library it imports claim, readers, YAML and errgroup only, so the
// pipeline (and verify) can import it without a cycle.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"claimsbatch/claim": true, "claimsbatch/readers": true,
		"go.yaml.in/yaml/v3": true, "golang.org/x/sync/errgroup": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			stdlib := !strings.Contains(strings.Split(path, "/")[0], ".") && !strings.HasPrefix(path, "claimsbatch/")
			if !stdlib && !allowed[path] {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
