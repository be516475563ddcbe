package validation

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/locate"
	"github.com/edgeval/edgeval/precision"
)

// locateSamples bounds how many samples the divergence search of a failed
// validation runs: it exposes every tensor of the model, so each run moves
// all activations.
const locateSamples = 2

// locate looks for the first diverging pass or layer of a failed
// validation and records it in the result. It is best effort: a failure
// to locate is reported on progress and does not change the verdict.
func (p *pipeline) locate(ctx context.Context) {
	o := p.o
	if fc := p.res.Framework; fc != nil && !fc.Pass {
		o.step("not locating a divergence in the .tflite: the Go reference itself disagrees with the framework's outputs")
		return
	}
	samples, err := samplesOf(p.refInputs(), 0, min(p.in.Len(), locateSamples))
	if err != nil {
		o.step("could not locate the divergence: %v", err)
		return
	}
	pass, table, err := p.divergence(ctx, samples)
	switch {
	case err != nil:
		o.step("could not locate the divergence: %v", err)
	case pass != nil:
		p.res.Divergence = pass
		o.step("%s", pass)
	default:
		p.layers = table
		if o.Progress != nil {
			var b strings.Builder
			_ = table.WriteText(&b)
			for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
				o.step("  %s", line)
			}
		}
		if d := table.Finding(); d != nil {
			p.res.Divergence = d
			o.step("%s", d)
		} else {
			o.step("no single layer's own error exceeds what its precision explains on %d samples", len(samples))
		}
	}
}

// divergence replays the converter passes (for a conversion made here)
// and, when none changes the outputs, compares the .tflite layer by layer
// with the reference (locate.Table) on samples as the reference sees them:
// with the canonical graph its tensors are named after, or, for a .tflite
// given with TFLite, with the source graph (the TF converter's tensor names
// mapped to its layers).
func (p *pipeline) divergence(ctx context.Context, samples golden.Samples) (*compare.Divergence, *locate.Report, error) {
	o := p.o
	g := p.source
	canonical, err := p.canonicalGraph()
	if err != nil {
		return nil, nil, err
	}
	if canonical != nil {
		o.step("locating the first divergence (converter passes, then layers on %s)", o.Device)
		d, err := locate.Passes(p.source, passes.Pipeline(passes.Options{NHWCIO: o.NHWCIO}), samples, p.noise)
		if err != nil || d != nil {
			return d, nil, err
		}
		g = canonical
		// The canonical graph takes the device's layout (NHWCIO).
		inPerm, _ := p.ioPerms()
		permutedSamples := make(golden.Samples, len(samples))
		for s, sample := range samples {
			for gi, t := range sample {
				pt, err := permuted(t, inPerm[gi])
				if err != nil {
					return nil, nil, err
				}
				permutedSamples[s] = append(permutedSamples[s], pt)
			}
		}
		samples = permutedSamples
	} else {
		o.step("comparing %s layer by layer with %s on %s", o.TFLite, o.Model, o.Device)
	}
	table, err := locate.Table(ctx, g, p.tflite, locate.Opener(o.Open), samples)
	return nil, table, err
}

// LocateResult is what Locate found: the JSON of `validate locate`.
type LocateResult struct {
	SchemaVersion int    `json:"schema_version"`
	Model         string `json:"model"`
	// TFLite is the .tflite given (empty for a conversion made here).
	TFLite    string              `json:"tflite,omitempty"`
	Precision precision.Precision `json:"precision"`
	Device    string              `json:"device"`
	Samples   int                 `json:"samples"`
	// Divergence is the first converter pass that changes the outputs,
	// or else the first layer whose own error exceeds what its precision
	// explains; nil when neither.
	Divergence *compare.Divergence `json:"divergence,omitempty"`
	// Layers is the per-layer table (nil when a pass diverges first).
	Layers *locate.Report `json:"layers,omitempty"`
	// Calibration says what an int8 conversion made here was calibrated
	// on (nil otherwise).
	Calibration *compare.CalibrationInfo `json:"calibration,omitempty"`
	// Warnings are things a reader must know (a calibration set that
	// overlaps the inputs).
	Warnings []string `json:"warnings,omitempty"`
}

