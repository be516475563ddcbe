package validation

import (
	"fmt"

	"github.com/edgeval/edgeval/golden"
)

// loadInputs returns the samples described by specs: read from o.Inputs,
// else o.Samples seeded random ones over o.Range.
func loadInputs(o *Options, specs []golden.InputSpec) (golden.Samples, error) {
	if o.Inputs == "" {
		return golden.RandomInputs(specs, o.Samples, o.Seed, o.Range.Lo, o.Range.Hi), nil
	}
	samples, err := golden.LoadInputs(o.Inputs, specs)
	if err != nil {
		return nil, inputErr(err)
	}
	if len(samples) == 0 {
		return nil, inputErr(fmt.Errorf("%s: holds no samples", o.Inputs))
	}
	return samples, nil
}
