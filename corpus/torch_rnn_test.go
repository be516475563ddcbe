//go:build cgo

package corpus

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
)

// torchRecurrentCases are the corpus cases of nn.LSTM, nn.GRU and nn.RNN.
var torchRecurrentCases = []string{"rnn_lstm_textcls", "rnn_gru_bidir2", "rnn_tanh_seqfirst", "rnn_stack_seqfirst"}

// TestTorchRecurrent runs the PyTorch recurrent cases (nn.LSTM, nn.GRU,
// nn.RNN) in every format the generator wrote: the Go reference within
// 1e-5 of the output range of torch's own outputs for the default and
// decomposed .pt2, the full pickle with --arch and the state_dict with
// --arch, and our .tflite on LiteRT within the float32 tolerance.
func TestTorchRecurrent(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	lit, err := runtime.Get("litert")
	require.NoError(t, err)
	wantChecks := []string{checkRef + "torch-export-pt2", checkRef + "torch-export-pt2-decomposed", checkRef + "torch-full-pth",
		checkRef + "torch-state-dict", checkOurs}
	for _, name := range torchRecurrentCases {
		t.Run(name, func(t *testing.T) {
			c, err := ReadCase(filepath.Join(dir, "torch", name))
			require.NoError(t, err)
			outs, _ := walkCase(context.Background(), lit, c)
			got := map[string]outcome{}
			for _, o := range outs {
				got[o.check] = o
				if o.skip != "" {
					continue
				}
				if assert.NoError(t, o.err, o.check) && o.check != checkOurs {
					assert.LessOrEqual(t, o.rel, 1e-5, "%s: reference error / output range", o.check)
				}
				t.Logf("%s: %.3g of range", o.check, o.rel)
			}
			for _, ch := range wantChecks {
				assert.Contains(t, got, ch)
			}
		})
	}
}
