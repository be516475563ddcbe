package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benchOut is BenchmarkReference's output as go test prints it: two rounds
// of one model, with a log line of the runtime between benchmarks.
const benchOut = `goos: linux
BenchmarkReference/model=resnet18_nchw/impl=ref/threads=1-2         	      20	   9000000 ns/op	         0.008 cpu-sec/op
BenchmarkReference/model=resnet18_nchw/impl=ref-nhwc/threads=1-2    	      20	   9500000 ns/op	         0.010 cpu-sec/op
INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
BenchmarkReference/model=resnet18_nchw/impl=xnnpack/threads=1-2     	      20	  17000000 ns/op	         0.004 cpu-sec/op	         0.006 invoke-sec/op
BenchmarkReference/model=resnet18_nchw/impl=ref/threads=1-2         	      20	  12000000 ns/op	         0.012 cpu-sec/op
BenchmarkReference/model=resnet18_nchw/impl=ref-nhwc/threads=1-2    	      20	  11000000 ns/op	         0.010 cpu-sec/op
BenchmarkReference/model=resnet18_nchw/impl=xnnpack/threads=1-2     	      20	  17000000 ns/op	         0.010 cpu-sec/op	         0.008 invoke-sec/op
PASS
`

func TestParseReference(t *testing.T) {
	m, models := parseReference([]byte(benchOut))
	assert.Equal(t, []string{"resnet18_nchw"}, models)
	tests := []struct {
		impl string
		want []refMeasure
	}{
		{"ref", []refMeasure{{0.009, 0.008}, {0.012, 0.012}}},
		{"ref-nhwc", []refMeasure{{0.0095, 0.010}, {0.011, 0.010}}},
		// XNNPACK's wall is its invoke time, not the harness's ns/op.
		{"xnnpack", []refMeasure{{0.006, 0.004}, {0.008, 0.010}}},
	}
	for _, tt := range tests {
		t.Run(tt.impl, func(t *testing.T) {
			got := m[refKey{"resnet18_nchw", tt.impl, 1}]
			require.Len(t, got, len(tt.want))
			for i := range got {
				assert.InDelta(t, tt.want[i].wall, got[i].wall, 1e-12)
				assert.InDelta(t, tt.want[i].cpu, got[i].cpu, 1e-12)
			}
		})
	}
}

func TestPrintReference(t *testing.T) {
	m, models := parseReference([]byte(benchOut))
	var b bytes.Buffer
	printReference(&b, m, models)
	out := b.String()
	// ref/xnnpack 1t per round: wall 1.5 and 1.5, cpu 2 and 1.2.
	assert.Contains(t, out, "1.50 (1.60)")
	// NCHW/NHWC: wall 0.947 and 1.091, cpu 0.8 and 1.2.
	assert.Contains(t, out, "1.02 (1.00)")
	// No two-thread measurements.
	assert.Contains(t, out, "  -  ")
}
