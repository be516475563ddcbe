// Command zootable prints issue 12's evidence table in Markdown: every model
// of the out-of-tree zoos and the recurrent, attention and normalization
// families of the corpus, in every format, validated by the real `validate`
// binary against the framework's own outputs.
//
// Usage (scripts/zoo-table.sh builds validate and runs this):
//
//	go run ./internal/zootable -validate PATH [-zoo DIR] [-torch-zoo DIR]
//	    [-corpus DIR] [-cases REGEXP] [-formats REGEXP] [-samples N] [-no-float64]
//
// For each case (a case.json directory, package corpus) and each model file
// of it, one run of
//
//	validate --quiet --inputs E --expected E [--arch A] [--model-json J] --json R MODEL
//
// where E is the file of the framework's outputs on the case's inputs
// (case.json's expected), A an --arch file (the case's for a state_dict, an
// input-only one for a full pickle, which does not record its input size)
// and J a weights-only Keras file's model.to_json(); and, for a Keras case,
// one run per float32 file of the real TF converter with --tflite. TorchScript
// files (refused by design) are left out. The host runtime is validate's
// default (TFLite C when found, else LiteRT-WASM); the table names it.
//
// Columns: the exit code; the Go reference against the framework's float32
// outputs (max abs, and as a fraction of the output range); the device's
// .tflite against the reference (fraction of range); the conversion's and
// the reference's time (ms, per sample, median); and, where the zoo holds
// the framework's float64 outputs (internal/zoo64), the float64 evaluator
// reference/ref64 on the same file against them (fraction of range), which
// shows the reading exact where float32 summation order cannot.
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
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/internal/zoo64"
	"github.com/edgeval/edgeval/tensor"
)

// families are the corpus cases of issue 12's recurrent, attention and
// normalization families (Keras LSTM, GRU, SimpleRNN, Bidirectional,
// MultiHeadAttention, transformer encoder, ViT, Normalization, Rescaling,
// LayerScale; PyTorch nn.LSTM/GRU/RNN, MultiheadAttention,
// TransformerEncoder, ViT).
var families = regexp.MustCompile(`^(keras/(rnn_|mha_|block_transformer_text|block_vit|normalization_|rescaling_|layerscale|honesty_mha_)|torch/(rnn_|attn_))`)

// sequenceFirst are the corpus cases whose first axis is time, not the
// sample (PyTorch's batch_first=False): the framework ran the whole array
// as one call, so they are validated as one run at --batch T (the exported
// first dimension), as the README says for such models. Split along axis 0
// they would be other inputs, and --expected rightly fails them as misread.
var sequenceFirst = regexp.MustCompile(`^torch/(attn_encoder_nf|attn_mha_seq_first|rnn_stack_seqfirst|rnn_tanh_seqfirst)$`)

// result is the part of validate's JSON result the table reads.
type result struct {
	Verdict   string   `json:"verdict"`
	Error     string   `json:"error"`
	ConvertMS float64  `json:"convert_ms"`
	Outputs   []output `json:"outputs"`
	Framework *struct {
		Pass    bool     `json:"pass"`
		Outputs []output `json:"outputs"`
	} `json:"framework"`
	Runtime struct {
		Name string `json:"name"`
	} `json:"runtime"`
	ReferenceMS *struct {
		P50 float64 `json:"p50"`
	} `json:"reference_ms"`
	Samples int `json:"samples"`
}

type output struct {
	Name    string `json:"name"`
	Metrics struct {
		MaxAbs   float64 `json:"max_abs"`
		RefRange float64 `json:"ref_range"`
	} `json:"metrics"`
	Pass bool `json:"pass"`
}

// row is one model × format.
type row struct {
	model, format string
	code          int
	res           result
	f64           string // ref64 vs the framework's float64 outputs, or why not
	err           string // stderr's last line on failure
	wall          time.Duration
}

