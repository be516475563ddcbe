package validation

import (
	"fmt"
	"slices"
	"strings"

	tfl "github.com/edgeval/edgeval/tflite"
)

// stateWarning returns a warning when a .tflite keeps state in variable
// tensors (the TF converter's fused UNIDIRECTIONAL_SEQUENCE_LSTM and
// BIDIRECTIONAL_SEQUENCE_LSTM hold their recurrent state so): TFLite
// carries such a tensor from one invocation to the next, so an application
// that does not reset it gets each sample started from the state the one
// before left; validate's TFLite C sessions reset it before every sample
// (each sample is one call of the stateless source model), and LiteRT's
// WebAssembly build refuses such a model. It returns "" for a model
// without one, or one it cannot read (the runtime reports that).
func stateWarning(model []byte) string {
	m, err := tfl.Read(model)
	if err != nil {
		return ""
	}
	var vars, ops []string
	for _, sg := range m.Subgraphs {
		for i, t := range sg.Tensors {
			if !t.IsVariable {
				continue
			}
			vars = append(vars, t.Name)
			for _, op := range sg.Operators {
				if slices.Contains(op.Inputs, i) && !slices.Contains(ops, op.Name()) {
					ops = append(ops, op.Name())
				}
			}
		}
	}
	if len(vars) == 0 {
		return ""
	}
	return fmt.Sprintf("the .tflite keeps state in %d variable tensor(s) (%s, read by %s): TFLite carries them from one "+
		"invocation to the next, so an application must reset them (TfLiteInterpreterResetVariableTensors) between "+
		"independent inputs or each starts from the state the one before left; validate's TFLite C sessions reset them "+
		"before every sample, and LiteRT's WebAssembly build refuses such a model", len(vars), shorten(vars, 3), strings.Join(ops, ", "))
}

// shorten joins the first n names, with "…" when there are more.
func shorten(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + ", …"
}
