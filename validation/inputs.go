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

// openInputs opens the samples described by specs: read from file, else n
// seeded random ones over r. The caller must Close the source.
func openInputs(file string, n int, seed uint64, r Range, specs []golden.InputSpec) (inputSource, error) {
	if file == "" {
		return golden.NewRandomStream(specs, n, seed, r.Lo, r.Hi), nil
	}
	s, err := golden.OpenInputs(file, specs)
	if err != nil {
		return nil, inputErr(err)
	}
	if s.Len() == 0 {
		s.Close()
		return nil, inputErr(fmt.Errorf("%s: holds no samples", file))
	}
	return s, nil
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
