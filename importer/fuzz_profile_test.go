package importer

import (
	"errors"
	"io/fs"
	"testing"
)

// FuzzParse feeds Parse mutations of the built-in profiles (and a few
// hostile shapes): whatever the bytes, it returns a profile or an
// ErrProfile error, never a panic or another kind of error.
func FuzzParse(f *testing.F) {
	for _, name := range BuiltinNames() {
		data, err := fs.ReadFile(builtinFS, "profiles/"+name+".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: x\nclaims: &a [*a]\n"))
	f.Add([]byte("a: &a [*a, *a, *a, *a]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"))
	f.Add([]byte("\x00\xff: [[[[[[[[[[[["))
	f.Add([]byte("name: x\nsources: {t: {files: '[', key: [a]}}\nclaims: {from: t, columns: {claim_id: '{{'}}\n"))
	tables, err := fs.Sub(builtinFS, "profiles")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data, tables)
		if err != nil && !errors.Is(err, ErrProfile) {
			t.Fatalf("Parse returned %v, not an ErrProfile", err)
		}
		if err == nil && p == nil {
			t.Fatal("Parse returned neither a profile nor an error")
		}
	})
}
