package tensor

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteAtomicStream: content streamed in many writes lands whole, and a
// write that fails half-way leaves the old file as it was and no
// temporary file behind.
func TestWriteAtomicStream(t *testing.T) {
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16 KB
	boom := errors.New("the source failed")
	tests := []struct {
		name    string
		chunks  int
		failAt  int // -1: never
		wantErr error
	}{
		{"many small writes", 40, -1, nil},
		{"one write", 1, -1, nil},
		{"fails half-way", 40, 20, boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "inputs.npz")
			old := []byte("old contents\n")
			require.NoError(t, os.WriteFile(path, old, 0o644))
			err := WriteAtomic(path, func(w io.Writer) error {
				for i := range tc.chunks {
					if i == tc.failAt {
						return boom
					}
					if _, err := w.Write(chunk); err != nil {
						return err
					}
				}
				return nil
			})
			got, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				var we *WriteError
				assert.ErrorAs(t, err, &we)
				assert.Equal(t, old, got, "the old file is intact")
			} else {
				require.NoError(t, err)
				assert.Equal(t, bytes.Repeat(chunk, tc.chunks), got)
			}
			es, rerr := os.ReadDir(dir)
			require.NoError(t, rerr)
			assert.Len(t, es, 1, "no temporary file left")
		})
	}
}
