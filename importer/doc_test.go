package importer

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The worked example of docs/IMPORT.md runs as written: its profile, code
// tables and extract (the blocks marked "example profile:" and "example
// in:") are imported, and every output block marked "example out:" must
// be exactly what the import writes.
func TestDocsWorkedExample(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "docs", "IMPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	marker := regexp.MustCompile(`^<!-- example (profile|in|out): (\S+) -->$`)
	blocks := map[string]map[string]string{"profile": {}, "in": {}, "out": {}}
	sc := bufio.NewScanner(f)
	var kind, name string
	var body []string
	inFence := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case kind == "" && marker.MatchString(line):
			m := marker.FindStringSubmatch(line)
			kind, name = m[1], m[2]
		case kind != "" && !inFence && strings.HasPrefix(line, "```"):
			inFence = true
		case inFence && line == "```":
			blocks[kind][name] = strings.Join(body, "\n") + "\n"
			kind, body, inFence = "", nil, false
		case inFence:
			body = append(body, line)
		}
	}
	if len(blocks["profile"]) != 3 || len(blocks["in"]) != 2 || len(blocks["out"]) != 3 {
		t.Fatalf("found %d profile, %d in and %d out blocks in docs/IMPORT.md", len(blocks["profile"]), len(blocks["in"]), len(blocks["out"]))
	}
	root := t.TempDir()
	for kind, dir := range map[string]string{"profile": "profile", "in": "in"} {
		os.MkdirAll(filepath.Join(root, dir), 0o755)
		for name, body := range blocks[kind] {
			if err := os.WriteFile(filepath.Join(root, dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	p, err := Load(filepath.Join(root, "profile", "clinic.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "out")
	if _, err := Import(context.Background(), p, Options{In: filepath.Join(root, "in"), Out: out, Set: []Setting{{Key: "residence_country", Value: "BE"}}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range blocks["out"] {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s: docs/IMPORT.md says\n%s\nthe import writes\n%s", name, want, got)
		}
	}
}
