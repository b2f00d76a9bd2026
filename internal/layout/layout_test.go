package layout

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "claimsbatch"

// TestImportDirection lists every package of the module with `go list` and
// checks its (non-test) imports against Allowed.
func TestImportDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		name := strings.TrimPrefix(p.ImportPath, module+"/")
		allowed, known := Allowed[name]
		if !known {
			t.Errorf("package %s has no row in layout.Allowed: say what it may import", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module+"/")
			if !ours || slices.Contains(allowed, "*") || slices.Contains(allowed, dep) {
				continue
			}
			t.Errorf("%s imports %s: against the layout (it may import %s)", name, dep, strings.Join(allowed, ", "))
		}
	}
	if seen < len(Allowed)-1 {
		t.Errorf("go list found %d packages, the map has %d rows", seen, len(Allowed))
	}
}

// TestMapIsAcyclic: the map itself points one way.
func TestMapIsAcyclic(t *testing.T) {
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string, []string)
	visit = func(p string, path []string) {
		switch state[p] {
		case 1:
			t.Fatalf("the map has a cycle: %s", strings.Join(append(path, p), " -> "))
		case 2:
			return
		}
		state[p] = 1
		for _, d := range Allowed[p] {
			if d != "*" {
				visit(d, append(path, p))
			}
		}
		state[p] = 2
	}
	for p := range Allowed {
		visit(p, nil)
	}
}
