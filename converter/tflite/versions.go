package tflite

import (
	"slices"
	"strconv"
	"strings"

	tfl "github.com/edgeval/edgeval/tflite"
)

// runtimeVersions gives the TensorFlow Lite release that first ran each
// operator version this package writes (the values of TFLite's
// tools/versioning/runtime_version.cc).
var runtimeVersions = map[tfl.BuiltinOperator]map[int]string{
	tfl.OpAveragePool2D:   {1: "1.5.0", 2: "1.14.0"},
	tfl.OpConv2D:          {1: "1.5.0", 3: "1.14.0", 5: "2.4.0"},
	tfl.OpDepthwiseConv2D: {1: "1.5.0", 2: "1.12.0", 3: "1.14.0", 6: "2.3.0"},
	// FULLY_CONNECTED 12 (hybrid, per-channel weights) is newer than
	// the table this was taken from; TFLite 2.17.1 runs it.
	tfl.OpFullyConnected:        {1: "1.5.0", 4: "1.14.0", 5: "2.0.0", 9: "2.3.0", 12: "2.17.0"},
	tfl.OpMaxPool2D:             {1: "1.5.0", 2: "1.14.0"},
	tfl.OpAdd:                   {1: "1.5.0", 2: "1.14.0"},
	tfl.OpMul:                   {1: "1.5.0", 2: "1.14.0"},
	tfl.OpSub:                   {1: "1.6.0", 2: "1.14.0", 3: "2.3.0"},
	tfl.OpDiv:                   {1: "1.6.0", 2: "2.3.0"},
	tfl.OpReshape:               {1: "1.5.0"},
	tfl.OpSoftmax:               {1: "1.5.0", 2: "1.14.0"},
	tfl.OpLogSoftmax:            {1: "1.14.0"},
	tfl.OpLogistic:              {1: "1.14.0", 2: "1.14.0"},
	tfl.OpTanh:                  {1: "1.14.0", 2: "1.14.0"},
	tfl.OpRelu:                  {1: "1.5.0", 2: "2.1.0"},
	tfl.OpRelu6:                 {1: "1.5.0", 2: "1.14.0"},
	tfl.OpReluN1To1:             {1: "1.5.0"},
	tfl.OpConcatenation:         {1: "1.5.0", 2: "1.14.0"},
	tfl.OpMean:                  {1: "1.6.0", 2: "1.14.0"},
	tfl.OpSum:                   {1: "1.10.0"},
	tfl.OpReduceMax:             {1: "1.11.0"},
	tfl.OpReduceMin:             {1: "1.11.0"},
	tfl.OpReduceProd:            {1: "1.11.0"},
	tfl.OpPad:                   {1: "1.5.0", 2: "1.14.0", 4: "2.6.0"},
	tfl.OpPadv2:                 {1: "1.9.0", 2: "1.14.0", 4: "2.6.0"},
	tfl.OpMirrorPad:             {1: "1.13.1"},
	tfl.OpTranspose:             {1: "1.6.0", 2: "1.14.0", 4: "2.3.0", 6: "2.12.0"},
	tfl.OpStridedSlice:          {1: "1.6.0", 2: "1.14.0", 4: "2.2.0"},
	tfl.OpSlice:                 {1: "1.14.0", 2: "1.14.0", 5: "2.5.0"},
	tfl.OpSplit:                 {1: "1.5.0", 2: "1.14.0"},
	tfl.OpPack:                  {1: "1.11.0"},
	tfl.OpUnpack:                {1: "1.11.0"},
	tfl.OpResizeBilinear:        {1: "1.7.0", 2: "1.14.0", 3: "2.2.0"},
	tfl.OpResizeNearestNeighbor: {1: "1.13.1", 2: "1.14.0", 3: "2.3.0"},
	tfl.OpExp:                   {1: "1.7.0"},
	tfl.OpLog:                   {1: "1.14.0"},
	tfl.OpSqrt:                  {1: "1.10.0"},
	tfl.OpRsqrt:                 {1: "1.10.0"},
	tfl.OpAbs:                   {1: "1.13.0"},
	tfl.OpNeg:                   {1: "1.9.0"},
	tfl.OpSquare:                {1: "1.12.0"},
	tfl.OpSquaredDifference:     {1: "1.13.1"},
	tfl.OpPow:                   {1: "1.10.0"},
	tfl.OpMaximum:               {1: "1.14.0", 2: "1.14.0", 3: "2.3.0"},
	tfl.OpMinimum:               {1: "1.14.0", 2: "1.14.0", 3: "2.3.0"},
	tfl.OpGather:                {1: "1.6.0"},
	tfl.OpCast:                  {1: "1.5.0"},
	tfl.OpPrelu:                 {1: "1.8.0"},
	tfl.OpLeakyRelu:             {1: "1.13.1"},
	tfl.OpElu:                   {1: "1.14.0"},
	tfl.OpHardSwish:             {1: "1.15.0"},
	tfl.OpGelu:                  {1: "2.9.0"},
	tfl.OpTransposeConv:         {1: "1.9.0", 3: "2.3.0"},
	tfl.OpBatchMatmul:           {1: "2.3.0"},
	tfl.OpQuantize:              {1: "1.14.0"},
	tfl.OpDequantize:            {1: "1.13.1", 2: "1.14.0", 3: "1.15.0", 4: "2.2.0"},
}

// opVersion returns the lowest version of a float32 operator that handles
// inputs of the given shapes (after TFLite's
// tools/versioning/op_version.cc): rank 5 and 6 tensors and rank-5
// broadcasting need newer kernels. Versions that depend on options
// (dilation, keep_num_dims, half-pixel centers, a bias) are given by the
// caller.
func opVersion(code tfl.BuiltinOperator, in [][]int) int {
	rank0 := 0
	if len(in) > 0 {
		rank0 = len(in[0])
	}
	maxRank := 0
	for _, s := range in {
		maxRank = max(maxRank, len(s))
	}
	broadcast := len(in) >= 2 && !slices.Equal(in[0], in[1])
	switch code {
	case tfl.OpTranspose:
		switch {
		case rank0 > 5:
			return 6
		case rank0 > 4:
			return 4
		}
	case tfl.OpPad, tfl.OpPadv2:
		if rank0 > 4 {
			return 4
		}
	case tfl.OpSlice:
		if rank0 > 4 {
			return 5
		}
	case tfl.OpStridedSlice:
		if rank0 > 4 {
			return 4
		}
	case tfl.OpMaximum, tfl.OpMinimum, tfl.OpSub:
		if broadcast && maxRank > 4 {
			return 3
		}
	case tfl.OpDiv:
		if broadcast && maxRank > 4 {
			return 2
		}
	}
	return 1
}

// minRuntime returns the oldest TFLite release that has every operator
// version the model uses.
func (w *writer) minRuntime() string {
	best := "1.5.0"
	for code, v := range w.versions {
		r, ok := runtimeVersions[code][v]
		if !ok {
			continue
		}
		if versionLess(best, r) {
			best = r
		}
	}
	return best
}

// versionLess compares dotted release numbers.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
