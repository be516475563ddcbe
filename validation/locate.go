package validation

import (
	"context"

	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/locate"
)

// locateSamples bounds how many samples the divergence search runs: it
// exposes every tensor of the model, so each run moves all activations.
const locateSamples = 2

// locate looks for the first diverging pass or layer of a failed
// conversion and records it in the result. It is best effort: a failure
// to locate is reported on progress and does not change the verdict.
func (p *pipeline) locate(ctx context.Context) {
	o := p.o
	if fc := p.res.Framework; fc != nil && !fc.Pass {
		o.step("not locating a divergence in the .tflite: the Go reference itself disagrees with the framework's outputs")
		return
	}
	if p.canonical == nil {
		o.step("not locating the divergence: the .tflite was not converted here (--tflite), so its tensors have no source names")
		return
	}
	samples, err := samplesOf(p.refInputs(), 0, min(p.in.Len(), locateSamples))
	if err != nil {
		o.step("could not locate the divergence: %v", err)
		return
	}
	o.step("locating the first divergence (converter passes, then layers on %s)", o.Device)
	d, err := locate.Passes(p.source, passes.Pipeline(passes.Options{NHWCIO: o.NHWCIO}), samples, p.noise)
	if err == nil && d == nil {
		// The canonical graph takes the device's layout (NHWCIO).
		inPerm, _ := p.ioPerms()
		devSamples := make(golden.Samples, len(samples))
		for s, sample := range samples {
			for gi, t := range sample {
				pt, perr := permuted(t, inPerm[gi])
				if perr != nil {
					o.step("could not locate the divergence: %v", perr)
					return
				}
				devSamples[s] = append(devSamples[s], pt)
			}
		}
		d, err = locate.Layers(ctx, p.canonical, p.tflite, locate.Opener(o.Open), devSamples)
	}
	switch {
	case err != nil:
		o.step("could not locate the divergence: %v", err)
	case d == nil:
		o.step("no single layer diverges beyond tolerance on %d samples", len(samples))
	default:
		p.res.Divergence = d
		o.step("%s", d)
	}
}
