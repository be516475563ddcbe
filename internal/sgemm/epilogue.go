package sgemm

import (
	"fmt"
	"math"
)

// Act is an activation an Epilogue applies element by element.
type Act uint8

// The activations an Epilogue can apply.
const (
	ActNone  Act = iota // identity
	ActRelu             // max(x, 0) on the bits: -0 and negative NaNs become +0, positive NaNs stay
	ActRelu6            // min(ActRelu(x), 6), NaNs staying NaN
)

// Epilogue is the per-column work that follows a product whose rows are
// output pixels and whose columns are channels (an NHWC convolution or a
// dense layer), in this order: add Bias, apply Act1, compute x*Scale+Shift
// (a BatchNorm: multiply, round, add, round), apply Act2. Nil slices and
// ActNone are skipped. Slices hold at least one value per column.
//
// Every step rounds to float32 like the separate element-wise passes it
// replaces, so one fused pass gives the same bits as the passes one by one.
type Epilogue struct {
	Bias         []float32
	Act1         Act
	Scale, Shift []float32
	Act2         Act
}

// Empty reports whether e does nothing.
func (e *Epilogue) Empty() bool {
	return e.Bias == nil && e.Act1 == ActNone && e.Scale == nil && e.Act2 == ActNone
}

// Apply writes dst = e(src) for a rows×cols row-major matrix (leading
// dimension cols); dst may be src. It panics when a slice is too short or
// Scale and Shift are not both set or both nil: caller bugs.
func (e *Epilogue) Apply(dst, src []float32, rows, cols int) {
	checkDims(rows, cols, 0)
	if rows == 0 || cols == 0 {
		e.check(0)
		return
	}
	checkMatrix("dst", rows, cols, dst, cols)
	checkMatrix("src", rows, cols, src, cols)
	e.check(cols)
	wide := 0
	if hasAsm && cols >= 8 {
		wide = cols &^ 7
		epilogueAsm(e, dst, src, rows, cols, wide)
		if wide == cols {
			return
		}
	}
	for r := range rows {
		e.row(dst[r*cols+wide:r*cols+cols], src[r*cols+wide:r*cols+cols], wide)
	}
}

// check panics unless e's slices hold cols values each and Scale and
// Shift are both set or both nil.
func (e *Epilogue) check(cols int) {
	if (e.Scale == nil) != (e.Shift == nil) {
		panic("sgemm: epilogue with only one of Scale and Shift")
	}
	checkLen("Bias", e.Bias, cols)
	checkLen("Scale", e.Scale, cols)
	checkLen("Shift", e.Shift, cols)
}

// checkLen panics when s is set and shorter than cols: a check cheap
// enough for the kernels' per-row calls.
func checkLen(name string, s []float32, cols int) {
	if s != nil && len(s) < cols {
		panic(fmt.Sprintf("sgemm: epilogue %s has %d values, want %d", name, len(s), cols))
	}
}

// applyBlock applies e in place to rows [i0, i1) and columns [j0, j0+cols)
// of c (leading dimension ldc): the same operations as Apply on those
// elements. Arguments are the driver's, already checked.
func (e *Epilogue) applyBlock(c []float32, ldc, i0, i1, j0, cols int) {
	wide := 0
	if hasAsm && cols >= 8 {
		wide = cols &^ 7
		epilogueBlockAsm(e, c[i0*ldc+j0:], ldc, i1-i0, j0, wide)
		if wide == cols {
			return
		}
	}
	for i := i0; i < i1; i++ {
		row := c[i*ldc+j0+wide : i*ldc+j0+cols]
		e.row(row, row, j0+wide)
	}
}

// row applies e to one row's columns [j0, j0+len(dst)).
func (e *Epilogue) row(dst, src []float32, j0 int) {
	src = src[:len(dst)]
	for j, v := range src {
		c := j0 + j
		if e.Bias != nil {
			v += e.Bias[c]
		}
		v = act(v, e.Act1)
		if e.Scale != nil {
			v = mulAdd(v, e.Scale[c], e.Shift[c])
		}
		dst[j] = act(v, e.Act2)
	}
}

// mulAdd returns x*s + b with the product rounded before the sum (no
// FMA, whatever GOAMD64 is): the explicit conversion forces the rounding.
func mulAdd(x, s, b float32) float32 {
	return float32(x*s) + b
}

// relu is max(x, 0) on the bits, without a branch: -0 and negative NaNs
// become +0.
func relu(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

func act(v float32, a Act) float32 {
	switch a {
	case ActRelu:
		return relu(v)
	case ActRelu6:
		return min(relu(v), 6)
	}
	return v
}
