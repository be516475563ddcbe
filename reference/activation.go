package reference

import (
	"math"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
)

// unaryFunc returns the float64 function an elementwise activation or math
// op computes, or nil when op is not one.
func unaryFunc(op graph.Op) func(float64) float64 {
	switch op := op.(type) {
	case *graph.Relu:
		return func(x float64) float64 { return max(x, 0) }
	case *graph.Relu6:
		return func(x float64) float64 { return min(max(x, 0), 6) }
	case *graph.Clip:
		lo, hi := float64(op.Min), float64(op.Max)
		return func(x float64) float64 { return min(max(x, lo), hi) }
	case *graph.LeakyRelu:
		a := float64(op.Alpha)
		return func(x float64) float64 {
			if x < 0 {
				return a * x
			}
			return x
		}
	case *graph.Elu:
		a := float64(op.Alpha)
		return func(x float64) float64 {
			if x > 0 {
				return x
			}
			return a * math.Expm1(x)
		}
	case *graph.Selu:
		const alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
		return func(x float64) float64 {
			if x > 0 {
				return scale * x
			}
			return scale * alpha * math.Expm1(x)
		}
	case *graph.Sigmoid:
		return sigmoid
	case *graph.HardSigmoid:
		s, o := float64(op.Slope), float64(op.Offset)
		return func(x float64) float64 { return min(max(s*x+o, 0), 1) }
	case *graph.Tanh:
		return math.Tanh
	case *graph.Swish:
		return func(x float64) float64 { return x * sigmoid(x) }
	case *graph.HardSwish:
		return func(x float64) float64 { return x * min(max(x+3, 0), 6) / 6 }
	case *graph.Gelu:
		if op.Approximate {
			return func(x float64) float64 {
				return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
			}
		}
		return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	case *graph.Softplus:
		return func(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }
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

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// unary applies f to every element of x into out.
func unary(f func(float64) float64, x, out []float32) {
	out = out[:len(x)]
	for i, v := range x {
		out[i] = float32(f(float64(v)))
	}
}

// actRun returns the kernel of an activation an sgemm epilogue computes
// (ReLU, ReLU6): one pass of float32 min/max, the same bits as the
// producer's fused epilogue.
func actRun(a sgemm.Act) kernelFunc {
	e := sgemm.Epilogue{Act2: a}
	return func(ins, outs [][]float32, _ *work) error {
		x := ins[0]
		e.Apply(outs[0][:len(x)], x, 1, len(x))
		return nil
	}
}

// clipRun is Clip (and LeakyRelu when slope is set) in float32: min, max
// and a float32 product of two float32 values round exactly as their
// float64 forms do, so this is unaryFunc's result at float32 speed.
func clipRun(lo, hi float32) kernelFunc {
	return func(ins, outs [][]float32, _ *work) error {
		x := ins[0]
		out := outs[0][:len(x)]
		for i, v := range x {
			out[i] = min(max(v, lo), hi)
		}
		return nil
	}
}

func leakyReluRun(a float32) kernelFunc {
	return func(ins, outs [][]float32, _ *work) error {
		x := ins[0]
		out := outs[0][:len(x)]
		for i, v := range x {
			if v < 0 {
				v = float32(a * v)
			}
			out[i] = v
		}
		return nil
	}
}

// prepareUnary returns the kernel of an element-wise activation or math
// op (agnostic: it computes the same on any layout).
func prepareUnary(op graph.Op) (prepared, bool) {
	pr, ok := prepareUnaryKernel(op)
	pr.agnostic = true
	return pr, ok
}

func prepareUnaryKernel(op graph.Op) (prepared, bool) {
	switch op := op.(type) {
	case *graph.Relu:
		return prepared{act: sgemm.ActRelu, run: actRun(sgemm.ActRelu)}, true
	case *graph.Relu6:
		// min(max(x, 0), 6) on the bits, as the conv epilogues compute
		// their own ReLU6 (-0 and negative NaNs become +0).
		return prepared{act: sgemm.ActRelu6, run: actRun(sgemm.ActRelu6)}, true
	case *graph.Clip:
		return prepared{run: clipRun(op.Min, op.Max)}, true
	case *graph.LeakyRelu:
		return prepared{run: leakyReluRun(op.Alpha)}, true
	}
	f := unaryFunc(op)
	if f == nil {
		return prepared{}, false
	}
	return prepared{run: func(ins, outs [][]float32, wk *work) error {
		// A float64 function per element (erf, exp, tanh: 5–20 ns
		// each), split between the team's goroutines like a
		// same-shape binary op, by ranges of elements.
		x, out := ins[0], outs[0]
		splitElements(wk, len(x), unaryCost, func(lo, hi int) {
			unary(f, x[lo:hi], out[lo:hi])
		})
		return nil
	}}, true
}

// unaryCost is what a float64 element-wise function weighs against a
// multiply-add when deciding whether to split the work (work.parallel):
// GELU's erf took 20 ns an element on the reference machine, against
// ~0.1 ns a multiply-add in the GEMM.
const unaryCost = 64

// axisSplit returns the sizes before, along and after axis of shape.
func axisSplit(shape []int, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	return outer, shape[axis], inner
}

// softmax computes softmax (or log-softmax) along the middle axis of x
// viewed as [outer][n][inner], accumulating in float64.
func softmax(x, out []float32, outer, n, inner int, logSoftmax bool) {
	for o := range outer {
		for in := range inner {
			base := o*n*inner + in
			m := math.Inf(-1)
			for i := range n {
				m = max(m, float64(x[base+i*inner]))
			}
			var sum float64
			for i := range n {
				sum += math.Exp(float64(x[base+i*inner]) - m)
			}
			if logSoftmax {
				ls := math.Log(sum)
				for i := range n {
					out[base+i*inner] = float32(float64(x[base+i*inner]) - m - ls)
				}
				continue
			}
			for i := range n {
				out[base+i*inner] = float32(math.Exp(float64(x[base+i*inner])-m) / sum)
			}
		}
	}
}

func prepareSoftmax(c *nodeCtx, axis int, logSoftmax bool) (prepared, error) {
	a, err := graph.NormAxis(axis, len(c.shape(0)))
	if err != nil {
		return prepared{}, err
	}
	outer, n, inner := axisSplit(c.shape(0), a)
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		softmax(ins[0], outs[0], outer, n, inner, logSoftmax)
		return nil
	}}, nil
}
