//go:build cgo

package corpus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/reference/ref64"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert" // registers "litert"
	"github.com/edgeval/edgeval/tensor"
)

// The checks of one case. A model format F gives "ref/F"; the rest are one
// per case.
const (
	checkRef    = "ref/"                  // + format: Go reference vs the framework
	checkOurs   = "ours/litert"           // our .tflite on LiteRT vs the framework
	checkTF     = "real/litert"           // the real converter's .tflite (TFLiteConverter, litert-torch) on LiteRT vs the framework
	checkOursTF = "ours-vs-real/litert"   // ours vs the real converter's, both on LiteRT
	checkOursRT = "ours/"                 // + runtime name (tflite build tag): ours on the C runtime vs the framework
	checkTFC    = "real/tflite"           // the real converter's .tflite on the C runtime vs the framework
	checkAgree  = "ours/tflite-vs-litert" // ours: the C runtime vs LiteRT-WASM
)

// outcome is the result of one check of one case.
type outcome struct {
	caseID, check string
	err           error   // nil: pass
	skip          string  // not run, and why
	rel           float64 // max abs error / output range
}

// errNoFrontEnd marks a check that no front-end can run yet.
var errNoFrontEnd = errors.New("no front-end for this format")

// loadGraph reads a case's model file with the matching front-end.
func loadGraph(c *Case, m Model) (*graph.Graph, error) {
	switch c.Framework {
	case "keras":
		o := keras.Options{Batch: c.Batch()}
		if m.Config != "" {
			o.ConfigJSON = c.Path(m.Config)
		}
		return keras.Load(c.Path(m.File), o)
	case "torch":
		arch := ""
		switch {
		case c.Arch != "" && m.NeedsArch:
			arch = c.Path(c.Arch)
		case m.Format == "torch-full-pth":
			// A module tree of standard layers does not record its input
			// size: give it as a user would, with an input-only --arch.
			p, err := inputOnlyArch(c)
			if err != nil {
				return nil, err
			}
			arch = p
		}
		return loadTorch(c.Path(m.File), m, arch, c.Batch())
	}
	return nil, fmt.Errorf("unknown framework %q", c.Framework)
}

// archDir holds the input-only --arch files the tests write.
var archDir = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "corpus-arch-") })

// inputOnlyArch writes an --arch file that gives only the case's inputs.
func inputOnlyArch(c *Case) (string, error) {
	dir, err := archDir()
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString("format: edgeval-torch-arch/1\ninputs:\n")
	for _, in := range c.Inputs {
		dims := make([]string, len(in.Shape))
		for i, d := range in.Shape {
			dims[i] = strconv.Itoa(d)
		}
		fmt.Fprintf(&sb, "  - {name: %s, shape: [%s], dtype: %s}\n", in.Name, strings.Join(dims, ", "), in.DType)
	}
	p := filepath.Join(dir, strings.ReplaceAll(c.ID(), "/", "_")+".yaml")
	return p, os.WriteFile(p, []byte(sb.String()), 0o644)
}

// runReference evaluates g on the case's inputs (cast to g's input types),
// and measures each output's float32 noise floor against the float64
// evaluator, as validate does.
func runReference(g *graph.Graph, ins []*tensor.Tensor) ([]*tensor.Tensor, []float64, error) {
	if len(g.Inputs) != len(ins) {
		return nil, nil, fmt.Errorf("graph has %d inputs, the case %d", len(g.Inputs), len(ins))
	}
	args := make([]*tensor.Tensor, len(ins))
	for i, in := range ins {
		args[i] = Cast(in, g.Inputs[i].DType, nil)
	}
	got, err := reference.Run(g, args)
	if err != nil {
		return nil, nil, err
	}
	drift, err := ref64.Drift(g, [][]*tensor.Tensor{args}, [][]*tensor.Tensor{got})
	if err != nil {
		return nil, nil, fmt.Errorf("float64 reference: %w", err)
	}
	noise := make([]float64, len(drift))
	for i, d := range drift {
		noise[i] = d.MaxAbs
	}
	return got, noise, nil
}

// convert canonicalizes g and writes it as a float32 .tflite.
func convert(g *graph.Graph, batch int) ([]byte, error) {
	cg, err := passes.Canonicalize(g, passes.Options{})
	if err != nil {
		return nil, err
	}
	b, _, err := convtflite.Convert(cg, convtflite.Options{Batch: batch})
	return b, err
}

// runTFLite runs a .tflite on rt with the case's inputs: in one batch
// (our files, converted with the case's batch), or sample by sample in fresh
// batch-1 sessions (the real converter's, whose batch is dynamic: pinning it
// to N leaves shape constants at 1, and LiteRT.js fails on the second
// invoke of a model whose output shape is computed at run time).
func runTFLite(ctx context.Context, rt runtime.Runtime, c *Case, model []byte, ins []*tensor.Tensor, perSample bool) ([]*tensor.Tensor, error) {
	if !perSample {
		sess, err := rt.Open(ctx, model, runtime.Options{Batch: c.Batch(), Timeout: time.Minute})
		if err != nil {
			return nil, err
		}
		defer sess.Close()
		return RunMapped(ctx, sess, c.Inputs, ins, c.Outputs)
	}
	return RunPerSample(ctx, func() (runtime.Session, error) {
		return rt.Open(ctx, model, runtime.Options{Batch: 1, Timeout: time.Minute})
	}, c.Inputs, ins, c.Outputs)
}

