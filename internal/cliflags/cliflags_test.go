package cliflags

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newSet() (*flag.FlagSet, *string, *int, *bool) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	json := fs.String("json", "", "write JSON to `FILE`")
	n, set := 4, false
	fs.Var(Int{&n, &set}, "samples", "`N` samples")
	return fs, json, &n, &set
}

func TestParse(t *testing.T) {
	tests := []struct {
		args    []string
		pos     []string
		json    string
		samples int
		set     bool
	}{
		{[]string{"m.tflite"}, []string{"m.tflite"}, "", 4, false},
		{[]string{"m.tflite", "--json", "-", "x"}, []string{"m.tflite", "x"}, "-", 4, false},
		{[]string{"--samples", "2", "a", "--", "--json", "b"}, []string{"a", "--json", "b"}, "", 2, true},
		{[]string{"--samples", "4"}, nil, "", 4, true},
	}
	for _, tc := range tests {
		fs, json, n, set := newSet()
		pos, err := Parse(fs, tc.args)
		require.NoError(t, err, tc.args)
		assert.Equal(t, tc.pos, pos, tc.args)
		assert.Equal(t, tc.json, *json, tc.args)
		assert.Equal(t, tc.samples, *n, tc.args)
		assert.Equal(t, tc.set, *set, "given: %v", tc.args)
		assert.Equal(t, tc.set, Given(fs)["samples"], tc.args)
	}
	fs, _, n, set := newSet()
	_, err := Parse(fs, []string{"--samples", "x"})
	assert.ErrorContains(t, err, `invalid value "x" for flag -samples`)
	assert.Equal(t, 4, *n, "a bad value leaves the default")
	assert.False(t, *set)
	_, err = Parse(fs, []string{"-h"})
	assert.True(t, IsHelp(err))
	_, err = Parse(fs, []string{"--nope"})
	assert.False(t, IsHelp(err))
	assert.ErrorContains(t, err, "flag provided but not defined: -nope")
}

func TestDefaults(t *testing.T) {
	fs, _, _, _ := newSet()
	assert.Equal(t, "  -json FILE\n    \twrite JSON to FILE\n  -samples N\n    \tN samples (default 4)\n", Defaults(fs))
}
