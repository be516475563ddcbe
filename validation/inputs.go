package validation

import (
	"fmt"

	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/tensor"
)

// inputSource gives a validation's samples one at a time: a file read
// where each sample lies (golden.InputStream) or seeded samples drawn as
// asked (golden.RandomStream).
type inputSource interface {
	golden.SampleReader
	Close() error
}

// openInputs opens the samples described by specs: the first n of file's
// (0: all; more than it holds is an error), else n seeded random ones over
// r. The caller must Close the source.
func openInputs(file string, n int, seed uint64, r Range, specs []golden.InputSpec) (inputSource, error) {
	if file == "" {
		return golden.NewRandomStream(specs, n, seed, r.Lo, r.Hi), nil
	}
	s, err := golden.OpenInputs(file, specs)
	if err != nil {
		return nil, inputErr(err)
	}
	return firstSamples(s, file, n)
}

// openSamples opens o's samples (o resolved): its Dataset, image Inputs,
// an inputs file, or seeded random ones. The dataset is returned too when
// the samples are images (for its labels and its description); the
// caller must Close the source.
func (o *Options) openSamples(specs []golden.InputSpec) (inputSource, *golden.Dataset, error) {
	var (
		d   *golden.Dataset
		err error
	)
	do := golden.DatasetOptions{Preprocess: o.Preprocess, Limit: o.Limit}
	if o.Shuffle != nil {
		do.Shuffle, do.Seed = true, *o.Shuffle
	}
	switch {
	case o.Dataset != "":
		d, err = golden.OpenDataset(o.Dataset, specs, do)
	case isImageInput(o.Inputs):
		d, err = golden.OpenImages(o.Inputs, specs, do)
	case o.Inputs != "":
		s, err := openInputs(o.Inputs, o.Samples, 0, Range{}, specs)
		return s, nil, err
	default:
		return golden.NewRandomStream(specs, o.Samples, o.Seed, o.Range.Lo, o.Range.Hi), nil, nil
	}
	if err != nil {
		return nil, nil, inputErr(err)
	}
	s, err := firstSamples(d, d.Path(), o.Samples)
	return s, d, err
}

// firstSamples gives the first n samples of s (all of them when n is 0):
// asking for more than s holds is an error, never fewer samples run
// silently. It closes s on error.
func firstSamples(s inputSource, path string, n int) (inputSource, error) {
	switch {
	case s.Len() == 0:
		s.Close()
		return nil, inputErr(fmt.Errorf("%s: holds no samples", path))
	case n > s.Len():
		s.Close()
		return nil, usagef("--samples %d: %s holds %d samples", n, path, s.Len())
	case n > 0 && n < s.Len():
		return firstN{s, n}, nil
	}
	return s, nil
}

// firstN is the first n samples of a source.
type firstN struct {
	inputSource
	n int
}

func (f firstN) Len() int { return f.n }

func (f firstN) Sample(i int) ([]*tensor.Tensor, error) {
	if i < 0 || i >= f.n {
		return nil, fmt.Errorf("sample %d out of range [0, %d)", i, f.n)
	}
	return f.inputSource.Sample(i)
}

// samplesOf reads samples [lo, hi) of r.
func samplesOf(r golden.SampleReader, lo, hi int) (golden.Samples, error) {
	out := make(golden.Samples, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s, err := r.Sample(i)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// sampleFunc is a golden.SampleReader of n samples made by a function.
type sampleFunc struct {
	n      int
	sample func(i int) ([]*tensor.Tensor, error)
}

func (f sampleFunc) Len() int                               { return f.n }
func (f sampleFunc) Sample(i int) ([]*tensor.Tensor, error) { return f.sample(i) }

// sampleDefaults fills in the zero sample count and range, and checks them.
func sampleDefaults(n *int, r *Range) error {
	if *n == 0 {
		*n = DefaultSamples
	}
	if *n < 1 {
		return usagef("--samples must be at least 1, got %d", *n)
	}
	if *r == (Range{}) {
		*r = DefaultRange
	}
	if !(r.Lo < r.Hi) {
		return usagef("--input-range: want LO,HI with LO < HI, got %v,%v", r.Lo, r.Hi)
	}
	return nil
}
