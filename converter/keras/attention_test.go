package keras

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecodeAttention reads MultiHeadAttention configurations as Keras 3
// and tf_keras write them, defaults only for absent fields.
func TestDecodeAttention(t *testing.T) {
	tests := []struct {
		name, config string
		want         *AttentionConfig
	}{
		{"keras 3", `{"name": "mha", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
			"num_heads": 2, "key_dim": 4, "value_dim": 4, "dropout": 0.0, "use_bias": true, "use_gate": false, "output_shape": null,
			"attention_axes": [1], "sliding_window": null, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
			"kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
			"bias_constraint": null, "seed": null}`,
			&AttentionConfig{NumHeads: 2, KeyDim: 4, ValueDim: 4, UseBias: true, AttentionAxes: []int{1}}},
		{"tf_keras", `{"name": "mha", "num_heads": 3, "key_dim": 4, "value_dim": 3, "dropout": 0.2, "use_bias": false,
			"output_shape": [2, 3], "attention_axes": null, "query_shape": [null, 5, 8], "key_shape": [null, 7, 4],
			"value_shape": [null, 7, 6], "softmax_robust_masking": false}`,
			&AttentionConfig{NumHeads: 3, KeyDim: 4, ValueDim: 3, Dropout: 0.2, OutputShape: []int{2, 3},
				QueryShape: []int{-1, 5, 8}, KeyShape: []int{-1, 7, 4}, ValueShape: []int{-1, 7, 6}}},
		{"value_dim null is key_dim, output_shape int", `{"num_heads": 1, "key_dim": 6, "value_dim": null, "output_shape": 5}`,
			&AttentionConfig{NumHeads: 1, KeyDim: 6, ValueDim: 6, UseBias: true, OutputShape: []int{5}}},
		{"empty output_shape is the query's size", `{"num_heads": 1, "key_dim": 2, "output_shape": []}`,
			&AttentionConfig{NumHeads: 1, KeyDim: 2, ValueDim: 2, UseBias: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeParams("MultiHeadAttention", []byte(tc.config))
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
		})
	}
}

