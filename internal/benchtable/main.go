// Command benchtable prints, side by side for a list of models, what issue
// 16 compares: the Go reference's time per sample, the TFLite C runtime's
// and LiteRT-WASM's invoke time per sample (same .tflite), the conversion
// time and its throughput over the model's weights, and the peak memory of
// a whole `validate` run with every process it starts counted (validate,
// its agent child, Node).
//
// Usage (scripts/bench.sh builds validate and runs this):
//
//	go run ./internal/benchtable [-validate PATH] [-rounds N] [-samples N]
//	    [-runtimes tflite,litert] [-benchfmt FILE]
//	    [-reference BENCH.TEST [-benchtime D]] [MODEL...]
//
// With -reference (the test binary of package bench, `go test -c ./bench/`)
// it also prints issue 16's acceptance table for the reference: it runs
// BenchmarkReference ROUNDS times, one process each (the zoo's models, see
// bench.BenchmarkReference) and shows, per model, the Go reference's and
// TFLite C XNNPACK's time per sample with one and two threads for one
// sample, wall and the process's CPU time, their ratios (medians of the
// per-round ratios), and for a PyTorch model its NCHW graph against its
// NHWC canonical graph on the reference. XNNPACK's wall time is its
// invoke alone (no copying of inputs and outputs); the reference's is a
// whole Run.
//
// Each round runs `validate --device host --runtime R --samples N --json -`
// once per model and runtime, models and runtimes interleaved, so that a
// machine shared with other builds loads every column alike; the table
// shows medians over the rounds. A run that fails prints its error in the
// cell. -benchfmt FILE also writes every measurement in Go's benchmark
// format (one line per round), for benchstat.
//
// Peak RSS is sampled every 2 ms as the sum of VmRSS over validate and its
// descendants (/proc), so a peak shorter than that can be missed; the
// "weights" column is the .tflite size, which for float32 models is the
// weight bytes plus a little structure.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// result is the part of validate's JSON result the table reads.
type result struct {
	Verdict     string  `json:"verdict"`
	TFLiteBytes int64   `json:"tflite_bytes"`
	ConvertMS   float64 `json:"convert_ms"`
	Runtime     struct {
		Name string `json:"name"`
	} `json:"runtime"`
	LatencyMS   *stats `json:"latency_ms"`
	ReferenceMS *stats `json:"reference_ms"`
}

type stats struct {
	P50 float64 `json:"p50"`
}

// run is one validate run's measurements.
type run struct {
	res     result
	peakRSS int64 // bytes
	wall    time.Duration
	err     string
}

func main() {
	validate := flag.String("validate", "validate", "the validate binary")
	rounds := flag.Int("rounds", 3, "interleaved rounds per model and runtime")
	samples := flag.Int("samples", 20, "samples per validate run")
	runtimes := flag.String("runtimes", "tflite,litert", "runtimes to compare (comma-separated)")
	benchfmt := flag.String("benchfmt", "", "also write Go benchmark lines to `FILE` (for benchstat)")
	refBin := flag.String("reference", "", "bench package test `BINARY`: also print the reference's acceptance table")
	benchtime := flag.String("benchtime", "1s", "-test.benchtime of the -reference benchmarks")
	flag.Parse()
	if flag.NArg() == 0 && *refBin == "" {
		fmt.Fprintln(os.Stderr, "usage: benchtable [flags] MODEL...")
		flag.PrintDefaults()
		os.Exit(2)
	}
	models := flag.Args()
	rts := strings.Split(*runtimes, ",")
	runs := map[string][]run{} // model \x00 runtime -> rounds
	var bf io.Writer = io.Discard
	if *benchfmt != "" {
		f, err := os.Create(*benchfmt)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		defer f.Close()
		bf = f
	}
	for r := range *rounds {
		for _, m := range models {
			for _, rt := range rts {
				fmt.Fprintf(os.Stderr, "benchtable: round %d/%d: %s on %s\n", r+1, *rounds, filepath.Base(m), rt)
				x := once(*validate, m, rt, *samples)
				runs[m+"\x00"+rt] = append(runs[m+"\x00"+rt], x)
				writeBench(bf, m, rt, x)
			}
		}
	}
	if len(models) > 0 {
		printTable(os.Stdout, models, rts, runs)
	}
	if *refBin != "" {
		fmt.Fprintf(os.Stderr, "benchtable: BenchmarkReference, %d rounds\n", *rounds)
		m, refModels, out, err := runReference(*refBin, *rounds, *benchtime)
		if _, werr := bf.Write(out); werr != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", werr)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		fmt.Println()
		printReference(os.Stdout, m, refModels)
	}
}

