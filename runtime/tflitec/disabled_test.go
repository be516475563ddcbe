//go:build !cgo

package tflitec

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
)

func TestNotBuiltIn(t *testing.T) {
	rt, err := runtime.Get(Name)
	require.Error(t, err)
	assert.Nil(t, rt)
	assert.True(t, errors.Is(err, runtime.ErrNotBuiltIn), "error %v should wrap runtime.ErrNotBuiltIn", err)
	var re *runtime.Error
	require.True(t, errors.As(err, &re), "error %T should be a *runtime.Error", err)
	assert.Equal(t, Name, re.Runtime)
	assert.Contains(t, err.Error(), "CGO_ENABLED=0")
	assert.Contains(t, err.Error(), "libtensorflowlite_c")
	assert.Contains(t, runtime.Names(), Name)
}
