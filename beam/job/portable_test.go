package job

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildTool builds a main package of the Beam module (a `tool` of go.mod,
// so go.sum covers it) into dir.
func buildTool(t *testing.T, dir, pkg, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds Beam's tools; skipped with -short")
	}
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

var endpointRE = regexp.MustCompile(`msg="Serving JobManagement" endpoint=(\S+)`)

// startPrism starts Beam's standalone Prism job server as a separate
// process on a loopback port chosen by the kernel and returns its
// HOST:PORT. It is killed when the test ends.
func startPrism(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := buildTool(t, dir, "github.com/apache/beam/sdks/v2/go/cmd/prism", "prism")
	cmd := exec.Command(bin, "--job_port=0", "--serve_http=false", "--log_kind=text")
	// Workers it starts inherit its directory, and Beam's boot program
	// writes pipeline_options.json into the current directory.
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	logFile, err := os.Create(filepath.Join(dir, "prism.log"))
	if err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := endpointRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			fmt.Fprintln(logFile, sc.Text())
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case ep := <-found:
		// Prism listens on every interface but says "localhost:PORT";
		// the test talks to it over loopback only.
		return strings.Replace(ep, "localhost:", "127.0.0.1:", 1)
	case <-time.After(30 * time.Second):
		t.Fatal("standalone Prism did not say its endpoint within 30 s; see " + logFile.Name())
	}
	return ""
}

// useRunner applies r for one test and goes back to in-process Prism after.
func useRunner(t *testing.T, r Runner) {
	t.Helper()
	if err := r.Apply(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := (Runner{}).Apply(); err != nil {
			t.Error(err)
		}
	})
}

// TestToyPortableLoopback submits the toy to a standalone Prism process
// with --runner universal; the SDK harness runs in this process (LOOPBACK).
func TestToyPortableLoopback(t *testing.T) {
	endpoint := startPrism(t)
	useRunner(t, Runner{Name: "universal", Endpoint: endpoint, EnvironmentType: "LOOPBACK"})
	in := toyGenerated(3000)
	out := t.TempDir()
	if err := runToy(t, in, out, 4, Fault{}); err != nil {
		t.Fatal(err)
	}
	if got, want := readOutputs(t, out), toyReference(in); !equalOutputs(got, want) {
		t.Error("outputs on standalone Prism differ from the reference")
	}
}

// TestToyPortableProcess is the deployment shape of Flink and Dataflow on
// one machine: the job server starts SDK workers as separate processes
// (PROCESS environment) through Beam's Go boot program, which fetches the
// staged worker binary (this test binary) from the job server and runs it
// with --worker. It proves that every function and type the pipeline uses
// is registered: a worker process knows only what its init functions did.
func TestToyPortableProcess(t *testing.T) {
	endpoint := startPrism(t)
	useRunner(t, processRunner(t, endpoint))
	in := toyGenerated(3000)
	out := t.TempDir()
	if err := runToy(t, in, out, 4, Fault{}); err != nil {
		t.Fatal(err)
	}
	if got, want := readOutputs(t, out), toyReference(in); !equalOutputs(got, want) {
		t.Error("outputs with worker processes differ from the reference")
	}
}

// processRunner is the PROCESS environment on the standalone Prism at
// endpoint: workers are separate processes started through Beam's Go boot
// program, which fetches the staged worker binary (this test binary) from
// the job server and runs it with --worker.
func processRunner(t *testing.T, endpoint string) Runner {
	t.Helper()
	dir := t.TempDir()
	boot := buildTool(t, dir, "github.com/apache/beam/sdks/v2/go/container", "boot")
	// The boot program copies the worker binary into /tmp/binNNN/ and does
	// not remove it: remove the ones this test's workers made.
	before, _ := filepath.Glob("/tmp/bin*/worker")
	t.Cleanup(func() {
		after, _ := filepath.Glob("/tmp/bin*/worker")
		for _, w := range after {
			if !slices.Contains(before, w) {
				os.RemoveAll(filepath.Dir(w))
			}
		}
	})
	semi := filepath.Join(dir, "semi")
	wrapper := filepath.Join(dir, "boot.sh")
	// Prism v2.77.0 starts the command with --id='ID', quotes included
	// (meant for a shell it does not use), and the worker then fails with
	// "worker_id ... not registered in worker pool": strip them.
	script := fmt.Sprintf(`#!/bin/sh
for a in "$@"; do
	case "$a" in --id=\'*) a="--id=$(printf %%s "${a#--id=}" | tr -d "'")" ;; esac
	set -- "$@" "$a"; shift
done
exec %q --semi_persist_dir=%q "$@"
`, boot, semi)
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Runner{Name: "universal", Endpoint: endpoint, EnvironmentType: "PROCESS",
		EnvironmentConfig: fmt.Sprintf(`{"command": %q}`, wrapper), WorkerBinary: self}
}

// TestSamplePortable submits the real adjudication of the sample to a
// standalone Prism process with --runner universal, with the SDK harness
// in this process (LOOPBACK) and in separate worker processes (PROCESS):
// the published bytes are `claimsbatch run`'s.
func TestSamplePortable(t *testing.T) {
	endpoint := startPrism(t)
	cfg := sampleConfig(t)
	ref := reference(t, cfg)
	t.Run("loopback", func(t *testing.T) {
		useRunner(t, Runner{Name: "universal", Endpoint: endpoint, EnvironmentType: "LOOPBACK"})
		sameFiles(t, ref, viaBeam(t, cfg))
	})
	t.Run("process", func(t *testing.T) {
		useRunner(t, processRunner(t, endpoint))
		sameFiles(t, ref, viaBeam(t, cfg))
	})
}
