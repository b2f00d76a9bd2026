package importer

import (
	"go/parser"
	gotoken "go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The package imports claim, plan, readers and writers of this module, and
// nothing else of it (not pipeline): the import direction of the layout.
func TestImportDirection(t *testing.T) {
	allowed := map[string]bool{"claimsbatch/claim": true, "claimsbatch/plan": true, "claimsbatch/readers": true, "claimsbatch/writers": true}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "claimsbatch/") && !allowed[path] {
				t.Errorf("%s imports %s; the importer may import only claim, plan, readers and writers", name, path)
			}
		}
	}
}
