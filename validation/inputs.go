package validation

import (
	"fmt"

	"github.com/edgeval/edgeval/golden"
)

// loadInputs returns the samples described by specs: read from file, else
// n seeded random ones over r.
func loadInputs(file string, n int, seed uint64, r Range, specs []golden.InputSpec) (golden.Samples, error) {
	if file == "" {
		return golden.RandomInputs(specs, n, seed, r.Lo, r.Hi), nil
	}
	samples, err := golden.LoadInputs(file, specs)
	if err != nil {
		return nil, inputErr(err)
	}
	if len(samples) == 0 {
		return nil, inputErr(fmt.Errorf("%s: holds no samples", file))
	}
	return samples, nil
}

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
