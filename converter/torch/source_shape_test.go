package torch

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseInputShape(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		err  bool
	}{
		{"", nil, false},
		{"1,3,32,32", []int{1, 3, 32, 32}, false},
		{" 2, 8 ", []int{2, 8}, false},
		{"1,0,4", nil, true},
		{"1,x", nil, true},
		{"1,,3", nil, true},
	}
	for _, tc := range tests {
		got, err := ParseInputShape(tc.in)
		if tc.err {
			assert.EqualError(t, err, `--input-shape "`+tc.in+`": want positive integers N,C,H,W`)
			continue
		}
		assert.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}