// job is one validate run to make.
type job struct {
	c        *corpus.Case
	m        corpus.Model
	expected string   // the case's file of the framework's outputs
	format   string   // the table's name of the format
	args     []string // validate's arguments before MODEL
	file     string   // MODEL
	f64      bool     // also check ref64 against the float64 outputs
	n        int      // samples
	whole    bool     // the case's arrays are one run (sequenceFirst)
}

func main() {
	validate := flag.String("validate", "validate", "the validate binary")
	zoo := flag.String("zoo", os.Getenv("EDGEVAL_ZOO"), "the keras.applications zoo (testdata/gen/zoo.py DIR)")
	torchZoo := flag.String("torch-zoo", os.Getenv("EDGEVAL_TORCH_ZOO"), "the torchvision zoo (testdata/gen/gen_torchvision.py DIR --tier=zoo)")
	corpusDir := flag.String("corpus", "testdata/corpus", "the committed corpus (its recurrent, attention and normalization families)")
	cases := flag.String("cases", "", "only the cases whose ID (keras/NAME, torch/NAME) matches `REGEXP`")
	formats := flag.String("formats", "", "only the model files whose case.json format (torch-state-dict, keras3, ...) matches `REGEXP`")
	samples := flag.Int("samples", 8, "at most N samples per run")
	noF64 := flag.Bool("no-float64", false, "skip the float64 check")
	flag.Parse()
	var filter, formatFilter *regexp.Regexp
	if *cases != "" {
		filter = regexp.MustCompile(*cases)
	}
	if *formats != "" {
		formatFilter = regexp.MustCompile(*formats)
	}
	var jobs []job
	for _, src := range []struct {
		dir string
		all bool
	}{{*zoo, true}, {*torchZoo, true}, {*corpusDir, false}} {
		if src.dir == "" {
			continue
		}
		abs, err := filepath.Abs(src.dir)
		if err != nil {
			fail(err)
		}
		cs, err := corpus.Load(abs)
		if err != nil {
			fail(err)
		}
		for _, c := range cs {
			if (!src.all && !families.MatchString(c.ID())) || (filter != nil && !filter.MatchString(c.ID())) {
				continue
			}
			for _, j := range jobsOf(c, *samples, !*noF64) {
				if formatFilter == nil || formatFilter.MatchString(j.m.Format) {
					jobs = append(jobs, j)
				}
			}
		}
	}
	tmp, err := os.MkdirTemp("", "zootable-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	var rows []row
	t0 := time.Now()
	for i, j := range jobs {
		fmt.Fprintf(os.Stderr, "zootable: %d/%d %s %s (%s)\n", i+1, len(jobs), j.c.ID(), j.format, time.Since(t0).Round(time.Second))
		r := runJob(*validate, tmp, j)
		if r.code == 2 && strings.Contains(r.err, "--batch") && j.c.Batch() > 1 && !j.whole {
			// A program whose batch --batch cannot rewrite (a .pt2 that moves
			// the batch off axis 0, h_n outputs): validated at its exported
			// batch, as the README says.
			j.args = append(j.args, "--batch", strconv.Itoa(j.c.Batch()))
			j.format += fmt.Sprintf(" (--batch %d)", j.c.Batch())
			r = runJob(*validate, tmp, j)
		}
		rows = append(rows, r)
	}
	printTable(os.Stdout, rows)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "zootable:", err)
	os.Exit(2)
}

// formatNames are the table's names of case.json's formats.
var formatNames = map[string]string{
	"tf-keras-h5": "tf_keras .h5", "keras3": "Keras 3 .keras", "keras3-h5": "Keras 3 .h5",
	"tf-keras-weights-h5": "tf_keras weights .h5 + json", "keras3-weights-h5": "Keras 3 weights .h5 + json",
	"torch-full-pth": "full pickle .pth", "torch-state-dict": "state_dict + --arch",
	"torch-export-pt2": ".pt2", "torch-export-pt2-decomposed": ".pt2 core ATen",
}

