package bug

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestError(t *testing.T) {
	cause := fmt.Errorf("LayerNorm: 1 inputs, want 3: %w", io.ErrUnexpectedEOF)
	tests := []struct {
		name     string
		err      error
		wantMsg  string
		wantBug  bool
		wantCaus error
	}{
		{"New", New("passes: ToNHWC", cause),
			"internal error in passes: ToNHWC: LayerNorm: 1 inputs, want 3: unexpected EOF — this is a bug in edgeval, please report it with the repro bundle",
			true, io.ErrUnexpectedEOF},
		{"Errorf", Errorf("tflite.Builder", "tensor %d out of range: %w", 7, io.ErrUnexpectedEOF),
			"internal error in tflite.Builder: tensor 7 out of range: unexpected EOF — this is a bug in edgeval, please report it with the repro bundle",
			true, io.ErrUnexpectedEOF},
		{"wrapped by a caller", fmt.Errorf("model.h5: converting: %w", New("converter/tflite", cause)),
			"model.h5: converting: internal error in converter/tflite: LayerNorm: 1 inputs, want 3: unexpected EOF — this is a bug in edgeval, please report it with the repro bundle",
			true, io.ErrUnexpectedEOF},
		{"no where", &Error{Err: cause},
			"internal error in edgeval: LayerNorm: 1 inputs, want 3: unexpected EOF — this is a bug in edgeval, please report it with the repro bundle",
			true, io.ErrUnexpectedEOF},
		{"plain error", cause, cause.Error(), false, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.err)
			assert.Equal(t, tt.wantMsg, tt.err.Error())
			assert.Equal(t, tt.wantBug, Is(tt.err))
			var be *Error
			assert.Equal(t, tt.wantBug, errors.As(tt.err, &be))
			assert.ErrorIs(t, tt.err, tt.wantCaus)
		})
	}
}

func TestNewKeepsTheFirstWhere(t *testing.T) {
	assert.NoError(t, New("x", nil))
	inner := New("passes: ToNHWC", errors.New("broken"))
	outer := New("passes: Canonicalize", fmt.Errorf("pass 3: %w", inner))
	var be *Error
	require.ErrorAs(t, outer, &be)
	assert.Equal(t, "passes: ToNHWC", be.Where, "the place that found the violation is kept")
	assert.Equal(t, "pass 3: "+inner.Error(), outer.Error(), "not wrapped twice")
}
