package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/converter/quantize"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

// sourceOptions are what a front-end may need beyond the model file.
type sourceOptions struct {
	ModelJSON string // Keras model.to_json() for a weights-only .h5
	Arch      string // PyTorch architecture YAML for a state_dict
	Batch     int
	// AllowUnused accepts weights the architecture never reads; they are
	// then listed in source.Unused instead of failing the load.
	AllowUnused bool
}

// source is a model read by its front-end.
type source struct {
	Graph *graph.Graph
	// Hash is the model file's sha256.
	Hash string
	// Unused lists the file's weights the graph never reads (only with
	// AllowUnused: otherwise they fail the load).
	Unused []string
}

// loadSource reads a source model into a graph in its framework's
// semantics, choosing the front-end by file extension. Weights the graph
// never reads fail the load unless o.AllowUnused.
func loadSource(path string, o sourceOptions) (*source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading model: %w", err)
	}
	sum := sha256.Sum256(b)
	src := &source{Hash: hex.EncodeToString(sum[:])}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".h5", ".hdf5", ".keras":
		// libhdf5 runs in a child process: a corrupt file crashes it, not us.
		var rep *keras.LoadReport
		src.Graph, rep, err = keras.LoadWithReport(path, keras.Options{ConfigJSON: o.ModelJSON, Batch: o.Batch, Snapshot: snapshotInChild, AllowUnused: o.AllowUnused})
		if err == nil {
			src.Unused = rep.Unused
		}
	case ".tflite":
		return nil, fmt.Errorf("%s is already a .tflite: give the source model, with --tflite %s to check this conversion, or use 'validate run' to just run it", path, path)
	case ".pth", ".pt", ".pt2":
		var r *torch.Result
		if r, err = torch.LoadResult(path, torch.Options{Arch: o.Arch, Batch: o.Batch, AllowUnused: o.AllowUnused}); err == nil {
			src.Graph, src.Unused = r.Graph, r.Unused
		}
	default:
		return nil, fmt.Errorf("%s: unknown model format %q (want .h5, .keras, .pth, .pt, .pt2)", path, ext)
	}
	if err != nil {
		return nil, err
	}
	return src, nil
}

// convertGraph turns a source graph into .tflite bytes, and returns the
// canonical graph they were written from. An int8 conversion needs
// calibration samples: see convertCalibrated.
func convertGraph(g *graph.Graph, f *validateFlags) ([]byte, *graph.Graph, error) {
	return convertCalibrated(g, f, nil)
}

// convertCalibrated is convertGraph at f's precision; an int8 conversion
// is calibrated on samples (the validation inputs, one tensor per graph
// input each) by running the canonical graph in the Go reference.
func convertCalibrated(g *graph.Graph, f *validateFlags, samples [][]*tensor.Tensor) ([]byte, *graph.Graph, error) {
	prec, err := converterPrecision(f.precision)
	if err != nil {
		return nil, nil, err
	}
	cg, err := passes.Canonicalize(g, passes.Options{NHWCIO: f.nhwcIO})
	if err != nil {
		return nil, nil, err
	}
	opts := convtflite.Options{Batch: f.batch, Precision: prec, Int8IO: f.int8IO}
	if prec == precision.Int8 {
		if len(samples) == 0 {
			return nil, nil, fmt.Errorf("int8 needs a representative dataset to calibrate on")
		}
		if opts.Ranges, err = quantize.Calibrate(cg, samples); err != nil {
			return nil, nil, err
		}
	}
	b, _, err := convtflite.Convert(cg, opts)
	return b, cg, err
}

// converterPrecision parses a --precision value ("" is float32).
func converterPrecision(p string) (precision.Precision, error) {
	prec, err := precision.Parse(p)
	if err != nil {
		return "", usagef("--precision %q: want float32, float16, dynamic or int8", p)
	}
	return prec, nil
}
