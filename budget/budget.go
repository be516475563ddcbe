// Package budget says, before anything big is allocated, how much memory a
// validation will hold, and refuses a model beyond a limit.
//
// A model file of a kilobyte may declare a [1, 4096, 4096, 64] input: every
// value is within the graph's per-tensor bound, yet the float reference, the
// float64 noise-floor evaluation and the samples together would hold tens of
// gigabytes, and the process would be killed by the kernel's OOM killer
// half-way (exit 137, no result, a partial repro bundle). The evaluators
// therefore sum, from shapes alone, the bytes their plans will hold
// (reference.Footprint, ref64.Footprint) and the pipeline adds the
// conversion and the samples (Conversion, Samples); Footprint.Check refuses
// a total above the limit with an *Error naming the largest tensors. That is
// the model's demand, not a fault of the machine: callers report it as bad
// input (exit 2).
//
// The limit defaults to DefaultFraction of the machine's physical memory
// (MemTotal in /proc/meminfo); ParseLimit reads a user's setting ("8GiB",
// "60%", "off").
//
// Bytes are live bytes: what the computation holds at its peak. Go's
// garbage collector lets the heap grow past the live set between
// collections (by GOGC, 100% by default), so a caller enforcing a limit
// should also give it to runtime/debug.SetMemoryLimit, which makes the
// collector run harder as the heap nears the limit.
package budget

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeval/edgeval/graph"
)

// MaxLargest is how many of the largest tensors a Footprint keeps (and an
// *Error names).
const MaxLargest = 5

// DefaultFraction is the share of physical memory DefaultLimit allows.
const DefaultFraction = 0.5

// Part is one share of a footprint: what holds the memory, and how much.
type Part struct {
	// What names the holder ("reference activations (2 concurrent runs)").
	What  string
	Bytes int64
}

// Tensor is one value a footprint counts: its name in the graph, its shape
// and the bytes one copy of it takes where it is held (4 per element in the
// float32 reference, 8 in the float64 one).
type Tensor struct {
	Name  string
	Shape []int
	Bytes int64
	// Where says which part holds it ("reference", "float64 reference",
	// "weights").
	Where string
}

func (t Tensor) String() string {
	return fmt.Sprintf("%q %v (%s, %s)", t.Name, t.Shape, Format(t.Bytes), t.Where)
}

// Footprint is the memory a computation will hold at once: its parts, and
// the largest tensors among them (largest first, at most MaxLargest).
type Footprint struct {
	Parts   []Part
	Largest []Tensor
}

// Total returns the sum of the parts (saturating at math.MaxInt64).
func (f Footprint) Total() int64 {
	var t int64
	for _, p := range f.Parts {
		t = Add(t, p.Bytes)
	}
	return t
}

// Plus returns f and o together: their parts, and the largest tensors of
// both.
func (f Footprint) Plus(o Footprint) Footprint {
	return Footprint{
		Parts:   append(slices.Clone(f.Parts), o.Parts...),
		Largest: Largest(append(slices.Clone(f.Largest), o.Largest...)),
	}
}

// Check returns nil when the footprint fits in limit bytes (limit <= 0: no
// limit), else an *Error.
func (f Footprint) Check(limit int64) error {
	if limit <= 0 || f.Total() <= limit {
		return nil
	}
	return &Error{Limit: limit, Footprint: f}
}

// Error is a computation whose footprint exceeds the memory limit. It is
// the model's demand (its declared shapes, the number of samples), reported
// as bad input.
type Error struct {
	Limit     int64
	Footprint Footprint
}

// Error returns "needs N GiB, more than the L GiB memory limit: parts;
// largest tensors: ...".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the model needs %s of memory, more than the %s limit (--max-memory): ", Format(e.Footprint.Total()), Format(e.Limit))
	sep := ""
	for _, p := range e.Footprint.Parts {
		if p.Bytes == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s%s %s", sep, p.What, Format(p.Bytes))
		sep = ", "
	}
	if len(e.Footprint.Largest) > 0 {
		b.WriteString("; largest tensors: ")
		for i, t := range e.Footprint.Largest {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t.String())
		}
	}
	return b.String()
}

