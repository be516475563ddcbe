package keras

import (
	"fmt"
	"slices"
)

// AttentionConfig is a MultiHeadAttention layer.
type AttentionConfig struct {
	NumHeads int
	KeyDim   int
	// ValueDim is the per-head size of the values (Keras: key_dim when
	// value_dim is None).
	ValueDim int
	UseBias  bool
	// OutputShape is the output's feature shape; nil means the query's
	// feature size, as in Keras.
	OutputShape []int
	// AttentionAxes are the stated attention axes (of the projected
	// [batch, ..., heads, dim] tensor); nil means Keras's default, every
	// axis between the batch and the features.
	AttentionAxes []int
	// Dropout is inert at inference, but Keras 3 chooses how it computes
	// the scores by it (dropout 0 on rank-3 inputs takes
	// ops.dot_product_attention, which scales after the product).
	Dropout float64
	// QueryShape, KeyShape and ValueShape are the input shapes tf_keras
	// records when the layer was built (batch first, -1 for None; nil when
	// the file states none): checked against the call's inputs.
	QueryShape, KeyShape, ValueShape []int
}

// attentionFields is MultiHeadAttention's configuration table (Keras 3.15
// and tf_keras 2.21).
func attentionFields() fieldTable {
	return baseFields.with(biasFields, kernelFields, fieldTable{
		"num_heads":      read,
		"key_dim":        read,
		"value_dim":      read,
		"output_shape":   read,
		"attention_axes": read,
		"dropout":        read,
		"seed":           inert(whyTraining),
		// Keras 3's gated attention multiplies the context by a sigmoid
		// projection of the query (a fifth EinsumDense, "gate").
		"use_gate": checked(mustBeOff("the gated variant (use_gate)")),
		// A banded mask Keras 3 adds to every call.
		"sliding_window": checked(mustBeOff("sliding-window attention masks")),
		// tf_keras: a mask compared with 0.5 instead of added as 1 - mask.
		"softmax_robust_masking": checked(mustBeOff("robust masking (mask > 0.5)")),
		// tf_keras: the shapes the layer was built for.
		"query_shape": read,
		"key_shape":   read,
		"value_shape": read,
	})
}

// decodeAttention reads a MultiHeadAttention configuration.
func decodeAttention(r *fieldReader) *AttentionConfig {
	p := &AttentionConfig{NumHeads: r.positive("num_heads"), KeyDim: r.positive("key_dim"),
		UseBias: r.boolean("use_bias", true), Dropout: r.number("dropout", 0)}
	p.ValueDim = p.KeyDim
	if r.value("value_dim") != nil {
		p.ValueDim = r.integer("value_dim", p.KeyDim)
		if p.ValueDim < 1 && !r.failed("value_dim") {
			r.fail("value_dim", "must be positive")
		}
	}
	if p.Dropout < 0 || p.Dropout >= 1 {
		r.fail("dropout", "must be in [0, 1)")
	}
	// An empty output_shape is falsy for Keras: the query's size.
	if o := r.intList("output_shape"); len(o) > 0 {
		if slices.ContainsFunc(o, func(d int) bool { return d < 1 }) {
			r.fail("output_shape", "must hold positive sizes")
		}
		p.OutputShape = []int(o)
	}
	if a := r.intList("attention_axes"); a != nil {
		if len(a) == 0 {
			r.fail("attention_axes", "is empty")
		}
		p.AttentionAxes = []int(a)
	}
	for _, f := range []struct {
		k string
		v *[]int
	}{{"query_shape", &p.QueryShape}, {"key_shape", &p.KeyShape}, {"value_shape", &p.ValueShape}} {
		if raw := r.value(f.k); raw != nil {
			var d dims
			if err := d.UnmarshalJSON(raw); err != nil {
				r.fail(f.k, "is not a shape")
				continue
			}
			*f.v = []int(d)
		}
	}
	return p
}

// checkAttentionAxes accepts Keras's default attention axes for inputs of
// rank r: every axis between the batch and the features, stated or not.
// Keras numbers them in the projected [batch, ..., heads, dim] tensor of
// rank r+1 and reads a negative axis as axis + r.
func checkAttentionAxes(axes []int, r int) error {
	if axes == nil {
		return nil
	}
	got := make([]int, 0, len(axes))
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		got = append(got, a)
	}
	slices.Sort(got)
	want := make([]int, 0, r-2)
	for a := 1; a <= r-2; a++ {
		want = append(want, a)
	}
	if !slices.Equal(got, want) {
		return &FieldError{Where: InLayerConfig, Field: "attention_axes", Value: fmt.Sprint(axes),
			Reason: fmt.Sprintf("is not supported (only attention over every axis between the batch and the features, %v for rank-%d inputs)", want, r)}
	}
	return nil
}

// checkBuiltShape compares a shape tf_keras recorded for the layer with
// the input's (-1 matches any size).
func checkBuiltShape(field string, built, shape []int) error {
	if built == nil {
		return nil
	}
	ok := len(built) == len(shape)
	for i := 1; ok && i < len(built); i++ {
		ok = built[i] < 0 || built[i] == shape[i]
	}
	if !ok {
		return &FieldError{Where: InLayerConfig, Field: field, Value: fmt.Sprint(built),
			Reason: fmt.Sprintf("contradicts the input of shape %v the layer is called on", shape)}
	}
	return nil
}
