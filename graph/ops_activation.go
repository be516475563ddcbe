package graph

import "fmt"

// elementwiseUnary is the shape inference of one-input elementwise float
// ops: the output has the input's type.
type elementwiseUnary struct{}

// InferShapes implements Op.
func (elementwiseUnary) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := wantFloat(in[0], "input"); err != nil {
		return nil, err
	}
	return same(in[0]), nil
}

// Relu is max(x, 0).
type Relu struct{ elementwiseUnary }

// Relu6 is min(max(x, 0), 6).
type Relu6 struct{ elementwiseUnary }

// Clip is min(max(x, Min), Max) (Keras ReLU(max_value), PyTorch Hardtanh
// and clamp).
type Clip struct {
	elementwiseUnary
	Min, Max float32
}

// LeakyRelu is x for x >= 0 and Alpha*x otherwise.
type LeakyRelu struct {
	elementwiseUnary
	Alpha float32
}

// Elu is x for x > 0 and Alpha*(exp(x)-1) otherwise.
type Elu struct {
	elementwiseUnary
	Alpha float32
}

// Selu is scale*elu(x, alpha) with the fixed constants of Klambauer et al.
// (alpha 1.6732632423543772, scale 1.0507009873554805).
type Selu struct{ elementwiseUnary }

// Sigmoid is 1/(1+exp(-x)).
type Sigmoid struct{ elementwiseUnary }

// HardSigmoid is clip(Slope*x + Offset, 0, 1). Keras 2 uses Slope 0.2,
// Offset 0.5; Keras 3 and PyTorch use relu6(x+3)/6: Slope 1/6, Offset 0.5.
type HardSigmoid struct {
	elementwiseUnary
	Slope, Offset float32
}

// Tanh is the hyperbolic tangent.
type Tanh struct{ elementwiseUnary }

// Swish is x*sigmoid(x) (SiLU).
type Swish struct{ elementwiseUnary }

// HardSwish is x*relu6(x+3)/6.
type HardSwish struct{ elementwiseUnary }

// Gelu is x*Φ(x) with the exact erf form, or the tanh approximation when
// Approximate is set.
type Gelu struct {
	elementwiseUnary
	Approximate bool
}

// Softplus is log(1+exp(x)).
type Softplus struct{ elementwiseUnary }

// Softsign is x/(1+|x|).
type Softsign struct{ elementwiseUnary }

// Exp is e**x.
type Exp struct{ elementwiseUnary }

// Log is the natural logarithm.
type Log struct{ elementwiseUnary }

// Sqrt is the square root.
type Sqrt struct{ elementwiseUnary }

// Rsqrt is 1/sqrt(x).
type Rsqrt struct{ elementwiseUnary }

// Abs is |x|.
type Abs struct{ elementwiseUnary }

// Neg is -x.
type Neg struct{ elementwiseUnary }

// Square is x*x.
type Square struct{ elementwiseUnary }

// Kind returns "Relu".
func (*Relu) Kind() string { return "Relu" }

// Kind returns "Relu6".
func (*Relu6) Kind() string { return "Relu6" }

// Kind returns "Clip".
func (*Clip) Kind() string { return "Clip" }

// Kind returns "LeakyRelu".
func (*LeakyRelu) Kind() string { return "LeakyRelu" }

// Kind returns "Elu".
func (*Elu) Kind() string { return "Elu" }

// Kind returns "Selu".
func (*Selu) Kind() string { return "Selu" }

// Kind returns "Sigmoid".
func (*Sigmoid) Kind() string { return "Sigmoid" }

// Kind returns "HardSigmoid".
func (*HardSigmoid) Kind() string { return "HardSigmoid" }

// Kind returns "Tanh".
func (*Tanh) Kind() string { return "Tanh" }

// Kind returns "Swish".
func (*Swish) Kind() string { return "Swish" }

// Kind returns "HardSwish".
func (*HardSwish) Kind() string { return "HardSwish" }

// Kind returns "Gelu".
func (*Gelu) Kind() string { return "Gelu" }

// Kind returns "Softplus".
func (*Softplus) Kind() string { return "Softplus" }

// Kind returns "Softsign".
func (*Softsign) Kind() string { return "Softsign" }

// Kind returns "Exp".
func (*Exp) Kind() string { return "Exp" }

// Kind returns "Log".
func (*Log) Kind() string { return "Log" }

// Kind returns "Sqrt".
func (*Sqrt) Kind() string { return "Sqrt" }

// Kind returns "Rsqrt".
func (*Rsqrt) Kind() string { return "Rsqrt" }

// Kind returns "Abs".
func (*Abs) Kind() string { return "Abs" }

// Kind returns "Neg".
func (*Neg) Kind() string { return "Neg" }

// Kind returns "Square".
func (*Square) Kind() string { return "Square" }

// PRelu is x for x >= 0 and alpha*x otherwise: inputs x and alpha, a
// constant whose shape broadcasts to x's (NumPy rules). Keras stores alpha
// as x.shape[1:] with shared axes set to 1; a PyTorch PReLU's [C] weight
// becomes [C, 1, 1] for NCHW input.
type PRelu struct{}

// Kind returns "PRelu".
func (*PRelu) Kind() string { return "PRelu" }

// InferShapes implements Op.
func (*PRelu) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	if err := wantFloat(in[0], "input"); err != nil {
		return nil, err
	}
	s, err := BroadcastShapes(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	if len(s) != in[0].Rank() || !equalInts(s, in[0].Shape) {
		return nil, shapeErr("alpha %v does not broadcast to input %v", in[1].Shape, in[0].Shape)
	}
	return same(in[0]), nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Softmax is exp(x)/sum(exp(x)) along Axis (there is no default: Keras and
// PyTorch's usual choice is -1).
type Softmax struct {
	Axis int
}

// LogSoftmax is log(softmax(x)) along Axis.
type LogSoftmax struct {
	Axis int
}

// Kind returns "Softmax".
func (*Softmax) Kind() string { return "Softmax" }

// Kind returns "LogSoftmax".
func (*LogSoftmax) Kind() string { return "LogSoftmax" }

// InferShapes implements Op.
func (s *Softmax) InferShapes(in []Type) ([]Type, error) { return axisUnary(in, s.Axis) }

// InferShapes implements Op.
func (s *LogSoftmax) InferShapes(in []Type) ([]Type, error) { return axisUnary(in, s.Axis) }

func axisUnary(in []Type, axis int) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := wantFloat(in[0], "input"); err != nil {
		return nil, err
	}
	if _, err := normAxis(axis, in[0].Rank()); err != nil {
		return nil, fmt.Errorf("input %v: %w", in[0].Shape, err)
	}
	return same(in[0]), nil
}
