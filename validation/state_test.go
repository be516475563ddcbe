package validation

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStateWarning: the TF converter's fused LSTM keeps its state in
// variable tensors, which a --tflite run is warned about (the tool's
// verdict on such a file fails from the second sample on, measured on
// TFLite C 2.17.1); an unrolled GRU, our own conversions and garbage are
// not.
func TestStateWarning(t *testing.T) {
	tests := []struct {
		file string
		want string // a part of the warning, "" for none
	}{
		{"../testdata/corpus/keras/rnn_textcls_lstm/tf_float32.tflite", "read by UNIDIRECTIONAL_SEQUENCE_LSTM"},
		{"../testdata/corpus/keras/rnn_bilstm_seq/tf_float32.tflite", "variable tensor(s)"},
		{"../testdata/corpus/keras/rnn_gru_reset_after/tf_float32.tflite", ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(tc.file)
			require.NoError(t, err)
			w := stateWarning(b)
			if tc.want == "" {
				assert.Empty(t, w)
				return
			}
			assert.Contains(t, w, tc.want)
			assert.Contains(t, w, "validate's TFLite C sessions reset them before every sample")
		})
	}
	assert.Empty(t, stateWarning([]byte("not a model")))
}
