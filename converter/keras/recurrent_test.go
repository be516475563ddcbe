//go:build cgo

package keras

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
)

// TestLoadRefusesRecurrent: real files (testdata/gen/keras_rnn_fixtures.py)
// whose recurrent layers compute something the graph does not (a mask, a
// state carried over between batches or returned, time-major inputs, an
// initial state, an activation that is not elementwise) fail to load,
// each layer named with the reason.
func TestLoadRefusesRecurrent(t *testing.T) {
	tests := []struct {
		file string
		want map[string]string // layer -> a part of its reason
	}{
		{"testdata/rnn_refused_k3.keras", map[string]string{
			"masking":       `config field "mask_value" = 0.0 is not supported (Masking: the mask changes what the layers after it compute`,
			"emb":           `config field "mask_zero" = true is not supported (masking`,
			"masked_lstm":   `keyword argument mask = <tensor 1>: masks are not supported`,
			"mask_zero_gru": `keyword argument mask = <tensor 1>: masks are not supported`,
			"state_lstm":    `config field "return_state" = true is not supported`,
			"stateful_gru":  `config field "stateful" = true is not supported`,
			"softmax_rnn":   `activation: "softmax" is not supported in a recurrent layer (only elementwise activations)`,
			"mish_lstm":     `recurrent_activation: "mish" is not supported in a recurrent layer`,
			"init_lstm":     `keyword argument "initial_state"`,
		}},
		{"testdata/rnn_refused_k2.h5", map[string]string{
			"time_major_lstm": `config field "time_major" = true is not supported (time-major inputs)`,
			"stateful_rnn":    `config field "stateful" = true is not supported`,
			"bi_state":        `config field "layer.config.return_state" = true is not supported`,
		}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			_, err := Load(tc.file, Options{})
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue)
			got := map[string]string{}
			for _, l := range ue.Layers {
				got[l.Name] = l.Reason
			}
			for name, want := range tc.want {
				if assert.Contains(t, got, name, "layer %s is refused", name) {
					assert.Contains(t, got[name], want, "layer %s", name)
				}
			}
		})
	}
}

// TestRecurrentConfigs: the fields of the recurrent classes are read or
// refused by name, inside a Bidirectional too.
func TestRecurrentConfigs(t *testing.T) {
	lstm := `"units": 3, "activation": "tanh", "recurrent_activation": "sigmoid"`
	tests := []struct {
		name, class, config string
		want                any    // the decoded params, when err is ""
		err                 string // the error, when refused
	}{
		{"lstm", "LSTM", `{` + lstm + `, "return_sequences": true, "go_backwards": true, "unroll": true, "dropout": 0.5, "recurrent_dropout": 0.2, "implementation": 1}`,
			&RecurrentConfig{Cell: graph.CellLSTM, Units: 3, Activation: "tanh", RecurrentActivation: "sigmoid", UseBias: true, ReturnSequences: true, GoBackwards: true}, ""},
		{"gru reset_before", "GRU", `{"units": 2, "activation": "relu", "recurrent_activation": "hard_sigmoid", "reset_after": false, "use_bias": false}`,
			&RecurrentConfig{Cell: graph.CellGRU, Units: 2, Activation: "relu", RecurrentActivation: "hard_sigmoid"}, ""},
		{"simple rnn", "SimpleRNN", `{"units": 4, "activation": {"module": "keras.activations", "class_name": "function", "config": "softsign"}}`,
			&RecurrentConfig{Cell: graph.CellRNN, Units: 4, Activation: "softsign", UseBias: true}, ""},
		{"gru without reset_after", "GRU", `{"units": 2, "activation": "tanh", "recurrent_activation": "sigmoid"}`, nil,
			`config field "reset_after" is missing`},
		{"lstm without recurrent_activation", "LSTM", `{"units": 2, "activation": "tanh"}`, nil,
			`config field "recurrent_activation" is missing`},
		{"custom recurrent activation", "LSTM", `{"units": 2, "activation": "tanh", "recurrent_activation": {"module": "mymod", "class_name": "function", "config": "f"}}`, nil,
			`config field "recurrent_activation" = {"module": "mymod", "class_name": "function", "config": "f"} is not supported (only Keras's built-in activation functions)`},
		{"stateful", "LSTM", `{` + lstm + `, "stateful": true}`, nil, `config field "stateful" = true is not supported`},
		{"unknown field", "SimpleRNN", `{"units": 2, "activation": "tanh", "peephole": true}`, nil, `config field "peephole" is not understood`},
		{"bidirectional tf_keras", "Bidirectional", `{"merge_mode": "sum", "layer": {"class_name": "LSTM", "config": {` + lstm + `}}}`,
			&BidirectionalConfig{MergeMode: "sum",
				Forward:  &RecurrentConfig{Cell: graph.CellLSTM, Units: 3, Activation: "tanh", RecurrentActivation: "sigmoid", UseBias: true},
				Backward: &RecurrentConfig{Cell: graph.CellLSTM, Units: 3, Activation: "tanh", RecurrentActivation: "sigmoid", UseBias: true, GoBackwards: true}}, ""},
		{"bidirectional merge None", "Bidirectional", `{"merge_mode": null, "layer": {"class_name": "LSTM", "config": {` + lstm + `}}}`,
			&BidirectionalConfig{
				Forward:  &RecurrentConfig{Cell: graph.CellLSTM, Units: 3, Activation: "tanh", RecurrentActivation: "sigmoid", UseBias: true},
				Backward: &RecurrentConfig{Cell: graph.CellLSTM, Units: 3, Activation: "tanh", RecurrentActivation: "sigmoid", UseBias: true, GoBackwards: true}}, ""},
		{"bidirectional bad merge", "Bidirectional", `{"merge_mode": "max", "layer": {"class_name": "LSTM", "config": {` + lstm + `}}}`, nil,
			`config field "merge_mode" = "max" is not supported (concat, sum, mul, ave or None)`},
		{"bidirectional of a Dense", "Bidirectional", `{"layer": {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2}}}`, nil,
			`Bidirectional wraps LSTM, GRU or SimpleRNN`},
		{"bidirectional inner unknown field", "Bidirectional", `{"layer": {"class_name": "GRU", "config": {"units": 2, "activation": "tanh", "recurrent_activation": "sigmoid", "reset_after": true, "x": 1}}}`, nil,
			`config field "layer.config.x" is not understood`},
		{"bidirectional inner unknown key", "Bidirectional", `{"layer": {"class_name": "LSTM", "shared": 1, "config": {` + lstm + `}}}`, nil,
			`config field "layer.shared" is not understood`},
		{"bidirectional same direction", "Bidirectional", `{"layer": {"class_name": "LSTM", "config": {` + lstm + `}}, "backward_layer": {"class_name": "LSTM", "config": {` + lstm + `}}}`, nil,
			`config field "backward_layer"`},
		{"masking", "Masking", `{"mask_value": 0.0}`, nil, `config field "mask_value" = 0.0 is not supported (Masking`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeParams(tc.class, json.RawMessage(tc.config))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				var fe *FieldError
				assert.ErrorAs(t, err, &fe)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
		})
	}
}