// caseRun holds what the checks of one case computed, for later checks.
type caseRun struct {
	ours     []byte           // our .tflite
	oursOut  []*tensor.Tensor // its outputs on LiteRT
	tfOut    []*tensor.Tensor // the real converter's outputs on LiteRT
	inputs   []*tensor.Tensor
	expected []*tensor.Tensor // the framework outputs our .tflite is compared with
	noise    []float64        // each output's float32 noise floor (reference vs float64)
}

// walkCase runs every check of one case on LiteRT.
func walkCase(ctx context.Context, lit runtime.Runtime, c *Case) ([]outcome, *caseRun) {
	var outs []outcome
	add := func(check string, rel float64, err error) {
		o := outcome{caseID: c.ID(), check: check, err: err, rel: rel}
		if errors.Is(err, errNoFrontEnd) {
			o.err, o.skip = nil, err.Error()
		}
		outs = append(outs, o)
	}
	names := make([]string, len(c.Outputs))
	for i, o := range c.Outputs {
		names[i] = o.Name
	}
	run := &caseRun{}
	var conv *graph.Graph
	var convExpected []*tensor.Tensor
	for _, m := range c.Models {
		ins, want, err := c.Expected(m.Expected)
		if err != nil {
			add(checkRef+m.Format, 0, err)
			continue
		}
		g, err := loadGraph(c, m)
		if err != nil {
			add(checkRef+m.Format, 0, fmt.Errorf("load: %w", err))
			continue
		}
		if conv == nil {
			conv, convExpected, run.inputs = g, want, ins
		}
		got, noise, err := runReference(g, ins)
		if err != nil {
			add(checkRef+m.Format, 0, fmt.Errorf("reference: %w", err))
			continue
		}
		if run.noise == nil {
			run.noise = noise
		}
		rel, err := CompareNoise(precision.Float32, names, want, got, noise)
		add(checkRef+m.Format, rel, err)
	}
	if conv == nil {
		add(checkOurs, 0, fmt.Errorf("no model file could be loaded"))
	} else {
		run.expected = convExpected
		b, err := convert(conv, c.Batch())
		if err != nil {
			add(checkOurs, 0, fmt.Errorf("convert: %w", err))
		} else {
			run.ours = b
			got, err := runTFLite(ctx, lit, c, b, run.inputs, false)
			if err != nil {
				add(checkOurs, 0, fmt.Errorf("litert: %w", err))
			} else {
				run.oursOut = got
				rel, err := CompareNoise(precision.Float32, names, convExpected, got, run.noise)
				add(checkOurs, rel, err)
			}
		}
	}
	if tf, ok := c.TFLiteOf("float32"); ok {
		ins, want, err := c.Expected(tf.Expected)
		if err == nil {
			var model []byte
			model, err = readFile(c.Path(tf.File))
			if err == nil {
				run.tfOut, err = runTFLite(ctx, lit, c, model, ins, !tf.StaticBatch)
			}
		}
		if err != nil {
			add(checkTF, 0, err)
		} else {
			rel, err := CompareNoise(precision.Float32, names, want, run.tfOut, run.noise)
			add(checkTF, rel, err)
		}
		switch {
		case run.tfOut == nil:
			add(checkOursTF, 0, fmt.Errorf("the real converter's .tflite did not run"))
		case run.oursOut == nil:
			add(checkOursTF, 0, fmt.Errorf("our .tflite did not run"))
		default:
			rel, err := CompareNoise(precision.Float32, names, run.tfOut, run.oursOut, run.noise)
			add(checkOursTF, rel, err)
		}
	}
	for _, tf := range c.TFLite {
		p, ok := quantPrecisions[tf.Precision]
		if !ok {
			continue
		}
		check := "real-" + tf.Precision + "/litert"
		ins, want, err := c.Expected(tf.Expected)
		var got []*tensor.Tensor
		if err == nil {
			var model []byte
			if model, err = readFile(c.Path(tf.File)); err == nil {
				got, err = runTFLite(ctx, lit, c, model, ins, !tf.StaticBatch)
			}
		}
		if err != nil {
			add(check, 0, err)
			continue
		}
		rel, err := ComparePrecision(p, names, want, got)
		add(check, rel, err)
	}
	return outs, run
}

// cRuntimeCheck says whether a check runs on the TFLite C runtime (in
// TestCorpusTFLiteC, -tags tflite).
func cRuntimeCheck(check string) bool {
	return strings.HasSuffix(check, "/tflite") || strings.HasPrefix(check, checkOursRT+"tflite")
}

// quantPrecisions maps the real converter's quantized files to the
// tolerance policy they are held to.
var quantPrecisions = map[string]precision.Precision{"float16": precision.Float16, "dynamic": precision.Dynamic, "int8": precision.Int8}

