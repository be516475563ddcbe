package precision

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for _, p := range All {
		got, err := Parse(string(p))
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
	got, err := Parse("")
	require.NoError(t, err)
	assert.Equal(t, Float32, got)
	_, err = Parse("bfloat16")
	assert.ErrorContains(t, err, `unknown precision "bfloat16"`)
	assert.Equal(t, Float32, Precision("").OrFloat32())
	assert.Equal(t, Int8, Int8.OrFloat32())
}