// TestRecurrentGraphs: the corpus's recurrent models map onto Recurrent
// ops as Keras computes them: the Keras gate orders and IO weights, the
// GRU's two biases split when reset_after, go_backwards as the reverse op
// (flipped back with a Gather when the layer returns its sequence), and a
// Bidirectional as two ops merged.
func TestRecurrentGraphs(t *testing.T) {
	tests := []struct {
		dir   string
		kinds []string // the graph's op kinds in order
		check func(t *testing.T, g *graph.Graph)
	}{
		{"rnn_lstm_seq_backwards", []string{"LSTM", "Gather"}, func(t *testing.T, g *graph.Graph) {
			op := g.Nodes[0].Op.(*graph.Recurrent)
			assert.True(t, op.Reverse)
			assert.True(t, op.ReturnSequences)
			assert.Equal(t, graph.GatesLSTM, op.Gates)
			assert.Equal(t, graph.IO, op.WeightLayout)
			assert.True(t, op.Bias)
			assert.False(t, op.RecurrentBias)
		}},
		{"rnn_gru_reset_after", []string{"GRU"}, func(t *testing.T, g *graph.Graph) {
			op := g.Nodes[0].Op.(*graph.Recurrent)
			assert.True(t, op.ResetAfter)
			assert.True(t, op.RecurrentBias)
			assert.Equal(t, graph.GatesGRUKeras, op.Gates)
			assert.Len(t, g.Nodes[0].Inputs, 5)
		}},
		{"rnn_gru_reset_before", []string{"GRU"}, func(t *testing.T, g *graph.Graph) {
			op := g.Nodes[0].Op.(*graph.Recurrent)
			assert.False(t, op.ResetAfter)
			assert.True(t, op.Reverse, "go_backwards")
			assert.False(t, op.ReturnSequences)
			assert.IsType(t, &graph.Relu{}, op.Activation)
		}},
		{"rnn_bigru_sum", []string{"GRU", "GRU", "Add"}, func(t *testing.T, g *graph.Graph) {
			assert.False(t, g.Nodes[0].Op.(*graph.Recurrent).Reverse)
			assert.True(t, g.Nodes[1].Op.(*graph.Recurrent).Reverse)
		}},
		{"rnn_bilstm_none", []string{"LSTM", "LSTM"}, func(t *testing.T, g *graph.Graph) {
			require.Len(t, g.Outputs, 2)
			assert.Equal(t, "bidirectional", g.Outputs[0].Name)
			assert.Equal(t, "bidirectional_1", g.Outputs[1].Name)
			assert.True(t, g.Nodes[1].Op.(*graph.Recurrent).Reverse, "the backward sequence is the reverse op's, aligned")
		}},
		{"rnn_simple_seq_nobias", []string{"RNN"}, func(t *testing.T, g *graph.Graph) {
			op := g.Nodes[0].Op.(*graph.Recurrent)
			assert.False(t, op.Bias)
			assert.Nil(t, op.RecurrentActivation)
		}},
	}
	for _, tc := range tests {
		for _, f := range []string{"model_k2.h5", "model.keras", "model_k3.h5"} {
			t.Run(tc.dir+"/"+f, func(t *testing.T) {
				g, err := Load(filepath.Join("../../testdata/corpus/keras", tc.dir, f), Options{})
				require.NoError(t, err)
				var kinds []string
				for _, n := range g.Nodes {
					kinds = append(kinds, n.Op.Kind())
				}
				assert.Equal(t, tc.kinds, kinds, strings.Join(kinds, " "))
				if slices.Equal(tc.kinds, kinds) {
					tc.check(t, g)
				}
			})
		}
	}
}
