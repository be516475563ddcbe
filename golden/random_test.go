package golden

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// randomSpecs covers the draws that take a fixed number of values (floats,
// power-of-two integer spans) and those that reject and retry (int32 and
// other spans), with quantization parameters carried along.
var randomSpecs = []InputSpec{
	{Name: "image", Shape: []int{1, 3, 4}, DType: tensor.Float32},
	{Name: "ids", Shape: []int{1, 5}, DType: tensor.Int32},
	{Name: "q", Shape: []int{1, 6}, DType: tensor.Int8, Quant: &tensor.Quant{Scale: []float32{0.5}, ZeroPoint: []int64{3}}},
	{Name: "mask", Shape: []int{1, 7}, DType: tensor.Bool},
	{Name: "half", Shape: []int{2}, DType: tensor.Float16},
}

// TestRandomInputsPinned: the samples a seed gives never change (results
// of earlier runs name their seed). The digest is what RandomInputs gave
// before RandomStream existed.
func TestRandomInputsPinned(t *testing.T) {
	h := sha256.New()
	for _, run := range RandomInputs(randomSpecs, 100, 42, -1, 1) {
		for _, x := range run {
			h.Write(x.Data)
		}
	}
	assert.Equal(t, "97bde8bc6a32ffc26fe3cd3ffa14ab35eb58414fc5fd9fd6702bdc462ef36a99", hex.EncodeToString(h.Sum(nil)))
}

// TestRandomStreamMatchesRandomInputs: sample i of the stream is
// RandomInputs's sample i, whatever order the samples are asked in.
func TestRandomStreamMatchesRandomInputs(t *testing.T) {
	const n = 200 // several marks
	want := RandomInputs(randomSpecs, n, 7, -2, 3)
	reversed := make([]int, n)
	for i := range n {
		reversed[i] = n - 1 - i
	}
	var cycled []int
	for k := range 3 * n {
		cycled = append(cycled, k%n)
	}
	tests := []struct {
		name  string
		order []int
	}{
		{"in order", nil},
		{"reversed", reversed},
		{"cycled three times", cycled},
		{"jumps", []int{150, 3, 199, 64, 63, 65, 0, 128, 127, 190, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewRandomStream(randomSpecs, n, 7, -2, 3)
			defer s.Close()
			require.Equal(t, n, s.Len())
			order := tc.order
			if order == nil {
				for i := range n {
					order = append(order, i)
				}
			}
			for _, i := range order {
				got, err := s.Sample(i)
				require.NoError(t, err)
				require.Len(t, got, len(randomSpecs))
				for k, x := range got {
					w := want[i][k]
					assert.Equal(t, w.DType, x.DType)
					assert.Equal(t, w.Shape, x.Shape)
					assert.Equal(t, w.Quant, x.Quant)
					if !assert.Equal(t, w.Data, x.Data, "sample %d, input %d", i, k) {
						return
					}
				}
			}
		})
	}
}

func TestRandomStreamConcurrent(t *testing.T) {
	const n = 130
	want := RandomInputs(randomSpecs, n, 9, 0, 1)
	s := NewRandomStream(randomSpecs, n, 9, 0, 1)
	var wg sync.WaitGroup
	errs := make([]int, 4)
	for g := range 4 {
		wg.Go(func() {
			for k := range n {
				i := (k*(g+1) + g*17) % n
				got, err := s.Sample(i)
				if err != nil || string(got[1].Data) != string(want[i][1].Data) {
					errs[g]++
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, []int{0, 0, 0, 0}, errs)
}

func TestRandomStreamOutOfRange(t *testing.T) {
	s := NewRandomStream(randomSpecs, 3, 1, 0, 1)
	for _, i := range []int{-1, 3} {
		_, err := s.Sample(i)
		assert.ErrorContains(t, err, "out of range [0, 3)")
	}
}