// TestDecodeAttentionRefuses names every field whose value the mapping
// does not honour.
func TestDecodeAttentionRefuses(t *testing.T) {
	tests := []struct{ name, config, want string }{
		{"gate", `{"num_heads": 2, "key_dim": 4, "use_gate": true}`,
			`config field "use_gate" = true is not supported (the gated variant (use_gate))`},
		{"sliding window", `{"num_heads": 2, "key_dim": 4, "sliding_window": 3}`,
			`config field "sliding_window" = 3 is not supported (sliding-window attention masks)`},
		{"robust masking", `{"num_heads": 2, "key_dim": 4, "softmax_robust_masking": true}`,
			`config field "softmax_robust_masking" = true is not supported (robust masking (mask > 0.5))`},
		{"no heads", `{"key_dim": 4}`, `config field "num_heads" is missing`},
		{"zero key_dim", `{"num_heads": 2, "key_dim": 0}`, `config field "key_dim" = 0 must be positive`},
		{"value_dim", `{"num_heads": 2, "key_dim": 4, "value_dim": -1}`, `config field "value_dim" = -1 must be positive`},
		{"dropout", `{"num_heads": 2, "key_dim": 4, "dropout": 1.5}`, `config field "dropout" = 1.5 must be in [0, 1)`},
		{"output_shape", `{"num_heads": 2, "key_dim": 4, "output_shape": [3, 0]}`, `config field "output_shape" = [3, 0] must hold positive sizes`},
		{"unknown", `{"num_heads": 2, "key_dim": 4, "flash": true}`, `config field "flash" is not understood`},
		{"mixed precision", `{"num_heads": 2, "key_dim": 4, "dtype": "mixed_float16"}`,
			`config field "dtype" = "mixed_float16" is not supported (only float32 layers are read)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeParams("MultiHeadAttention", []byte(tc.config))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			var fe *FieldError
			assert.True(t, errors.As(err, &fe), "a *FieldError")
		})
	}
}

// TestCheckAttentionAxes accepts only Keras's default axes, stated in
// any of the ways Keras writes them.
func TestCheckAttentionAxes(t *testing.T) {
	tests := []struct {
		axes []int
		rank int
		ok   bool
	}{
		{nil, 3, true}, {[]int{1}, 3, true}, {[]int{-2}, 3, true}, {[]int{1, 2}, 4, true}, {[]int{2, -3}, 4, true},
		{[]int{2}, 4, false}, {[]int{1}, 4, false}, {[]int{2}, 3, false}, {[]int{1, 2}, 3, false},
	}
	for _, tc := range tests {
		err := checkAttentionAxes(tc.axes, tc.rank)
		if tc.ok {
			assert.NoError(t, err, "axes %v rank %d", tc.axes, tc.rank)
			continue
		}
		var fe *FieldError
		if assert.ErrorAs(t, err, &fe, "axes %v rank %d", tc.axes, tc.rank) {
			assert.Equal(t, "attention_axes", fe.Field)
		}
	}
}

// TestBindAttention binds calls by both frameworks' signatures and
// refuses, by name, what is not mapped.
func TestBindAttention(t *testing.T) {
	tensor := func(i int) Arg { return Arg{Kind: ArgTensor, Tensor: i} }
	boolean := func(b bool) Arg { return Arg{Kind: ArgBool, Bool: b} }
	none := Arg{Kind: ArgNone}
	tests := []struct {
		name    string
		call    Call
		keras3  bool
		want    *attentionCall
		err     string
		refused bool // an *errUnsupported rather than a broken call
	}{
		{name: "keras 3 self", keras3: true, call: Call{Args: []Arg{tensor(0), tensor(0)}},
			want: &attentionCall{query: 0, value: 0, key: -1, mask: -1}},
		{name: "tf_keras value by keyword", call: Call{Args: []Arg{tensor(0)}, Kwargs: map[string]Arg{"value": tensor(0), "attention_mask": tensor(1)}},
			want: &attentionCall{query: 0, value: 0, key: -1, mask: 1}},
		{name: "key and causal", keras3: true, call: Call{Args: []Arg{tensor(0), tensor(1)}, Kwargs: map[string]Arg{"key": tensor(2), "use_causal_mask": boolean(true), "training": none}},
			want: &attentionCall{query: 0, value: 1, key: 2, mask: -1, causal: true}},
		{name: "tf_keras positional mask", call: Call{Args: []Arg{tensor(0), tensor(1), none, tensor(2)}},
			want: &attentionCall{query: 0, value: 1, key: -1, mask: 2}},
		{name: "keras 3 fourth positional is query_mask", keras3: true, call: Call{Args: []Arg{tensor(0), tensor(1), none, tensor(2)}},
			err: "argument query_mask = <tensor 2> is not supported (Keras masks are not read)", refused: true},
		{name: "scores", keras3: true, call: Call{Args: []Arg{tensor(0), tensor(0)}, Kwargs: map[string]Arg{"return_attention_scores": boolean(true)}},
			err: "return_attention_scores = True is not supported (the scores as a second output)", refused: true},
		{name: "training", call: Call{Args: []Arg{tensor(0)}, Kwargs: map[string]Arg{"value": tensor(0), "training": boolean(true)}},
			err: "keyword argument training = True: a call in training mode is not supported", refused: true},
		{name: "constant mask", keras3: true, call: Call{Args: []Arg{tensor(0), tensor(0)}, Kwargs: map[string]Arg{"attention_mask": {Kind: ArgArray, List: []Arg{boolean(true)}}}},
			err: "argument attention_mask = array([True], ) is not supported (only a tensor of the model)", refused: true},
		{name: "unknown keyword", keras3: true, call: Call{Args: []Arg{tensor(0), tensor(0)}, Kwargs: map[string]Arg{"mask": none}},
			err: `keyword argument "mask" = None is not understood`, refused: true},
		{name: "causal not a bool", keras3: true, call: Call{Args: []Arg{tensor(0), tensor(0)}, Kwargs: map[string]Arg{"use_causal_mask": {Kind: ArgNumber, Num: 1}}},
			err: "argument use_causal_mask = 1 is not a boolean", refused: true},
		{name: "no value", call: Call{Args: []Arg{tensor(0)}}, err: `argument "value" is missing`},
		{name: "twice", keras3: true, call: Call{Args: []Arg{tensor(0), tensor(0)}, Kwargs: map[string]Arg{"value": tensor(1)}},
			err: `argument "value" is given twice`},
		{name: "too many", call: Call{Args: make([]Arg, 8)}, err: "called with 8 positional arguments; MultiHeadAttention takes at most 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.call.Kwargs == nil {
				tc.call.Kwargs = map[string]Arg{}
			}
			got, err := bindAttention(&tc.call, tc.keras3)
			if tc.err == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.err, err.Error())
			var u *errUnsupported
			assert.Equal(t, tc.refused, errors.As(err, &u), "unsupported (not a broken call)")
		})
	}
}
