package validation

import (
	"context"
	"fmt"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
)

// Converted is what ConvertModel made.
type Converted struct {
	// TFLite is the .tflite file's bytes.
	TFLite []byte
	// Nodes is the number of nodes of the source graph.
	Nodes int
	// Took is the conversion's time (reading the source not included).
	Took time.Duration
	// Calibration says what an int8 conversion was calibrated on (nil for
	// the other precisions).
	Calibration *compare.CalibrationInfo
	// Warnings are things the user must know (a calibration set that
	// overlaps the --inputs or --dataset given with it).
	Warnings []string
}

// ConvertModel reads o.Model as Run does (o.ModelJSON, o.Arch, o.Batch,
// o.AllowUnused, o.ReadHDF5) and converts it at o.Precision with o.Int8IO
// and o.NHWCIO: what `validate convert` does. An int8 conversion is
// calibrated on up to CalibrationSamples of o.Calibration with
// o.CalibrationMethod (compared with o.Inputs or o.Dataset when given
// too), else of o's inputs (o.Inputs or o.Dataset, else o.Samples seeded
// samples over o.Range). Nothing is opened on a device, so
// o.Open may be nil.
func ConvertModel(ctx context.Context, o Options) (*Converted, error) {
	o, err := o.resolvedOffline()
	if err != nil {
		return nil, err
	}
	src, err := LoadSource(o.Model, o.sourceOptions())
	if err != nil {
		return nil, inputErr(err)
	}
	var (
		calib golden.Samples
		info  *compare.CalibrationInfo
		warn  []string
	)
	if o.Precision == precision.Int8 {
		specs := InputSpecs(src.Graph)
		var c *calibration
		if o.Calibration != "" && o.Inputs == "" && o.Dataset == "" {
			// Nothing to compare the set with: a conversion alone.
			c, warn, err = o.calibrationSet(specs, golden.Samples(nil), "", nil)
		} else {
			in, data, oerr := o.openSamples(specs)
			if oerr != nil {
				return nil, oerr
			}
			c, warn, err = o.calibrationSet(specs, in, o.Inputs+o.Dataset, data)
			in.Close()
		}
		if err != nil {
			return nil, err
		}
		calib, info = c.samples, c.info
		if o.Calibration == "" {
			// A conversion alone: its inputs are its calibration set.
			info.Source = compare.CalibrationSet
			if info.Path == "" {
				info.Source = compare.CalibrationSeeded
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	b, _, err := Convert(src.Graph, ConvertOptions{Batch: o.Batch, Precision: o.Precision, Int8IO: o.Int8IO, NHWCIO: o.NHWCIO, Method: o.CalibrationMethod}, calib)
	if err != nil {
		return nil, inputErr(fmt.Errorf("%s: converting: %w", o.Model, err))
	}
	return &Converted{TFLite: b, Nodes: len(src.Graph.Nodes), Took: time.Since(t0), Calibration: info, Warnings: warn}, nil
}

// Evaluated is what Reference did.
type Evaluated struct {
	// Samples is the number of samples evaluated.
	Samples int
	// Took is the evaluation's time, all samples (reading the source and
	// writing the file not included).
	Took time.Duration
}

// Reference evaluates o.Model with the Go float reference on o's inputs
// (o.Inputs, else o.Samples seeded samples over o.Range), o.Batch samples
// per run, and writes the outputs to out as .npz, keyed by output name,
// first axis = samples: what `validate reference` does. o.Open may be nil.
func Reference(ctx context.Context, o Options, out string) (*Evaluated, error) {
	o, err := o.resolvedOffline()
	if err != nil {
		return nil, err
	}
	src, err := LoadSource(o.Model, o.sourceOptions())
	if err != nil {
		return nil, inputErr(err)
	}
	g := src.Graph
	prog, err := reference.Prepare(g)
	if err != nil {
		return nil, inputErr(fmt.Errorf("%s: %w", o.Model, err))
	}
	in, _, err := o.openSamples(InputSpecs(g))
	if err != nil {
		return nil, err
	}
	defer in.Close()
	samples, err := samplesOf(in, 0, in.Len())
	if err != nil {
		return nil, inputErr(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	outs, err := prog.RunBatch(samples)
	if err != nil {
		return nil, inputErr(fmt.Errorf("%s: %w", o.Model, err))
	}
	took := time.Since(t0)
	names := make([]string, len(g.Outputs))
	for i, v := range g.Outputs {
		names[i] = v.Name
	}
	if err := golden.WriteNPZ(out, names, outs, o.Batch); err != nil {
		return nil, inputErr(err)
	}
	return &Evaluated{Samples: len(samples), Took: took}, nil
}

// sourceOptions are the options LoadSource takes from o.
func (o *Options) sourceOptions() SourceOptions {
	return SourceOptions{ModelJSON: o.ModelJSON, Arch: o.Arch, PySource: o.PySource, Batch: o.Batch, AllowUnused: o.AllowUnused, ReadHDF5: o.ReadHDF5}
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
