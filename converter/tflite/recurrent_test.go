package tflite

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/graph/graphtest"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// buildCase builds a graphtest case with its batch kept as data.
func buildCase(t *testing.T, tc graphtest.Case) *graph.Graph {
	t.Helper()
	g, _, err := tc.Build(1)
	require.NoError(t, err)
	for _, v := range g.Inputs {
		v.NoBatch = true // the cases' shapes are data, batch included
	}
	return g
}

// recurrentCases returns graphtest's Recurrent cases.
func recurrentCases() []graphtest.Case {
	var out []graphtest.Case
	for _, tc := range graphtest.Cases() {
		if _, ok := tc.Op.(*graph.Recurrent); ok {
			out = append(out, tc)
		}
	}
	return out
}

// TestRecurrentRuns: every Recurrent case of graphtest (LSTM, GRU with the
// reset gate before and after, simple RNN; Keras and PyTorch weight
// layouts and gate orders; forward and reverse; sequence and last-step
// outputs; non-default activations) is unrolled into operators that the
// real runtimes run within 1e-5 of the output's range of the reference.
func TestRecurrentRuns(t *testing.T) {
	cases := recurrentCases()
	require.NotEmpty(t, cases)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			g := buildCase(t, tc)
			m := convertAndRun(t, g, -2, 2, 1e-5)
			assert.NotContains(t, opNames(m), "UNIDIRECTIONAL_SEQUENCE_LSTM", "unrolled, not fused")
		})
	}
}

// TestRecurrentPrecisions: the unrolled recurrent cases convert to
// float16, dynamic range and int8 (the cell arithmetic stays float32
// there) and run on the real runtimes within golden's tolerance for the
// precision.
func TestRecurrentPrecisions(t *testing.T) {
	// A layer wide enough (an input weight of 32×64) for dynamic range to
	// quantize its input projection.
	wide := graphtest.Case{Name: "lstm/wide", Op: &graph.Recurrent{Cell: graph.CellLSTM, Gates: graph.GatesLSTM,
		Activation: &graph.Tanh{}, RecurrentActivation: &graph.Sigmoid{}, Bias: true, ReturnSequences: true},
		Ins: []graphtest.Operand{graphtest.X(1, 6, 32), graphtest.W(32, 64), graphtest.W(16, 64), graphtest.W(64)}}
	for _, tc := range append(recurrentCases(), wide) {
		for _, p := range []precision.Precision{precision.Float16, precision.Dynamic, precision.Int8} {
			t.Run(fmt.Sprintf("%s/%v", tc.Name, p), func(t *testing.T) {
				g := buildCase(t, tc)
				var samples [][]*tensor.Tensor
				for s := range uint64(8) {
					samples = append(samples, randInputs(g, 10+s, -2, 2))
				}
				opts := Options{Precision: p}
				if p == precision.Int8 {
					opts.Ranges = calibrate(t, g, samples)
				}
				data, nm, err := Convert(g, opts)
				require.NoError(t, err)
				m := checkModel(t, g, data, nm)
				if tc.Name == wide.Name && p == precision.Dynamic {
					var int8Weights int
					for _, tt := range m.Subgraphs[0].Tensors {
						if tt.DType == tensor.Int8 {
							int8Weights++
						}
					}
					assert.Equal(t, 1, int8Weights, "the input projection's weight is int8; the recurrent one, read by every step, stays float32")
				}
				for _, rt := range runtimeNames() {
					s := openRuntime(t, rt, data)
					var w worst
					for _, ins := range samples[:3] {
						want, err := reference.Run(g, ins)
						require.NoError(t, err)
						got := inGraphOrder(t, g, s, runSession(t, s, ins))
						checkPrecision(t, p, rt, want, got, &w)
					}
					t.Logf("%s %v on %s: max abs %.3g, relative %.3g, cosine %.6f", tc.Name, p, rt, w.maxAbs, w.rel, w.cosine)
				}
			})
		}
	}
}