// tally counts outcomes per check family and judges them against the known
// failures: an unlisted failure, a listed failure that passes, and a listed
// entry that matches no check are all errors.
// owns says which checks of KNOWN_FAILURES the calling test runs.
func tally(t *testing.T, outs []outcome, known KnownFailures, owns func(check string) bool) {
	t.Helper()
	type count struct {
		pass, fail, known, skip int
		worst                   float64 // largest max-abs error / range among the passes
		worstCase               string
	}
	counts := map[string]*count{}
	seen := map[string]bool{}
	for _, o := range outs {
		fam := o.check + " (" + strings.SplitN(o.caseID, "/", 2)[0] + ")"
		if counts[fam] == nil {
			counts[fam] = &count{}
		}
		cnt := counts[fam]
		key := Key(o.caseID, o.check)
		reason, listed := known[key]
		seen[key] = true
		switch {
		case o.skip != "":
			cnt.skip++
		case o.err == nil && listed:
			cnt.pass++
			t.Errorf("%s passes (max error %.2g of range) but KNOWN_FAILURES lists it (%s): remove the line", key, o.rel, reason)
		case o.err == nil:
			cnt.pass++
			if o.rel >= cnt.worst {
				cnt.worst, cnt.worstCase = o.rel, o.caseID
			}
		case listed:
			cnt.known++
		default:
			cnt.fail++
			t.Errorf("%s: %v", key, o.err)
		}
	}
	for key := range known {
		if !seen[key] && owns(strings.Fields(key)[1]) {
			t.Errorf("KNOWN_FAILURES lists %s, which is no check of the corpus", key)
		}
	}
	fams := make([]string, 0, len(counts))
	for f := range counts {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	var sb strings.Builder
	fmt.Fprintf(&sb, "corpus summary (%d checks):\n", len(outs))
	fmt.Fprintf(&sb, "  %-34s %5s %5s %6s %5s  %s\n", "check", "pass", "fail", "known", "skip", "worst passing error/range (case)")
	for _, f := range fams {
		c := counts[f]
		worst := "-"
		if c.worstCase != "" {
			worst = fmt.Sprintf("%.2g (%s)", c.worst, c.worstCase)
		}
		fmt.Fprintf(&sb, "  %-34s %5d %5d %6d %5d  %s\n", f, c.pass, c.fail, c.known, c.skip, worst)
	}
	t.Log(sb.String())
}

// TestCorpus walks every case of testdata/corpus: the Go reference against
// the framework, our .tflite on LiteRT against the framework, and against
// the real converter's .tflite.
func TestCorpus(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	cases, err := Load(dir)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 150, "the corpus should have at least 150 cases")
	known, err := ReadKnownFailures(filepath.Join(dir, "KNOWN_FAILURES"))
	require.NoError(t, err)
	lit, err := runtime.Get("litert")
	require.NoError(t, err)

	ctx := context.Background()
	var all []outcome
	for _, c := range cases {
		outs, _ := walkCase(ctx, lit, c)
		all = append(all, outs...)
	}
	tally(t, all, known, func(check string) bool { return !cRuntimeCheck(check) })
}

// TestCorpusCoversTheIssues checks that every layer the Keras and PyTorch
// issues name is covered by at least two cases.
func TestCorpusCoversTheIssues(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	cases, err := Load(dir)
	require.NoError(t, err)
	n := map[string]int{}
	for _, c := range cases {
		for _, l := range c.Layers {
			n[c.Framework+"/"+l]++
		}
	}
	kerasLayers := []string{"Dense", "Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose",
		"MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
		"GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "BatchNormalization", "Activation",
		"ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Flatten", "Reshape", "Permute", "Dropout", "ZeroPadding2D",
		"Cropping2D", "UpSampling2D", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
		"Embedding", "LayerNormalization", "Rescaling", "InputLayer", "MultiHeadAttention", "Normalization", "LayerScale",
		"StochasticDepth",
		// issue 12: the recurrent layers
		"LSTM", "GRU", "SimpleRNN", "Bidirectional"}
	torchLayers := []string{"Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "MaxPool2d",
		"AvgPool2d", "AdaptiveAvgPool2d", "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU", "Hardswish",
		"Hardsigmoid", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Flatten", "Dropout", "Identity", "Upsample",
		"Embedding", "LayerNorm", "MultiheadAttention", "TransformerEncoder", "TransformerEncoderLayer",
		// issue 12: the recurrent modules
		"LSTM", "GRU", "RNN"}
	var missing []string
	for _, l := range kerasLayers {
		if n["keras/"+l] < 2 && !slices.Contains([]string{"InputLayer"}, l) {
			missing = append(missing, "keras/"+l)
		}
	}
	for _, l := range torchLayers {
		if n["torch/"+l] < 2 {
			missing = append(missing, "torch/"+l)
		}
	}
	assert.Empty(t, missing, "layers in fewer than two cases")
}

// TestMain removes the input-only --arch files.
func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := archDir(); err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}
