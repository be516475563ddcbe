package ref64

import (
	"math"

	"github.com/edgeval/edgeval/graph"
)

func max2(a, b float64) float64 { return math.Max(a, b) }
func min2(a, b float64) float64 { return math.Min(a, b) }
func pow(a, b float64) float64  { return math.Pow(a, b) }

// prelu is x for x >= 0 and alpha*x otherwise.
func prelu(x, alpha float64) float64 {
	if x < 0 {
		return alpha * x
	}
	return x
}

// broadcastIndices returns, for every element of the row-major shape out,
// the flat index it reads in an operand of shape in broadcast to out by
// NumPy's rules.
func broadcastIndices(in, out []int) []int {
	total := 1
	for _, d := range out {
		total *= d
	}
	// Stride of each output axis in the operand: 0 where it broadcasts.
	st := make([]int, len(out))
	s := 1
	for d := len(out) - 1; d >= 0; d-- {
		j := d - (len(out) - len(in))
		if j < 0 {
			continue
		}
		if in[j] != 1 {
			st[d] = s
		}
		s *= in[j]
	}
	idx := make([]int, total)
	pos := make([]int, len(out))
	off := 0
	for i := range idx {
		idx[i] = off
		for d := len(out) - 1; d >= 0; d-- {
			pos[d]++
			off += st[d]
			if pos[d] < out[d] {
				break
			}
			off -= st[d] * out[d]
			pos[d] = 0
		}
	}
	return idx
}

func prepareBinary(c node, f func(a, b float64) float64, act graph.Activation) (kernel, error) {
	ia := broadcastIndices(c.inShape(0), c.outShape(0))
	ib := broadcastIndices(c.inShape(1), c.outShape(0))
	return func(ins, outs [][]float64) error {
		a, b := ins[0], ins[1]
		for i := range outs[0] {
			outs[0][i] = f(a[ia[i]], b[ib[i]])
		}
		applyActivation(outs[0], act)
		return nil
	}, nil
}

// prepareSum adds the inputs in order (AddN) and, for Average, divides by
// their number.
func prepareSum(c node, average bool) (kernel, error) {
	idx := make([][]int, len(c.n.Inputs))
	for i := range idx {
		idx[i] = broadcastIndices(c.inShape(i), c.outShape(0))
	}
	return func(ins, outs [][]float64) error {
		for i := range outs[0] {
			var s float64
			for k, in := range ins {
				s += in[idx[k][i]]
			}
			if average {
				s /= float64(len(ins))
			}
			outs[0][i] = s
		}
		return nil
	}, nil
}

func prepareRescale(op *graph.Rescale) (kernel, error) {
	scale, offset := float64(op.Scale), float64(op.Offset)
	return func(ins, outs [][]float64) error {
		for i, x := range ins[0] {
			outs[0][i] = x*scale + offset
		}
		return nil
	}, nil
}

// applyActivation applies a fused activation in place.
func applyActivation(x []float64, act graph.Activation) {
	var f func(float64) float64
	switch act {
	case graph.ActNone:
		return
	case graph.ActRelu:
		f = func(v float64) float64 { return clamp(v, 0, math.Inf(1)) }
	case graph.ActRelu6:
		f = func(v float64) float64 { return clamp(v, 0, 6) }
	case graph.ActReluN1To1:
		f = func(v float64) float64 { return clamp(v, -1, 1) }
	case graph.ActTanh:
		f = math.Tanh
	default:
		panic("ref64: unknown fused activation " + act.String()) // graph.Validate refuses it
	}
	for i, v := range x {
		x[i] = f(v)
	}
}

// clamp returns v limited to [lo, hi] (NaN stays NaN).
func clamp(v, lo, hi float64) float64 {
	switch {
	case v < lo:
		return lo
	case v > hi:
		return hi
	}
	return v
}

// The constants of SELU (Klambauer et al. 2017).
const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

// logistic is 1/(1+e^-x), written so that neither branch overflows.
func logistic(x float64) float64 {
	if x < 0 {
		e := math.Exp(x)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(-x))
}

