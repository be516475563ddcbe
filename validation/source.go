package validation

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/converter/quantize"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/precision"
)

// SourceOptions are what a front-end may need beyond the model file.
type SourceOptions struct {
	// ModelJSON is the Keras model.to_json() of a weights-only .h5.
	ModelJSON string
	// Arch is the PyTorch architecture YAML of a state_dict.
	Arch string
	// Batch is the graph's static batch size.
	Batch int
	// AllowUnused accepts weights the architecture never reads; they are
	// then listed in Source.Unused instead of failing the load.
	AllowUnused bool
	// PySource reads a PyTorch state_dict's architecture from the model's
	// own Python source (--source, --class, --class-args, --input-shape);
	// PySource.Path "" means none.
	PySource torch.SourceOptions
	// ReadHDF5 reads HDF5 files (see Options.ReadHDF5); nil: in-process.
	ReadHDF5 func(path string, opts hdf5.SnapshotOptions) (*hdf5.Snapshot, error)
}

// Source is a model read by its front-end.
type Source struct {
	Graph *graph.Graph
	// Hash is the model file's sha256.
	Hash string
	// Unused lists the file's weights the graph never reads (only with
	// AllowUnused: otherwise they fail the load).
	Unused []string
	// Notes say how the model was read (torch.Result.Notes; a Keras
	// Lambda decoded from its bytecode, keras.LoadReport.Notes).
	Notes []string
}

// LoadSource reads a source model into a graph in its framework's
// semantics, choosing the front-end by file extension. Weights the graph
// never reads fail the load unless o.AllowUnused.
func LoadSource(path string, o SourceOptions) (*Source, error) {
	// The hash is read as a stream: a whole copy of a large model's file
	// would stay resident (Go keeps a freed heap) while the front-end
	// makes the graph's own.
	hash, err := streamSHA256(path)
	if err != nil {
		return nil, fmt.Errorf("reading model: %w", err)
	}
	src := &Source{Hash: hash}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".h5", ".hdf5", ".keras":
		if o.PySource.Path != "" {
			return nil, usagef("--source %s reads a PyTorch state_dict's architecture, not a Keras model's", o.PySource.Path)
		}
		var rep *keras.LoadReport
		src.Graph, rep, err = keras.LoadWithReport(path, keras.Options{ConfigJSON: o.ModelJSON, Batch: o.Batch, Snapshot: o.ReadHDF5, AllowUnused: o.AllowUnused})
		if err == nil {
			src.Unused, src.Notes = rep.Unused, rep.Notes
		}
	case ".tflite":
		return nil, fmt.Errorf("%s is already a .tflite: give the source model, with --tflite %s to check this conversion, or use 'validate run' to just run it", path, path)
	case ".pth", ".pt", ".pt2":
		var r *torch.Result
		if r, err = torch.LoadResult(path, torch.Options{Arch: o.Arch, Batch: o.Batch, AllowUnused: o.AllowUnused, Source: o.PySource}); err == nil {
			src.Graph, src.Unused, src.Notes = r.Graph, r.Unused, r.Notes
		}
	default:
		return nil, fmt.Errorf("%s: unknown model format %q (want .h5, .keras, .pth, .pt, .pt2)", path, ext)
	}
	if err != nil {
		return nil, err
	}
	return src, nil
}

// ConvertOptions are a conversion's settings.
type ConvertOptions struct {
	// Batch is the static batch size.
	Batch int
	// Precision is the model's precision ("": float32).
	Precision precision.Precision
	// Int8IO gives an int8 model int8 inputs and outputs.
	Int8IO bool
	// NHWCIO gives channels-first inputs and outputs as channels-last ones.
	NHWCIO bool
	// FloatLayers keeps these layers in float32 in an int8 model
	// (selective quantization): each names a node of the canonical graph
	// (a source layer, with what was fused into it) or a value it
	// computes.
	FloatLayers []string
	// Method is how an int8 conversion takes each activation's range from
	// the calibration samples (zero: min/max).
	Method quantize.Method
}

// CalibrationSamples bounds the samples an int8 conversion is calibrated
// on: the first ones given, so that calibration memory and time do not grow
// with a large inputs file.
const CalibrationSamples = 256

// Convert turns a source graph into .tflite bytes and returns the
// canonical graph they were written from. An int8 conversion is calibrated
// on the first CalibrationSamples of samples (one tensor per graph input
// each) by running the canonical graph in the Go reference; the other
// precisions ignore them.
func Convert(g *graph.Graph, o ConvertOptions, samples golden.Samples) ([]byte, *graph.Graph, error) {
	return convert(g, o, samples, nil)
}

// convert is Convert calling canonicalized (when not nil) once the
// canonical graph is made, before it is written: from there on the
// writer reads the canonical graph's weights, not g's.
func convert(g *graph.Graph, o ConvertOptions, samples golden.Samples, canonicalized func()) ([]byte, *graph.Graph, error) {
	prec, err := precision.Parse(string(o.Precision))
	if err != nil {
		return nil, nil, usagef("--precision %q: want float32, float16, dynamic or int8", o.Precision)
	}
	cg, err := passes.Canonicalize(g, passes.Options{NHWCIO: o.NHWCIO})
	if err != nil {
		return nil, nil, err
	}
	opts := convtflite.Options{Batch: o.Batch, Precision: prec, Int8IO: o.Int8IO}
	if opts.Float, err = floatValues(cg, o.FloatLayers); err != nil {
		return nil, nil, err
	}
	if prec == precision.Int8 {
		if len(samples) == 0 {
			return nil, nil, fmt.Errorf("int8 needs a representative dataset to calibrate on")
		}
		if opts.Ranges, err = quantize.CalibrateWith(cg, samples[:min(len(samples), CalibrationSamples)], o.Method); err != nil {
			return nil, nil, err
		}
	}
	if canonicalized != nil {
		canonicalized()
	}
	b, _, err := convtflite.Convert(cg, opts)
	return b, cg, err
}

// InputSpecs describes g's inputs for loading or drawing samples.
func InputSpecs(g *graph.Graph) []golden.InputSpec {
	specs := make([]golden.InputSpec, len(g.Inputs))
	for i, in := range g.Inputs {
		specs[i] = golden.InputSpec{Name: in.Name, Shape: in.Shape, DType: in.DType}
		if in.Layout != graph.LayoutNone {
			specs[i].Layout = in.Layout.String()
		}
	}
	return specs
}

// floatValues returns the values of the canonical graph cg that the layers
// named in layers compute: the outputs of nodes of that name, or the value
// of that name. A name that matches nothing is a usage error listing the
// layers there are.
func floatValues(cg *graph.Graph, layers []string) ([]string, error) {
	var out []string
	for _, l := range layers {
		found := false
		for _, n := range cg.Nodes {
			for _, v := range n.Outputs {
				if n.Name == l || v.Name == l {
					found = true
					if !slices.Contains(out, v.Name) {
						out = append(out, v.Name)
					}
				}
			}
		}
		if !found {
			var names []string
			for _, n := range cg.Nodes {
				if !slices.Contains(names, n.Name) {
					names = append(names, n.Name)
				}
			}
			return nil, usagef("--float-layers: no layer %q in the converted graph (its layers, with what was fused into each: %s)", l, strings.Join(names, ", "))
		}
	}
	return out, nil
}