// WriteText writes the table and the finding.
func (r *LocateResult) WriteText(w io.Writer) error {
	if r.Layers != nil {
		if err := r.Layers.WriteText(w); err != nil {
			return err
		}
	}
	if r.Calibration != nil {
		if _, err := fmt.Fprintf(w, "calibrate %s\n", r.Calibration); err != nil {
			return err
		}
	}
	for _, warn := range r.Warnings {
		if _, err := fmt.Fprintf(w, "warning   %s\n", warn); err != nil {
			return err
		}
	}
	if r.Divergence != nil && r.Divergence.Stage == "pass" {
		_, err := fmt.Fprintf(w, "%s\n", r.Divergence)
		return err
	}
	return nil
}

// Locate compares a model's .tflite with its reference layer by layer,
// whether or not its outputs pass: converted here at Options.Precision (the
// converter passes are replayed first), or given with Options.TFLite (its
// precision read from the file, its TF converter tensor names mapped to
// the source model's layers). Every sample of Options' inputs is used.
func Locate(ctx context.Context, opts Options) (*LocateResult, error) {
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	p := &pipeline{o: &o, res: &compare.Result{}}
	if o.TFLite != "" {
		if p.tflite, err = os.ReadFile(o.TFLite); err != nil {
			return nil, inputErr(fmt.Errorf("reading model: %w", err))
		}
		if err := o.filePrecision(p.tflite); err != nil {
			return nil, err
		}
	}
	o.step("reading %s", o.Model)
	src, err := LoadSource(o.Model, SourceOptions{ModelJSON: o.ModelJSON, Arch: o.Arch, PySource: o.PySource, Batch: o.Batch, AllowUnused: o.AllowUnused, ReadHDF5: o.ReadHDF5})
	if err != nil {
		return nil, inputErr(err)
	}
	p.source = src.Graph
	if p.in, p.data, err = o.openSamples(InputSpecs(p.source)); err != nil {
		return nil, err
	}
	defer p.in.Close()
	samples, err := samplesOf(p.in, 0, p.in.Len())
	if err != nil {
		return nil, inputErr(err)
	}
	var (
		calibInfo *compare.CalibrationInfo
		warnings  []string
	)
	if o.TFLite == "" {
		if len(o.FloatLayers) > 0 {
			o.step("converting to .tflite (%s, batch %d; kept in float32: %s)", o.Precision, o.Batch, strings.Join(o.FloatLayers, ", "))
		} else {
			o.step("converting to .tflite (%s, batch %d)", o.Precision, o.Batch)
		}
		var calib golden.Samples
		if o.Precision == precision.Int8 {
			path := o.Inputs + o.Dataset
			c, warn, err := o.calibrationSet(InputSpecs(p.source), golden.Samples(samples), path, p.data)
			if err != nil {
				return nil, err
			}
			calib, calibInfo, warnings = c.samples, c.info, warn
			o.step("calibrating on %s", c.info)
		}
		if p.tflite, p.canonical, err = Convert(p.source, ConvertOptions{Batch: o.Batch, Precision: o.Precision, Int8IO: o.Int8IO, NHWCIO: o.NHWCIO, FloatLayers: o.FloatLayers, Method: o.CalibrationMethod}, calib); err != nil {
			return nil, inputErr(fmt.Errorf("%s: converting: %w", o.Model, err))
		}
	}
	pass, table, err := p.divergence(ctx, samples)
	if err != nil {
		return nil, err
	}
	r := &LocateResult{
		SchemaVersion: 1, Model: o.Model, TFLite: o.TFLite, Precision: o.Precision, Device: o.Device,
		Samples: len(samples), Divergence: pass, Layers: table, Calibration: calibInfo, Warnings: warnings,
	}
	if table != nil {
		r.Divergence = table.Finding()
	}
	return r, nil
}
