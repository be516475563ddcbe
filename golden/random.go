package golden

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/edgeval/edgeval/tensor"
)

// RandomInputs returns n runs of seeded random inputs. Integer inputs span
// their dtype's full range; float inputs are uniform in [lo, hi).
func RandomInputs(specs []InputSpec, n int, seed uint64, lo, hi float64) Samples {
	pcg := tensor.NewPCG(seed)
	out := make(Samples, n)
	for r := range n {
		out[r] = randomSample(pcg, specs, lo, hi)
	}
	return out
}

// randomSample draws one run from the generator src (tensor.NewRNG's
// source).
func randomSample(src *rand.PCG, specs []InputSpec, lo, hi float64) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(specs))
	for i, s := range specs {
		l, h := lo, hi
		if s.DType.IsInteger() || s.DType == tensor.Bool {
			il, ih := s.DType.Range()
			l, h = float64(il), float64(ih)
		}
		t := tensor.RandomPCG(src, s.DType, s.Shape, l, h)
		t.Quant = s.Quant
		out[i] = t
	}
	return out
}

// randomMark is how many samples apart RandomStream saves the generator's
// position.
const randomMark = 64

// RandomStream gives the samples of RandomInputs one at a time, so that
// memory stays flat in the number of samples: Sample(i) equals
// RandomInputs(specs, n, seed, lo, hi)[i], byte for byte. The generator
// cannot skip ahead, so sample i is reached by drawing the samples before
// it; the stream keeps its position and saves it every 64 samples, so
// reading in order costs one draw per sample and going back (the timed
// loop cycling the samples) at most 63 more. Methods are safe for
// concurrent use.
type RandomStream struct {
	specs  []InputSpec
	n      int
	lo, hi float64

	mu    sync.Mutex
	pcg   *rand.PCG
	next  int        // the sample the generator draws next
	marks []rand.PCG // marks[k]: the generator before sample k*randomMark
}

// NewRandomStream returns the stream of RandomInputs(specs, n, seed, lo, hi).
func NewRandomStream(specs []InputSpec, n int, seed uint64, lo, hi float64) *RandomStream {
	pcg := tensor.NewPCG(seed)
	return &RandomStream{specs: specs, n: n, lo: lo, hi: hi, pcg: pcg}
}

// Len returns the number of samples.
func (s *RandomStream) Len() int { return s.n }

// Sample returns sample i (0 <= i < Len()), freshly allocated.
func (s *RandomStream) Sample(i int) ([]*tensor.Tensor, error) {
	if i < 0 || i >= s.n {
		return nil, fmt.Errorf("random inputs: sample %d out of range [0, %d)", i, s.n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := i / randomMark; k < len(s.marks) && (i < s.next || k*randomMark > s.next) {
		*s.pcg = s.marks[k]
		s.next = k * randomMark
	}
	for s.next < i {
		s.draw()
	}
	return s.draw(), nil
}

// draw draws sample s.next, saving the generator's position first when
// the sample starts a stretch of randomMark.
func (s *RandomStream) draw() []*tensor.Tensor {
	if s.next%randomMark == 0 && s.next/randomMark == len(s.marks) {
		s.marks = append(s.marks, *s.pcg)
	}
	s.next++
	return randomSample(s.pcg, s.specs, s.lo, s.hi)
}

// Close does nothing: the stream holds no file. It makes RandomStream and
// InputStream interchangeable.
func (s *RandomStream) Close() error { return nil }