// unaryFunction returns the function an elementwise activation or math op
// computes, or nil when op is not one.
func unaryFunction(op graph.Op) func(float64) float64 {
	switch op := op.(type) {
	case *graph.Relu:
		return func(x float64) float64 { return clamp(x, 0, math.Inf(1)) }
	case *graph.Relu6:
		return func(x float64) float64 { return clamp(x, 0, 6) }
	case *graph.Clip:
		lo, hi := float64(op.Min), float64(op.Max)
		return func(x float64) float64 { return clamp(x, lo, hi) }
	case *graph.LeakyRelu:
		a := float64(op.Alpha)
		return func(x float64) float64 { return prelu(x, a) }
	case *graph.Elu:
		a := float64(op.Alpha)
		return func(x float64) float64 {
			if x > 0 {
				return x
			}
			return a * math.Expm1(x)
		}
	case *graph.Selu:
		return func(x float64) float64 {
			if x > 0 {
				return seluScale * x
			}
			return seluScale * seluAlpha * math.Expm1(x)
		}
	case *graph.Sigmoid:
		return logistic
	case *graph.HardSigmoid:
		slope, offset := hardSigmoidSlope(op.Slope), float64(op.Offset)
		return func(x float64) float64 { return clamp(slope*x+offset, 0, 1) }
	case *graph.Tanh:
		return math.Tanh
	case *graph.Swish:
		return func(x float64) float64 { return x * logistic(x) }
	case *graph.HardSwish:
		return func(x float64) float64 { return x * clamp(x+3, 0, 6) / 6 }
	case *graph.Gelu:
		if op.Approximate {
			c := math.Sqrt(2 / math.Pi)
			return func(x float64) float64 { return x / 2 * (1 + math.Tanh(c*(x+0.044715*x*x*x))) }
		}
		return func(x float64) float64 { return x / 2 * math.Erfc(-x/math.Sqrt2) }
	case *graph.Softplus:
		return func(x float64) float64 {
			if x > 0 {
				return x + math.Log1p(math.Exp(-x))
			}
			return math.Log1p(math.Exp(x))
		}
	case *graph.Softsign:
		return func(x float64) float64 { return x / (1 + math.Abs(x)) }
	case *graph.Exp:
		return math.Exp
	case *graph.Log:
		return math.Log
	case *graph.Sqrt:
		return math.Sqrt
	case *graph.Rsqrt:
		return func(x float64) float64 { return 1 / math.Sqrt(x) }
	case *graph.Abs:
		return math.Abs
	case *graph.Neg:
		return func(x float64) float64 { return -x }
	case *graph.Square:
		return func(x float64) float64 { return x * x }
	}
	return nil
}

// axisSizes returns the sizes of shape before, along and after axis.
func axisSizes(shape []int, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	return outer, shape[axis], inner
}

func prepareSoftmax(c node, axis int, logSoftmax bool) (kernel, error) {
	a, err := graph.NormAxis(axis, len(c.inShape(0)))
	if err != nil {
		return nil, err
	}
	outer, n, inner := axisSizes(c.inShape(0), a)
	return func(ins, outs [][]float64) error {
		x, y := ins[0], outs[0]
		for o := range outer {
			for i := range inner {
				at := func(k int) int { return (o*n+k)*inner + i }
				m := math.Inf(-1)
				for k := range n {
					m = math.Max(m, x[at(k)])
				}
				var sum float64
				for k := range n {
					sum += math.Exp(x[at(k)] - m)
				}
				for k := range n {
					if logSoftmax {
						y[at(k)] = x[at(k)] - m - math.Log(sum)
					} else {
						y[at(k)] = math.Exp(x[at(k)]-m) / sum
					}
				}
			}
		}
		return nil
	}, nil
}

// sixth is float32(1/6), the graph's spelling of relu6(x+3)/6's slope.
const sixth = float32(1.0 / 6)

// hardSigmoidSlope widens a HardSigmoid slope, reading float32(1/6) as 1/6:
// graph.HardSigmoid spells PyTorch's and Keras 3's relu6(x+3)/6 with that
// float32 slope, and those frameworks divide by 6 (in float64 too), so
// widening it exactly would put a 3e-8 relative error into every such
// activation that the frameworks' float64 results do not have (torchvision
// MobileNetV3 off by 3.5e-8 of range). Other slopes (Keras 2's 0.2) are the
// float32 values the framework computes with.
func hardSigmoidSlope(s float32) float64 {
	if s == sixth {
		return 1.0 / 6
	}
	return float64(s)
}
