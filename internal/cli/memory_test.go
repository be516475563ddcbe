package cli

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/edgeval/edgeval/exitcode"
)

// TestValidateMaxMemory: a 1 KB .keras that declares a [N,4096,4096,64]
// input is refused from its shapes, before anything is allocated (it once
// grew to 22 GB and was killed), naming the tensors; --max-memory is
// parsed strictly.
func TestValidateMaxMemory(t *testing.T) {
	src := corpusFile(t, "keras/act_relu/model.keras")
	huge := mutateKeras(t, src, `"batch_shape": [null, 8, 7, 6]`, `"batch_shape": [null, 4096, 4096, 64]`)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"default limit", []string{huge}, exitcode.BadInput, `"in_0" [1 4096 4096 64]`},
		{"explicit limit", []string{"--max-memory", "1GiB", huge}, exitcode.BadInput, "1.0 GiB limit"},
		{"small model within a small limit", []string{"--max-memory", "256MiB", src}, exitcode.Pass, ""},
		{"bad flag", []string{"--max-memory", "lots", src}, exitcode.BadInput, "--max-memory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append([]string{"--out", t.TempDir()}, tc.args...)...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.msg)
		})
	}
}
