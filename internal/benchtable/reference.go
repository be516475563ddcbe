package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// refMeasure is one sub-benchmark line of bench.BenchmarkReference:
// wall seconds per sample (XNNPACK: its invoke time), and CPU seconds of
// the whole process per sample.
type refMeasure struct {
	wall, cpu float64
}

// refKey names a sub-benchmark: model, impl (ref, ref-nhwc, xnnpack) and
// threads.
type refKey struct {
	model, impl string
	threads     int
}

// runReference runs the bench test binary's BenchmarkReference rounds
// times, one process each, and returns its measurements per
// sub-benchmark, in round order, with the binaries' raw output. One
// process per round, not -test.count rounds: -count repeats each
// sub-benchmark in a row, so that the implementations and thread counts
// of a round would not be measured side by side (see
// bench.BenchmarkReference).
func runReference(bin string, rounds int, benchtime string) (map[refKey][]refMeasure, []string, []byte, error) {
	var out bytes.Buffer
	for r := range rounds {
		fmt.Fprintf(os.Stderr, "benchtable: BenchmarkReference round %d/%d\n", r+1, rounds)
		cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", "^BenchmarkReference$",
			"-test.count", "1", "-test.benchtime", benchtime)
		cmd.Stdout = io.MultiWriter(&out, os.Stderr)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, nil, out.Bytes(), fmt.Errorf("%s (round %d): %w", bin, r+1, err)
		}
	}
	m, models := parseReference(out.Bytes())
	return m, models, out.Bytes(), nil
}

// parseReference reads Go benchmark lines
// "BenchmarkReference/model=M/impl=I/threads=N-P  n  x ns/op  y cpu-sec/op [z invoke-sec/op]"
// and returns the measurements by sub-benchmark and the models in order of
// appearance.
func parseReference(out []byte) (map[refKey][]refMeasure, []string) {
	m := map[refKey][]refMeasure{}
	var models []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkReference/") {
			continue
		}
		var k refKey
		for _, part := range strings.Split(f[0], "/")[1:] {
			name, val, _ := strings.Cut(part, "=")
			switch name {
			case "model":
				k.model = val
			case "impl":
				k.impl = val
			case "threads":
				val, _, _ = strings.Cut(val, "-") // the -GOMAXPROCS suffix
				k.threads, _ = strconv.Atoi(val)
			}
		}
		var x refMeasure
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				if x.wall == 0 {
					x.wall = v / 1e9
				}
			case "invoke-sec/op":
				x.wall = v
			case "cpu-sec/op":
				x.cpu = v
			}
		}
		if !slices.Contains(models, k.model) {
			models = append(models, k.model)
		}
		m[k] = append(m[k], x)
	}
	return m, models
}

// medianOf is the median of v, NaN-free; ok false when v is empty.
func medianOf(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// refCell is "wall ms (cpu ms)" of a sub-benchmark's medians, or "-".
func refCell(xs []refMeasure) string {
	var w, c []float64
	for _, x := range xs {
		w, c = append(w, x.wall), append(c, x.cpu)
	}
	mw, ok := medianOf(w)
	if !ok {
		return "-"
	}
	mc, _ := medianOf(c)
	return fmt.Sprintf("%.3f (%.3f)", mw*1e3, mc*1e3)
}

// ratioCell is the median over rounds of a/b, wall (cpu), pairing rounds
// by index (the same round ran both, one right after the other).
func ratioCell(a, b []refMeasure) string {
	var w, c []float64
	for i := range min(len(a), len(b)) {
		if b[i].wall > 0 && b[i].cpu > 0 {
			w = append(w, a[i].wall/b[i].wall)
			c = append(c, a[i].cpu/b[i].cpu)
		}
	}
	mw, ok := medianOf(w)
	if !ok {
		return "-"
	}
	mc, _ := medianOf(c)
	return fmt.Sprintf("%.2f (%.2f)", mw, mc)
}

// printReference writes issue 16's acceptance table: the reference against
// XNNPACK with one and two threads, and an NCHW model against its NHWC
// canonical graph on the reference, each cell "wall (cpu)".
func printReference(w io.Writer, m map[refKey][]refMeasure, models []string) {
	fmt.Fprintln(w, "Go reference vs TFLite C XNNPACK, ms per sample: wall (CPU of the process); ratios are medians of per-round ratios")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tref 1t\txnnpack 1t\tref/xnnpack 1t\tref 2t\txnnpack 2t\tref/xnnpack 2t\tref NHWC 1t\tNCHW/NHWC")
	for _, model := range models {
		get := func(impl string, threads int) []refMeasure { return m[refKey{model, impl, threads}] }
		row := []string{model,
			refCell(get("ref", 1)), refCell(get("xnnpack", 1)), ratioCell(get("ref", 1), get("xnnpack", 1)),
			refCell(get("ref", 2)), refCell(get("xnnpack", 2)), ratioCell(get("ref", 2), get("xnnpack", 2)),
			refCell(get("ref-nhwc", 1)), ratioCell(get("ref", 1), get("ref-nhwc", 1)),
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}
