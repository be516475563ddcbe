package validation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/golden"
)

// describeData records in the result where the samples came from and how
// they were prepared, when they are images.
func (p *pipeline) describeData() {
	d := p.data
	if d == nil {
		return
	}
	o := p.o
	pre := o.Preprocess
	info := &compare.DatasetInfo{
		Path: d.Path(), Labelled: d.Labels() != nil, Images: p.in.Len() * d.Batch(), Available: d.Available(),
		Classes: len(d.Classes()), Shuffle: o.Shuffle, Scale: 1, Mean: pre.Mean, Std: pre.Std,
		Color: string(d.Color()), Layout: d.Layout(), Skipped: len(d.Skipped()),
	}
	if pre.Resize != [2]int{} {
		info.Resize = []int{pre.Resize[0], pre.Resize[1]}
	}
	if pre.Scale != 0 {
		info.Scale = pre.Scale
	}
	p.res.Dataset = info
	o.step("%d images from %s (%s, %s)", info.Images, d.Path(), info.Layout, info.Color)
	if n := len(d.Skipped()); n > 0 {
		o.step("skipped %d files that are not images, e.g. %s", n, d.Skipped()[0])
	}
}

// accuracy measures the reference's and the device's accuracy against
// the dataset's labels, on the output that gives class scores.
func (p *pipeline) accuracy() error {
	d := p.data
	if d == nil || d.Labels() == nil {
		return nil
	}
	o := p.o
	i, err := p.accuracyOutput()
	if err != nil {
		return err
	}
	name := p.outNames[i]
	ref, err := golden.Gather(p.refOut, i, o.Batch)
	if err != nil {
		return err
	}
	dev, err := golden.Gather(p.devOut, i, o.Batch)
	if err != nil {
		return err
	}
	labels := d.Labels()[:p.in.Len()*d.Batch()]
	a, err := compare.MeasureAccuracy(name, ref, dev, labels, compare.AccuracyOptions{MaxDrop: o.MaxAccuracyDrop, ClassNames: d.Classes()})
	if err != nil {
		return inputErr(fmt.Errorf("%s: %w", d.Path(), err))
	}
	p.res.Accuracy = a
	if k := len(d.Classes()); k != a.Classes {
		p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("the dataset %s has %d classes but output %q gives %d scores: a class's index is its folder's place in sorted order, so a missing class folder shifts every class after it", d.Path(), k, name, a.Classes))
	}
	return nil
}

// accuracyOutput picks the output judged for accuracy: o.AccuracyOutput,
// else the only output of class scores (rank 2).
func (p *pipeline) accuracyOutput() (int, error) {
	if n := p.o.AccuracyOutput; n != "" {
		i := slices.Index(p.outNames, n)
		if i < 0 {
			return 0, usagef("accuracy output %q: the model's outputs are %v", n, p.outNames)
		}
		return i, nil
	}
	var ranked []int
	for i, out := range p.res.Outputs {
		if len(out.Shape) == 2 {
			ranked = append(ranked, i)
		}
	}
	if len(ranked) == 1 {
		return ranked[0], nil
	}
	shapes := make([]string, len(p.res.Outputs))
	for i, out := range p.res.Outputs {
		shapes[i] = fmt.Sprintf("%s %v", out.Name, out.Shape)
	}
	return 0, inputErr(fmt.Errorf("%s: labels need one output of class scores ([N, C]); the model has %d of %d outputs of rank 2 (%s): name it with AccuracyOutput", p.data.Path(), len(ranked), len(p.res.Outputs), strings.Join(shapes, ", ")))
}

// calibrationSamples are the samples an int8 conversion is calibrated on:
// the first CalibrationSamples of an inputs file or of the seeded samples,
// and, from a dataset or image folder (spread), CalibrationSamples spread
// evenly over it (an ImageFolder is sorted by class: its first images are
// one or two classes, which would calibrate the activations' ranges on
// those alone).
func calibrationSamples(in golden.SampleReader, spread bool) (golden.Samples, error) {
	n := in.Len()
	k := min(n, CalibrationSamples)
	if !spread || k == n {
		return samplesOf(in, 0, k)
	}
	out := make(golden.Samples, 0, k)
	for j := range k {
		s, err := in.Sample(j * n / k)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
