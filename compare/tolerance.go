package compare

import (
	"fmt"
	"math"

	"github.com/edgeval/edgeval/precision"
)

// Tolerance is the bound an output must meet.
type Tolerance struct {
	// Precision the bound was derived for.
	Precision precision.Precision `json:"precision"`
	// MaxAbs is the largest allowed absolute difference.
	MaxAbs float64 `json:"max_abs"`
	// RelToRange is MaxAbs divided by the reference range (max|ref|).
	RelToRange float64 `json:"rel_to_range"`
	// MinCosine is the smallest allowed cosine similarity.
	MinCosine float64 `json:"min_cosine"`
	// NoiseFloor is this model's own float32 noise on this output: the
	// largest absolute difference between the float32 Go reference and a
	// float64 evaluation of the same graph, over the measured samples (0
	// when it was not measured). See WithNoiseFloor.
	NoiseFloor float64 `json:"noise_floor,omitempty"`
}

// NoiseFactor is how many times its own float32 noise floor an output of a
// float32 conversion may differ from the reference. Two correct float32
// evaluations (the reference and the runtime's kernels) each drift from the
// exact result, in directions that need not agree, so their difference can
// reach twice the floor; a converter that folds BatchNorm into the weights
// rounds every folded weight once more; and the floor is measured on a few
// samples only. Measured on InceptionV3 at 96 px (seeded weights, BatchNorm
// calibrated): the real TF converter's .tflite on LiteRT is 3.4 floors from
// the reference, ours 2.2. A misreading moves outputs by orders of magnitude
// more (one BatchNorm epsilon 1e-3 -> 1e-1 in the same model: 1.2 of the
// range, 22,000 floors).
const NoiseFactor = 8

// WithNoiseFloor returns t with the model's measured float32 noise floor
// (drift: max |float32 reference − float64 evaluation|) recorded, and, for
// a float32 tolerance, raised to NoiseFactor times it when that is larger
// than the fixed policy: the policy stays the floor. refRange is the
// reference's range, to keep RelToRange consistent. Other precisions only
// record the floor: their own quantization error dwarfs float32 rounding.
func (t Tolerance) WithNoiseFloor(drift, refRange float64) Tolerance {
	if math.IsNaN(drift) || math.IsInf(drift, 0) || drift <= 0 {
		return t
	}
	t.NoiseFloor = drift
	if t.Precision == precision.Float32 && NoiseFactor*drift > t.MaxAbs {
		t.MaxAbs = NoiseFactor * drift
		if refRange > 0 {
			t.RelToRange = t.MaxAbs / refRange
		}
	}
	return t
}

// Policy: an output passes when it has no NaN or Inf that the reference does
// not have, its largest absolute difference is at most
//
//	rel(precision) · max|ref| + abs(precision)
//
// and its cosine similarity is at least minCos(precision) (the cosine check
// catches structural bugs in outputs whose range is dominated by a few large
// values). For int8 outputs the absolute floor is a number of quantization
// steps of the output's scale. The numbers:
//
//	float32  rel 1e-4   abs 1e-6             cosine 0.99999
//	float16  rel 1e-2   abs 1e-4             cosine 0.999
//	dynamic  rel 5e-2   abs 1e-3             cosine 0.99
//	int8     rel 1e-1   abs 3·output scale   cosine 0.95
//
// float32 is loose enough for the summation-order differences of optimized
// kernels through deep networks (observed ≤ 1e-5 of the range on the
// fixtures) and tight enough to catch a BatchNorm folded with a wrong epsilon.
var policy = map[precision.Precision]struct{ rel, abs, cos float64 }{
	precision.Float32: {1e-4, 1e-6, 0.99999},
	precision.Float16: {1e-2, 1e-4, 0.999},
	precision.Dynamic: {5e-2, 1e-3, 0.99},
	precision.Int8:    {1e-1, 0, 0.95},
}

// ToleranceFor returns the bound for an output whose reference has the
// given range (max|ref|), at a precision; outScale is the output's
// quantization scale (0 for float outputs).
func ToleranceFor(p precision.Precision, refRange, outScale float64) (Tolerance, error) {
	pol, ok := policy[p]
	if !ok {
		return Tolerance{}, fmt.Errorf("unknown precision %q (want float32, float16, dynamic or int8)", p)
	}
	abs := pol.abs
	if p == precision.Int8 {
		abs = 3 * outScale
	}
	t := Tolerance{Precision: p, MaxAbs: pol.rel*refRange + abs, MinCosine: pol.cos}
	if refRange > 0 {
		t.RelToRange = t.MaxAbs / refRange
	}
	return t, nil
}

// Check returns whether m meets t, and the reasons when it does not.
func (t Tolerance) Check(m Metrics) (bool, []string) {
	var why []string
	if m.DeviceNaN > m.RefNaN {
		why = append(why, fmt.Sprintf("%d NaN in the device output (%d in the reference)", m.DeviceNaN, m.RefNaN))
	}
	if m.DeviceInf > m.RefInf {
		why = append(why, fmt.Sprintf("%d Inf in the device output (%d in the reference)", m.DeviceInf, m.RefInf))
	}
	if m.MaxAbs > t.MaxAbs || math.IsNaN(m.MaxAbs) {
		if t.NoiseFloor > 0 {
			why = append(why, fmt.Sprintf("max abs error %.3g > tolerance %.3g (the model's own float32 noise floor is %.3g)", m.MaxAbs, t.MaxAbs, t.NoiseFloor))
		} else {
			why = append(why, fmt.Sprintf("max abs error %.3g > tolerance %.3g", m.MaxAbs, t.MaxAbs))
		}
	}
	if m.Cosine < t.MinCosine {
		why = append(why, fmt.Sprintf("cosine similarity %.6f < %.6f", m.Cosine, t.MinCosine))
	}
	return len(why) == 0, why
}
