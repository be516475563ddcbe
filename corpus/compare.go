package corpus

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

// Mismatch is the comparison of one output that failed.
type Mismatch struct {
	Output  string
	Metrics compare.Metrics
	Reasons []string
}

// Compare checks got against want output by output under golden's float32
// policy (compare.ToleranceFor(precision.Float32, max|want|, 0)). It returns the
// largest max-abs error relative to the output range over all outputs, and
// an error describing every output that fails (shape, count or tolerance).
func Compare(names []string, want, got []*tensor.Tensor) (float64, error) {
	return ComparePrecision(precision.Float32, names, want, got)
}

// ComparePrecision is Compare under the policy of precision p; a quantized
// output is dequantized, and its scale sets the int8 tolerance's floor.
func ComparePrecision(p precision.Precision, names []string, want, got []*tensor.Tensor) (float64, error) {
	return CompareNoise(p, names, want, got, nil)
}

// CompareNoise is ComparePrecision with each output's tolerance raised to
// the model's float32 noise floor (noise[i]: max |float32 − float64
// reference| of output i; nil or 0 for none), as validate does.
func CompareNoise(p precision.Precision, names []string, want, got []*tensor.Tensor, noise []float64) (float64, error) {
	if len(want) != len(got) {
		return 0, fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	worst := 0.0
	var fails []string
	for i := range want {
		name := fmt.Sprint(i)
		if i < len(names) {
			name = names[i]
		}
		if !slices.Equal(want[i].Shape, got[i].Shape) {
			fails = append(fails, fmt.Sprintf("output %s: shape %v, want %v", name, got[i].Shape, want[i].Shape))
			continue
		}
		o := compare.Options{Precision: p}
		if i < len(noise) {
			o.NoiseFloor = noise[i]
		}
		r, err := compare.Output(name, want[i], got[i], o)
		if err != nil {
			fails = append(fails, err.Error())
			continue
		}
		m := r.Metrics
		rel := m.MaxAbs
		if m.RefRange > 0 {
			rel = m.MaxAbs / m.RefRange
		}
		worst = max(worst, rel)
		if !r.Pass {
			fails = append(fails, fmt.Sprintf("output %s: %s (max abs %.3g, range %.3g)", name, strings.Join(r.Why, "; "), m.MaxAbs, m.RefRange))
		}
	}
	if len(fails) > 0 {
		return worst, fmt.Errorf("%s", strings.Join(fails, "; "))
	}
	return worst, nil
}

// Cast returns t converted to dtype dt (t itself when it already has it).
// A float tensor cast to an integer type with per-tensor quantization q is
// quantized (round(x/scale)+zero point, saturated), as a quantized model's
// input must be; otherwise values are converted.
func Cast(t *tensor.Tensor, dt tensor.DType, q *tensor.Quant) *tensor.Tensor {
	if t.DType == dt {
		return t
	}
	if q.PerTensor() && t.DType.IsFloat() && dt.IsInteger() {
		lo, hi := dt.Range()
		scale, zp := float64(q.Scale[0]), float64(q.ZeroPoint[0])
		v := t.Float64s()
		for i, x := range v {
			v[i] = min(max(math.Round(x/scale)+zp, float64(lo)), float64(hi))
		}
		out := tensor.FromFloat64s(dt, t.Shape, v)
		out.Quant = q
		return out
	}
	return tensor.FromFloat64s(dt, t.Shape, t.Float64s())
}