// Largest returns the MaxLargest largest of ts, largest first (ties by
// name); a tensor listed more than once (by name: held by two parts) is
// kept once, where it is largest.
func Largest(ts []Tensor) []Tensor {
	ts = slices.Clone(ts)
	slices.SortStableFunc(ts, func(a, b Tensor) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	seen := map[string]bool{}
	out := ts[:0]
	for _, t := range ts {
		if !seen[t.Name] && len(out) < MaxLargest {
			seen[t.Name] = true
			out = append(out, t)
		}
	}
	return out
}

// Add returns a+b for non-negative a and b, saturating at math.MaxInt64.
func Add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Mul returns a*b for non-negative a and b, saturating at math.MaxInt64.
func Mul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// Bytes returns the bytes of shape at elem bytes per element (saturating;
// negative dimensions count as zero).
func Bytes(shape []int, elem int) int64 {
	n := int64(elem)
	for _, d := range shape {
		n = Mul(n, int64(max(d, 0)))
	}
	return n
}

// Conversion returns the weights a validation of g holds in its graphs and
// its .tflite: the source graph's constants as loaded, the converted
// graph's copy (its passes fold and transpose them into new constants) and
// the .tflite flatbuffer, each counted at the weights' float32 bytes.
func Conversion(g *graph.Graph) Footprint {
	var w int64
	var ts []Tensor
	for _, v := range constants(g) {
		b := Bytes(v.Shape, 4)
		w = Add(w, b)
		ts = append(ts, Tensor{Name: v.Name, Shape: v.Shape, Bytes: b, Where: "weights"})
	}
	return Footprint{
		Parts:   []Part{{What: "weights (source graph, converted graph, .tflite)", Bytes: Mul(w, 3)}},
		Largest: Largest(ts),
	}
}

// Samples returns what n samples of g hold when each keeps copies of its
// inputs and copies of its outputs, in float32 (the pipeline keeps the
// inputs as read and as fed to the device, and the reference's and the
// device's outputs).
func Samples(g *graph.Graph, n, inputCopies, outputCopies int) Footprint {
	var in, out int64
	for _, v := range g.Inputs {
		in = Add(in, Bytes(v.Shape, 4))
	}
	for _, v := range g.Outputs {
		out = Add(out, Bytes(v.Shape, 4))
	}
	one := Add(Mul(in, int64(inputCopies)), Mul(out, int64(outputCopies)))
	return Footprint{Parts: []Part{{What: fmt.Sprintf("%d sample(s)", n), Bytes: Mul(one, int64(n))}}}
}

// constants returns g's constant values, each once.
func constants(g *graph.Graph) []*graph.Value {
	seen := map[*graph.Value]bool{}
	var out []*graph.Value
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			if v != nil && v.Const != nil && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// MemTotal returns the machine's physical memory in bytes (MemTotal in
// /proc/meminfo).
func MemTotal() (int64, error) {
	return memTotal("/proc/meminfo")
}

func memTotal(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("%s: MemTotal line %q: want \"N kB\"", path, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0, fmt.Errorf("%s: MemTotal line %q: not a positive number", path, sc.Text())
		}
		return Mul(kb, 1024), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return 0, fmt.Errorf("%s has no MemTotal line", path)
}

// DefaultLimit returns DefaultFraction of the physical memory, or an error
// when it cannot be read (then the caller decides: no limit, or ask for
// an explicit one).
func DefaultLimit() (int64, error) {
	mem, err := MemTotal()
	if err != nil {
		return 0, err
	}
	return int64(float64(mem) * DefaultFraction), nil
}

// ErrNoLimit is returned by ParseLimit for "off", "none" and "0".
var ErrNoLimit = errors.New("no memory limit")

// ParseLimit reads a memory limit: a byte count with an optional unit (B,
// K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB; all powers of 1024, case
// ignored, "8GiB", "512m", "1.5G"), or a percentage of physical memory
// ("60%"). "off", "none" and "0" return 0 and ErrNoLimit.
func ParseLimit(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "off", "none", "0":
		return 0, ErrNoLimit
	}
	if pct, ok := strings.CutSuffix(t, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || !(f > 0 && f <= 100) {
			return 0, fmt.Errorf("memory limit %q: want a percentage in (0, 100]", s)
		}
		mem, err := MemTotal()
		if err != nil {
			return 0, fmt.Errorf("memory limit %q: reading the physical memory: %w", s, err)
		}
		return int64(float64(mem) * f / 100), nil
	}
	num := strings.TrimRightFunc(t, func(r rune) bool { return r >= 'a' && r <= 'z' })
	unit := strings.TrimSpace(t[len(num):])
	mult := map[string]float64{"": 1, "b": 1,
		"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
		"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
		"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}[unit]
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if mult == 0 || err != nil || !(f > 0) || f*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("memory limit %q: want a size such as 8GiB, 512MiB or 60%%, or off", s)
	}
	return int64(f * mult), nil
}

// Format returns b in a readable unit ("4.0 GiB", "1.5 MiB", "312 B").
func Format(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	f := float64(b)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f /= unit
		if f < unit || u == "PiB" {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%d B", b)
}

// ValueBytes returns the bytes of v at elem bytes per element.
func ValueBytes(v *graph.Value, elem int) int64 { return Bytes(v.Shape, elem) }
