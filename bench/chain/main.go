// Command chain measures a nightly chain: NIGHTS runs of about LINES lines
// each, every night on top of the previous night's state, with a plan that
// has a filing limit (timely_filing_days), and prints per night the wall
// time, the peak RSS and the state's size, so that one can see whether they
// level off or grow with the chain's length (issue 14).
//
//	go run ./bench/chain --nights 365 --lines 30000 --members 100000 --out bench/results/chain
//
// It generates the data with the claimsbatch binary given (--bin), splits the
// claims into nights by received_date (each night the next slice of about
// LINES lines in received order, so that the as-of date moves forward), and
// writes results.csv and a summary table.
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

func main() {
	nights := flag.Int("nights", 365, "number of nightly runs")
	lines := flag.Int("lines", 30000, "claim lines per night (about)")
	members := flag.Int("members", 100000, "members in the book")
	filing := flag.Int("timely-filing-days", 90, "the plan's filing limit")
	bin := flag.String("bin", "bench/bin/claimsbatch", "claimsbatch binary")
	out := flag.String("out", "bench/results/chain", "work directory (data, runs, results)")
	seed := flag.Int("seed", 7, "generator seed")
	flag.Parse()
	log.SetFlags(0)

	data := filepath.Join(*out, "data")
	total := *nights * *lines
	if _, err := os.Stat(filepath.Join(data, "claims.csv")); err != nil {
		run(*bin, "generate", "--out", data, "--lines", strconv.Itoa(total), "--members", strconv.Itoa(*members),
			"--seed", strconv.Itoa(*seed), "--bad-share", "0")
	}
	planPath := filepath.Join(*out, "plan.yaml")
	yaml := append(plan.DefaultYAML(), fmt.Sprintf("\ntimely_filing_days: %d\n", *filing)...)
	must(os.WriteFile(planPath, yaml, 0o644))
	files, asOf := split(filepath.Join(data, "claims.csv"), filepath.Join(*out, "nights"), *nights)

	res, err := os.Create(filepath.Join(*out, "results.csv"))
	must(err)
	defer res.Close()
	fmt.Fprintln(res, "night,lines,wall_s,cpu_s,rss_mib,state_rows,state_mib")
	fmt.Printf("%6s %8s %8s %8s %8s %11s %9s\n", "night", "lines", "wall s", "cpu s", "RSS MiB", "state rows", "state MiB")
	prev := ""
	runs := filepath.Join(*out, "runs")
	os.RemoveAll(runs)
	for i, f := range files {
		dir := filepath.Join(runs, fmt.Sprintf("%03d", i+1))
		// The night's as-of date is its last received_date, as a nightly
		// job's would be the night's date.
		args := []string{"run", "--claims", f, "--members", filepath.Join(data, "members.csv"), "--fx", filepath.Join(data, "fx.csv"),
			"--plan", planPath, "--out", dir, "--as-of", asOf[i].String(), "--quiet"}
		if prev != "" {
			args = append(args, "--state-in", prev)
		}
		wall, cpu, rss := timed(*bin, args...)
		state := filepath.Join(dir, "state.csv")
		st, err := os.Stat(state)
		must(err)
		rows := countLines(state) - 1
		n := countLines(f) - 1
		fmt.Fprintf(res, "%d,%d,%.2f,%.2f,%.0f,%d,%.1f\n", i+1, n, wall, cpu, rss, rows, float64(st.Size())/(1<<20))
		if i < 3 || (i+1)%30 == 0 || i == len(files)-1 {
			fmt.Printf("%6d %8d %8.2f %8.2f %8.0f %11d %9.1f\n", i+1, n, wall, cpu, rss, rows, float64(st.Size())/(1<<20))
		}
		if prev != "" {
			os.RemoveAll(filepath.Dir(prev)) // the chain needs only the last night
		}
		prev = state
	}
}

// split writes the claims file's rows into n night files of about equal
// size, in received_date order (ties in file order), and returns them with
// each night's last received_date.
func split(claims, dir string, n int) ([]string, []claim.Date) {
	must(os.MkdirAll(dir, 0o755))
	var files []string
	for i := range n {
		files = append(files, filepath.Join(dir, fmt.Sprintf("night-%03d.csv", i+1)))
	}
	// The received dates, to cut the nights.
	header, dates := readColumn(claims, "received_date") // an empty one: the service date
	sorted := slices.Clone(dates)
	slices.Sort(sorted)
	cuts := make([]claim.Date, n) // night i takes dates up to cuts[i]
	for i := range n {
		cuts[i] = sorted[min(len(sorted)-1, (i+1)*len(sorted)/n-1)]
	}
	if _, err := os.Stat(files[n-1]); err == nil {
		return files, cuts
	}
	// Pass 2: write.
	in, err := os.Open(claims)
	must(err)
	defer in.Close()
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<20))
	r.FieldsPerRecord = -1
	_, err = r.Read()
	must(err)
	ws := make([]*csv.Writer, n)
	fs := make([]*os.File, n)
	for i := range n {
		fs[i], err = os.Create(files[i])
		must(err)
		ws[i] = csv.NewWriter(bufio.NewWriterSize(fs[i], 64<<10))
		must(ws[i].Write(header))
	}
	for row := 0; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		must(err)
		night, _ := slices.BinarySearch(cuts, dates[row])
		must(ws[min(night, n-1)].Write(rec))
	}
	for i := range n {
		ws[i].Flush()
		must(ws[i].Error())
		must(fs[i].Close())
	}
	return files, cuts
}

func readColumn(path, name string) ([]string, []claim.Date) {
	f, err := os.Open(path)
	must(err)
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	must(err)
	header = slices.Clone(header)
	col, fallback := slices.Index(header, name), slices.Index(header, "service_date")
	var out []claim.Date
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return header, out
		}
		must(err)
		// An empty received_date is the service date, as the claims reader
		// reads it.
		d := claim.NoDate
		for _, c := range []int{col, fallback} {
			if d == claim.NoDate && c >= 0 && c < len(rec) {
				if v, err := claim.ParseDate(strings.TrimSpace(rec[c])); err == nil {
					d = v
				}
			}
		}
		out = append(out, d)
	}
}

func countLines(path string) int {
	f, err := os.Open(path)
	must(err)
	defer f.Close()
	n := 0
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		for _, b := range buf[:k] {
			if b == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n
		}
		must(err)
	}
}

func timed(bin string, args ...string) (wall, cpu, rssMiB float64) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	wall = time.Since(start).Seconds()
	u := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu = time.Duration(u.Utime.Nano() + u.Stime.Nano()).Seconds()
	return wall, cpu, float64(u.Maxrss) / 1024
}

func run(bin string, args ...string) {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