// once runs validate on model with runtime rt and samples samples.
func once(validate, model, rt string, samples int) run {
	cmd := exec.Command(validate, "--device", "host", "--runtime", rt, "--samples", strconv.Itoa(samples), "--quiet", "--json", "-", model)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return run{err: err.Error()}
	}
	peak := make(chan int64)
	stop := make(chan struct{})
	go func() { peak <- samplePeak(cmd.Process.Pid, stop) }()
	err := cmd.Wait()
	close(stop)
	x := run{peakRSS: <-peak, wall: time.Since(t0)}
	if jerr := json.Unmarshal(stdout.Bytes(), &x.res); jerr != nil {
		msg := strings.TrimSpace(stderr.String())
		if err != nil {
			msg = err.Error() + ": " + msg
		}
		x.err = lastLine(msg)
		return x
	}
	if x.res.Verdict != "pass" {
		x.err = "verdict " + x.res.Verdict
	}
	return x
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// samplePeak polls the summed VmRSS of pid and its descendants until stop
// closes, and returns the largest sum seen.
func samplePeak(pid int, stop <-chan struct{}) int64 {
	var peak int64
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if n := treeRSS(pid); n > peak {
			peak = n
		}
		select {
		case <-stop:
			return peak
		case <-tick.C:
		}
	}
}

// treeRSS is the VmRSS of pid plus that of its descendants, in bytes.
func treeRSS(pid int) int64 {
	total := rss(pid)
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				total += treeRSS(c)
			}
		}
	}
	return total
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// writeBench writes one round's measurements as benchmark lines.
func writeBench(w io.Writer, model, rt string, x run) {
	if x.err != "" {
		return
	}
	name := strings.TrimSuffix(filepath.Base(model), filepath.Ext(model))
	if p := filepath.Base(filepath.Dir(model)); p != "." {
		name = p + "_" + name
	}
	fmt.Fprintf(w, "BenchmarkValidate/%s/%s 1 %.0f ns/op %.4f device-ms/sample %.4f ref-ms/sample %.2f convert-ms %.1f convert-MB/s %d peak-RSS-B\n",
		name, rt, float64(x.wall), p50(x.res.LatencyMS), p50(x.res.ReferenceMS), x.res.ConvertMS,
		mbps(x.res.TFLiteBytes, x.res.ConvertMS), x.peakRSS)
}

func p50(s *stats) float64 {
	if s == nil {
		return 0
	}
	return s.P50
}

func mbps(bytes int64, ms float64) float64 {
	if ms <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / (ms / 1e3)
}

// median of the values f gives for the successful runs, ok false when none
// succeeded.
func median(runs []run, f func(run) float64) (float64, bool) {
	var v []float64
	for _, r := range runs {
		if r.err == "" {
			v = append(v, f(r))
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// firstErr is the first failed run's message.
func firstErr(runs []run) string {
	for _, r := range runs {
		if r.err != "" {
			return r.err
		}
	}
	return ""
}

func printTable(w io.Writer, models, rts []string, runs map[string][]run) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"model", "weights MB", "Go ref ms/sample"}
	for _, rt := range rts {
		head = append(head, rt+" ms/sample")
	}
	head = append(head, "convert ms", "convert MB/s")
	for _, rt := range rts {
		head = append(head, "peak RSS MB ("+rt+")")
	}
	head = append(head, "RSS/weights")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	var errs []string
	for _, m := range models {
		all := []run{}
		for _, rt := range rts {
			all = append(all, runs[m+"\x00"+rt]...)
		}
		cell := func(rs []run, f func(run) float64, format string) string {
			v, ok := median(rs, f)
			if !ok {
				return "error"
			}
			return fmt.Sprintf(format, v)
		}
		weights, _ := median(all, func(r run) float64 { return float64(r.res.TFLiteBytes) / 1e6 })
		row := []string{filepath.Base(filepath.Dir(m)) + "/" + filepath.Base(m), fmt.Sprintf("%.1f", weights),
			cell(all, func(r run) float64 { return p50(r.res.ReferenceMS) }, "%.3f")}
		for _, rt := range rts {
			rs := runs[m+"\x00"+rt]
			row = append(row, cell(rs, func(r run) float64 { return p50(r.res.LatencyMS) }, "%.3f"))
			if e := firstErr(rs); e != "" {
				errs = append(errs, fmt.Sprintf("%s on %s: %s", m, rt, e))
			}
		}
		row = append(row, cell(all, func(r run) float64 { return r.res.ConvertMS }, "%.1f"),
			cell(all, func(r run) float64 { return mbps(r.res.TFLiteBytes, r.res.ConvertMS) }, "%.0f"))
		maxRSS := 0.0
		for _, rt := range rts {
			v, ok := median(runs[m+"\x00"+rt], func(r run) float64 { return float64(r.peakRSS) / 1e6 })
			if ok {
				row = append(row, fmt.Sprintf("%.0f", v))
				maxRSS = max(maxRSS, v)
			} else {
				row = append(row, "error")
			}
		}
		if weights > 0 {
			row = append(row, fmt.Sprintf("%.1f", maxRSS/weights))
		} else {
			row = append(row, "-")
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	for _, e := range errs {
		fmt.Fprintln(w, "error:", e)
	}
}