// jobsOf lists the runs of one case.
func jobsOf(c *corpus.Case, samples int, f64 bool) []job {
	var out []job
	n := min(samples, c.Batch())
	whole := sequenceFirst.MatchString(c.ID())
	for _, m := range c.Models {
		name, ok := formatNames[m.Format]
		if !ok {
			continue // torchscript: refused by design
		}
		args := []string{"--inputs", "INPUTS", "--expected", "EXPECTED"}
		switch {
		case m.NeedsArch:
			args = append(args, "--arch", c.Path(c.Arch))
		case m.Format == "torch-full-pth":
			args = append(args, "--arch", "INPUT_ARCH")
		}
		if m.Config != "" {
			args = append(args, "--model-json", c.Path(m.Config))
		}
		if whole {
			args = append(args, "--batch", strconv.Itoa(c.Batch()))
			name += fmt.Sprintf(" (one run, --batch %d)", c.Batch())
		}
		out = append(out, job{c: c, m: m, whole: whole, expected: m.Expected, format: name, args: args, file: c.Path(m.File), f64: f64 && zoo64.Expected(c, m) != "", n: n})
	}
	if c.Framework == "keras" && len(c.Models) > 0 {
		m := c.Models[0]
		for _, t := range c.TFLite {
			if t.Precision != "float32" || !strings.HasPrefix(t.Converter, "tensorflow") {
				continue
			}
			args := []string{"--inputs", "INPUTS", "--expected", "EXPECTED", "--tflite", c.Path(t.File)}
			if m.Config != "" {
				args = append(args, "--model-json", c.Path(m.Config))
			}
			out = append(out, job{c: c, m: m, expected: t.Expected, format: "TF converter .tflite (" + m.File + ")", args: args, file: c.Path(m.File), n: n})
		}
	}
	return out
}

// runJob runs validate (in dir tmp, where a failure's repro bundle goes)
// and the float64 check.
func runJob(validate, tmp string, j job) row {
	r := row{model: j.c.ID(), format: j.format}
	inPath, wantPath, err := positional(j.c, j.expected, j.n, j.whole, tmp)
	if err != nil {
		r.code, r.err = -1, err.Error()
		return r
	}
	args := []string{"--quiet"}
	for _, a := range j.args {
		switch a {
		case "INPUT_ARCH":
			batch := 1
			if j.whole {
				batch = j.c.Batch()
			}
			p, err := zoo64.InputArch(j.c, batch, tmp)
			if err != nil {
				r.code, r.err = -1, err.Error()
				return r
			}
			a = p
		case "INPUTS":
			a = inPath
		case "EXPECTED":
			a = wantPath
		}
		args = append(args, a)
	}
	jsonPath := filepath.Join(tmp, "result.json")
	_ = os.Remove(jsonPath)
	args = append(args, "--json", jsonPath, j.file)
	cmd := exec.Command(validate, args...)
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	t0 := time.Now()
	err = cmd.Run()
	r.wall = time.Since(t0)
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code, r.err = -1, err.Error()
	}
	if b, rerr := os.ReadFile(jsonPath); rerr == nil {
		if jerr := json.Unmarshal(b, &r.res); jerr != nil {
			r.err = "result JSON: " + jerr.Error()
		}
	}
	if r.code != 0 && r.err == "" {
		r.err = r.res.Error
		if r.err == "" {
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			r.err = lines[len(lines)-1]
		}
	}
	switch {
	case !j.f64:
		r.f64 = "–"
	default:
		d, err := zoo64.Check(j.c, j.m)
		if err != nil {
			r.f64 = "error: " + err.Error()
			break
		}
		worst := 0.0
		for _, o := range d {
			worst = max(worst, o.Relative())
		}
		r.f64 = fmt.Sprintf("%.1e", worst)
	}
	return r
}

