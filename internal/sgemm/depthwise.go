package sgemm

import "fmt"

// Depthwise3 computes n output pixels of a depthwise convolution with a
// kernel 3 taps wide and rows (1 to 3) taps tall, channel multiplier 1 and
// c channels, for NHWC data: with X(r, p, t) = x[r*ldr + p*step + t*dx + j]
// (input row r, output pixel p, horizontal tap t, channel j) and W(r, t) =
// w[(r*3+t)*c + j],
//
//	dst[p*c+j] = (bias[j] + Σt X(0,p,t)·W(0,t)) + Σt X(1,p,t)·W(1,t) + Σt X(2,p,t)·W(2,t)
//
// over the rows present, each row's sum in order (fused multiply-adds in
// the assembly), then post applied to each output pixel's c channels (nil
// for none): the bits of post.Apply on the pixels afterwards, without a
// second pass over them when post is an activation (Act1), or a Scale and
// Shift followed by Act2 (a BatchNorm and its activation), which the
// kernel applies to each pixel as it computes it. post.Bias must be nil
// (the sum starts from bias). ldr, step and dx are in elements: the
// distance between the input rows the kernel reads, between the first
// taps of successive output pixels (stride × c) and between horizontal
// taps (dilation × c).
//
// The caller passes only in-bounds taps: pixels whose taps reach the
// padding are computed from a zero-padded copy. On amd64 with AVX2 and FMA,
// c a multiple of 8 runs the assembly kernel. Depthwise3 panics when an
// argument is negative or out of range, or a slice too short: caller bugs.
func Depthwise3(dst, x []float32, ldr, step, dx int, w, bias []float32, rows, n, c int, post *Epilogue) {
	if rows < 1 || rows > 3 || n < 0 || c < 0 || ldr < 0 || step < 0 || dx < 0 {
		panic(fmt.Sprintf("sgemm: Depthwise3 with rows=%d n=%d c=%d ldr=%d step=%d dx=%d", rows, n, c, ldr, step, dx))
	}
	if post != nil {
		if post.Bias != nil {
			panic("sgemm: Depthwise3 with a post-processing bias")
		}
		post.check(c)
	}
	if n == 0 || c == 0 {
		return
	}
	need := func(name string, s []float32, want int) {
		if len(s) < want {
			panic(fmt.Sprintf("sgemm: Depthwise3 %s has %d elements, want at least %d", name, len(s), want))
		}
	}
	need("dst", dst, n*c)
	need("x", x, (rows-1)*ldr+(n-1)*step+2*dx+c)
	need("w", w, rows*3*c)
	need("bias", bias, c)
	mode, rest := dwModeOf(post)
	if hasAsm && c%8 == 0 {
		depthwise3Asm(dst, x, ldr, step, dx, w, bias, rows, n, c, mode, post)
	} else {
		depthwise3Go(dst, x, ldr, step, dx, w, bias, rows, n, c, mode, post)
	}
	if rest {
		post.Apply(dst, dst, n, c)
	}
}

// dwMode is what the depthwise kernels apply to each output pixel after
// its sum: nothing, ReLU or ReLU6 (dwNone + Act), or Scale and Shift
// followed by nothing, ReLU or ReLU6 (dwScale + Act).
type dwMode int

const (
	dwNone  dwMode = 0
	dwScale dwMode = 3
)

// dwModeOf returns the kernel's mode for post, and whether post.Apply
// must run afterwards instead (rest: an activation both before and after
// a Scale, or two activations).
func dwModeOf(post *Epilogue) (mode dwMode, rest bool) {
	switch {
	case post == nil || post.Empty():
		return dwNone, false
	case post.Scale == nil && post.Act2 == ActNone:
		return dwNone + dwMode(post.Act1), false
	case post.Scale != nil && post.Act1 == ActNone:
		return dwScale + dwMode(post.Act2), false
	}
	return dwNone, true
}

// depthwise3Go is the portable Depthwise3 (arguments checked): row 0
// accumulates onto the bias, rows 1 and 2 are summed apart and added, as
// the assembly does (there with fused multiply-adds); then what mode says
// of post.
func depthwise3Go(dst, x []float32, ldr, step, dx int, w, bias []float32, rows, n, c int, mode dwMode, post *Epilogue) {
	for p := range n {
		o := dst[p*c : p*c+c]
		copy(o, bias[:c])
		for r := range rows {
			base := r*ldr + p*step
			x0, x1, x2 := x[base:base+c], x[base+dx:base+dx+c], x[base+2*dx:base+2*dx+c]
			w0, w1, w2 := w[(r*3)*c:(r*3+1)*c], w[(r*3+1)*c:(r*3+2)*c], w[(r*3+2)*c:(r*3+3)*c]
			if r == 0 {
				for j := range o {
					o[j] = o[j] + x0[j]*w0[j] + x1[j]*w1[j] + x2[j]*w2[j]
				}
				continue
			}
			for j := range o {
				o[j] += x0[j]*w0[j] + x1[j]*w1[j] + x2[j]*w2[j]
			}
		}
		switch {
		case mode >= dwScale:
			a, scale, shift := Act(mode-dwScale), post.Scale[:c], post.Shift[:c]
			for j, v := range o {
				o[j] = act(mulAdd(v, scale[j], shift[j]), a)
			}
		case mode != dwNone:
			for j, v := range o {
				o[j] = act(v, Act(mode))
			}
		}
	}
}
