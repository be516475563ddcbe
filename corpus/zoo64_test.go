//go:build cgo

package corpus_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/internal/zoo64"
)

// float64Bound is how far (of the output range) the float64 evaluator may be
// from the framework's float64 outputs. Measured: ≤ 2.4e-13 on every zoo
// model but Keras's ConvNeXtTiny, 3.6e-9 in both its files: TensorFlow
// computes the exact GELU as 0.5·x·erfc(−x/√2), ref64 (as PyTorch) as
// 0.5·x·(1+erf(x/√2)), which loses the tail's last bits in float64; the
// Keras float64 model with GELU written as 1+erf moves by exactly 3.6e-9
// (torchvision's ConvNeXt-tiny agrees to 1e-15). Float32 summation noise
// is 1e-6 to 1e-4 of range on these models, and a misread argument far more.
const float64Bound = 1e-8

// TestZooFloat64 proves the zoo's deep models read exactly where float32
// cannot (their float32 references differ from the frameworks' float32
// outputs by up to 1e-4 of range, by summation order): every model file of
// every zoo case with float64 framework outputs (Keras expected64.npy and
// expected64_k3.npy, torchvision expected64.npz) is read as validate reads it and evaluated by
// reference/ref64, which must agree with the framework in float64 within
// float64Bound of the output range. It runs on EDGEVAL_ZOO and
// EDGEVAL_TORCH_ZOO when set.
func TestZooFloat64(t *testing.T) {
	var dirs []string
	for _, v := range []string{"EDGEVAL_ZOO", "EDGEVAL_TORCH_ZOO"} {
		if d := os.Getenv(v); d != "" {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		t.Skip("EDGEVAL_ZOO and EDGEVAL_TORCH_ZOO are not set: the zoos are made by testdata/gen/zoo.py DIR and gen_torchvision.py DIR --tier=zoo (--f64-only adds the float64 outputs)")
	}
	checked := 0
	for _, dir := range dirs {
		cases, err := corpus.Load(dir)
		require.NoError(t, err)
		for _, c := range cases {
			for _, m := range c.Models {
				if zoo64.Expected(c, m) == "" {
					t.Logf("%s %s: no float64 framework outputs", c.ID(), m.File)
					continue
				}
				t.Run(c.ID()+"/"+m.Format, func(t *testing.T) {
					drift, err := zoo64.Check(c, m)
					require.NoError(t, err)
					for _, d := range drift {
						t.Logf("%s %s %s: ref64 vs framework float64: max abs %.3g, range %.4g, %.3g of range", c.ID(), m.File, d.Name, d.MaxAbs, d.Range, d.Relative())
						assert.Positive(t, d.Range, "the output varies")
						assert.LessOrEqual(t, d.Relative(), float64Bound, "%s: ref64 vs the framework's float64 outputs", d.Name)
					}
				})
				checked++
			}
		}
	}
	assert.Positive(t, checked, "some zoo model has float64 framework outputs")
}
