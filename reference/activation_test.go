package reference

import (
	"testing"

	"github.com/edgeval/edgeval/graph"
)

func TestActivationGolden(t *testing.T) {
	tests := []struct {
		name   string
		op     graph.Op
		x      []float32
		golden []float32
	}{
		{"relu", &graph.Relu{}, []float32{-1, 0, 2}, []float32{0, 0, 2}},
		{"relu6", &graph.Relu6{}, []float32{-1, 3, 7}, []float32{0, 3, 6}},
		{"clip", &graph.Clip{Min: -1, Max: 1}, []float32{-2, 0.5, 2}, []float32{-1, 0.5, 1}},
		{"leaky", &graph.LeakyRelu{Alpha: 0.1}, []float32{-2, 3}, []float32{-0.2, 3}},
		{"elu", &graph.Elu{Alpha: 1}, []float32{-1, 2}, []float32{-0.63212055882, 2}},
		{"selu", &graph.Selu{}, []float32{1, -1}, []float32{1.0507009873554805, -1.1113307378125628}},
		{"sigmoid", &graph.Sigmoid{}, []float32{0, 2, -100}, []float32{0.5, 0.8807970779778823, 0}},
		{"hard sigmoid keras 2", &graph.HardSigmoid{Slope: 0.2, Offset: 0.5}, []float32{1, 3, -3}, []float32{0.7, 1, 0}},
		{"hard sigmoid torch", &graph.HardSigmoid{Slope: 1.0 / 6, Offset: 0.5}, []float32{1, 3, -3}, []float32{0.6666667, 1, 0}},
		{"tanh", &graph.Tanh{}, []float32{1}, []float32{0.7615941559557649}},
		{"swish", &graph.Swish{}, []float32{1}, []float32{0.7310585786300049}},
		{"hard swish", &graph.HardSwish{}, []float32{1, -4, 4}, []float32{0.6666667, 0, 4}},
		{"gelu", &graph.Gelu{}, []float32{1}, []float32{0.8413447460685429}},
		{"gelu tanh", &graph.Gelu{Approximate: true}, []float32{1}, []float32{0.8411919906082768}},
		{"softplus", &graph.Softplus{}, []float32{0, 100, -100}, []float32{0.6931471805599453, 100, 3.720076e-44}},
		{"softsign", &graph.Softsign{}, []float32{1, -3}, []float32{0.5, -0.75}},
		{"exp", &graph.Exp{}, []float32{1}, []float32{2.718281828459045}},
		{"rsqrt", &graph.Rsqrt{}, []float32{4}, []float32{0.5}},
		{"rescale", &graph.Rescale{Scale: 1.0 / 255, Offset: -1}, []float32{255, 0}, []float32{0, -1}},
		{"softmax", &graph.Softmax{Axis: -1}, []float32{1, 2, 3}, []float32{0.09003057, 0.24472847, 0.66524096}},
		{"log softmax", &graph.LogSoftmax{Axis: 1}, []float32{1, 2, 3}, []float32{-2.40760596, -1.40760596, -0.40760596}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := runOne(t, tc.op, []int{1, len(tc.x)}, graph.LayoutNone, tc.x)
			assertClose(t, tc.golden, got, 1e-6)
		})
	}
}

func TestSoftmaxAxis(t *testing.T) {
	// Softmax over axis 0 of [2, 2]: columns normalise independently.
	got, _ := runOne(t, &graph.Softmax{Axis: 0}, []int{2, 2}, graph.LayoutNone, []float32{0, 5, 0, 5})
	assertClose(t, []float32{0.5, 0.5, 0.5, 0.5}, got, 1e-7)
}