// positional writes the first n samples of the case's inputs and of the
// framework's outputs in file as dir/inputs.npz and dir/expected.npz, keyed
// arr_0, arr_1, ... in the case's order: a model's input and output names
// are the front-end's (a .pt2's forward argument "x", its last node
// "linear"), not always the names the generator saved them under. whole
// writes each array as one run (a leading axis of 1) instead.
func positional(c *corpus.Case, file string, n int, whole bool, dir string) (string, string, error) {
	ins, outs, err := c.Expected(file)
	if err != nil {
		return "", "", err
	}
	paths := [2]string{filepath.Join(dir, "inputs.npz"), filepath.Join(dir, "expected.npz")}
	for k, ts := range [2][]*tensor.Tensor{ins, outs} {
		var arrays []tensor.Named
		for i, t := range ts {
			if whole {
				one, err := t.Reshape(append([]int{1}, t.Shape...))
				if err != nil {
					return "", "", err
				}
				arrays = append(arrays, tensor.Named{Name: fmt.Sprintf("arr_%d", i), Tensor: one})
				continue
			}
			parts := make([]*tensor.Tensor, n)
			for s := range n {
				parts[s] = t.Slice(s)
			}
			first, err := tensor.Stack(parts)
			if err != nil {
				return "", "", err
			}
			arrays = append(arrays, tensor.Named{Name: fmt.Sprintf("arr_%d", i), Tensor: first})
		}
		if err := tensor.WriteNPZ(paths[k], arrays); err != nil {
			return "", "", err
		}
	}
	return paths[0], paths[1], nil
}

// worst returns the largest max abs error and its fraction of the output
// range over outs.
func worst(outs []output) (abs, rel float64, ok bool) {
	for _, o := range outs {
		abs = max(abs, o.Metrics.MaxAbs)
		if o.Metrics.RefRange > 0 {
			rel = max(rel, o.Metrics.MaxAbs/o.Metrics.RefRange)
		}
		ok = true
	}
	return abs, rel, ok
}

func printTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| model | format | exit | ref vs framework max abs | of range | device vs ref, of range | runtime | convert ms | ref ms/sample | ref64 vs framework float64, of range |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	var bad []string
	for _, r := range rows {
		refAbs, refRel, refOK := "–", "–", false
		if r.res.Framework != nil {
			a, rel, ok := worst(r.res.Framework.Outputs)
			if ok {
				refAbs, refRel, refOK = fmt.Sprintf("%.2g", a), fmt.Sprintf("%.1e", rel), true
				if rel > 1e-5 {
					refRel = "**" + refRel + "**"
				}
			}
		}
		dev := "–"
		if _, rel, ok := worst(r.res.Outputs); ok && r.res.Verdict != "error" {
			dev = fmt.Sprintf("%.1e", rel)
		}
		conv, refms := "–", "–"
		if r.res.ConvertMS > 0 {
			conv = fmt.Sprintf("%.0f", r.res.ConvertMS)
		}
		if r.res.ReferenceMS != nil && r.res.ReferenceMS.P50 > 0 {
			refms = fmt.Sprintf("%.3g", r.res.ReferenceMS.P50)
		}
		code := strconv.Itoa(r.code)
		if r.code != 0 {
			code = "**" + code + "**"
			bad = append(bad, fmt.Sprintf("- %s, %s: exit %d: %s", r.model, r.format, r.code, oneLine(r.err)))
		} else if !refOK {
			bad = append(bad, fmt.Sprintf("- %s, %s: no framework comparison in the result", r.model, r.format))
		}
		rt := r.res.Runtime.Name
		if rt == "" {
			rt = "–"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.model, r.format, code, refAbs, refRel, dev, rt, conv, refms, r.f64)
	}
	if len(bad) > 0 {
		fmt.Fprintf(w, "\nNot exit 0:\n\n%s\n", strings.Join(bad, "\n"))
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
