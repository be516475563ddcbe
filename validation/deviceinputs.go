package validation

import (
	"context"
	"fmt"
	"os"

	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/runtime"
)

// Prepared is a model made ready to run on a device that validate does not
// drive itself (a board farm's job runs it offline): the .tflite Run would
// run, and every sample as that device's session takes it.
type Prepared struct {
	// TFLite is the .tflite: converted as Run converts it, or o.TFLite.
	TFLite []byte
	// Inputs holds each sample in the device's input order and dtypes
	// (quantized, laid out as the .tflite takes them), exactly what Run
	// gives the session's Run for that sample.
	Inputs golden.Samples
	// InputInfos are the device's inputs as Describe gave them, in the
	// order of each sample's tensors.
	InputInfos []runtime.TensorInfo
	// Samples is the number of samples.
	Samples int
}

// Describe returns the inputs a session opened on model would report
// (runtime.Session.Inputs), read from the model without a runtime.
type Describe func(model []byte) ([]runtime.TensorInfo, error)

// PrepareDevice reads o.Model and o's samples as Run does, converts the
// model as Run converts it (o.Precision, o.Batch, o.Int8IO, o.NHWCIO,
// o.FloatLayers, an int8 calibration on the same set), or reads o.TFLite,
// and feeds each sample through Run's own matching and quantizing of
// device inputs against describe's inputs. Run given the same options then
// computes the same .tflite and hands its session the same tensors, so a
// device that ran Prepared offline can be replayed to Run (see Recorded).
// o.Open may be nil.
func PrepareDevice(ctx context.Context, o Options, describe Describe) (*Prepared, error) {
	o, err := o.resolvedOffline()
	if err != nil {
		return nil, err
	}
	src, err := LoadSource(o.Model, o.sourceOptions())
	if err != nil {
		return nil, inputErr(err)
	}
	g := src.Graph
	in, data, err := o.openSamples(InputSpecs(g))
	if err != nil {
		return nil, err
	}
	defer in.Close()
	p := &pipeline{o: &o, source: g, in: in}
	if o.TFLite != "" {
		if p.tflite, err = os.ReadFile(o.TFLite); err != nil {
			return nil, inputErr(fmt.Errorf("reading model: %w", err))
		}
		if err := o.filePrecision(p.tflite); err != nil {
			return nil, err
		}
	} else if err := p.convertForDevice(ctx, g, data); err != nil {
		return nil, err
	}
	infos, err := describe(p.tflite)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Model, err)
	}
	names := make([]string, len(g.Inputs))
	for i, v := range g.Inputs {
		names[i] = v.Name
	}
	order, err := matchIO("input", names, infos, graphShapes(g.Inputs))
	if err != nil {
		return nil, inputErr(err)
	}
	inPerm, _ := p.ioPerms()
	first, err := in.Sample(0)
	if err != nil {
		return nil, inputErr(err)
	}
	if p.feed, err = newFeeder(infos, order, inPerm, first); err != nil {
		return nil, err
	}
	out := &Prepared{TFLite: p.tflite, InputInfos: infos, Samples: in.Len(), Inputs: make(golden.Samples, in.Len())}
	for s := range out.Inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if out.Inputs[s], err = p.deviceSample(s); err != nil {
			return nil, inputErr(err)
		}
	}
	return out, nil
}

// convertForDevice is Run's conversion step.
func (p *pipeline) convertForDevice(ctx context.Context, g *graph.Graph, data *golden.Dataset) error {
	o := p.o
	var calib golden.Samples
	if o.Precision == precision.Int8 {
		c, _, err := o.calibrationSet(InputSpecs(g), p.in, o.Inputs+o.Dataset, data)
		if err != nil {
			return err
		}
		calib = c.samples
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	p.tflite, p.canonical, err = Convert(g, ConvertOptions{Batch: o.Batch, Precision: o.Precision, Int8IO: o.Int8IO, NHWCIO: o.NHWCIO, FloatLayers: o.FloatLayers, Method: o.CalibrationMethod}, calib)
	if err != nil {
		return inputErr(fmt.Errorf("%s: converting: %w", o.Model, err))
	}
	return nil
}
