package golden

import "math"

// resizeBilinear resizes p to h×w as tf.image.resize does with its default
// method="bilinear" and antialias=False (what Keras's
// image_dataset_from_directory and the Resizing layer call): half-pixel
// centers, the source coordinate of output pixel i is (i+0.5)·in/out − 0.5,
// clamped to the image, and the four neighbours are blended in float32 in
// TF's order (along x, then along y). Upsampling equals PIL's bilinear
// resize before PIL rounds to uint8; downsampling does not average over the
// pixels skipped (neither does TF without antialias; PIL and torchvision's
// Resize on PIL images do).
func resizeBilinear(p *pixels, h, w int) *pixels {
	if p.h == h && p.w == w {
		return p
	}
	ys := interpWeights(p.h, h)
	xs := interpWeights(p.w, w)
	c := p.c
	out := &pixels{h: h, w: w, c: c, data: make([]float32, h*w*c)}
	for oy, wy := range ys {
		top := p.data[wy.lo*p.w*c : (wy.lo+1)*p.w*c]
		bottom := p.data[wy.hi*p.w*c : (wy.hi+1)*p.w*c]
		row := out.data[oy*w*c : (oy+1)*w*c]
		for ox, wx := range xs {
			for k := range c {
				tl, tr := top[wx.lo*c+k], top[wx.hi*c+k]
				bl, br := bottom[wx.lo*c+k], bottom[wx.hi*c+k]
				// The conversions keep each product rounded on its own
				// (no fused multiply-add on arm64), as TF computes it.
				t := tl + float32((tr-tl)*wx.lerp)
				b := bl + float32((br-bl)*wx.lerp)
				row[ox*c+k] = t + float32((b-t)*wy.lerp)
			}
		}
	}
	return out
}

// interp is the two source indices an output index blends and the weight
// of the second.
type interp struct {
	lo, hi int
	lerp   float32
}

// interpWeights computes, for each of out output indices, its neighbours
// among in source indices with half-pixel centers, in float32 as TF does.
func interpWeights(in, out int) []interp {
	scale := float32(in) / float32(out)
	ws := make([]interp, out)
	for i := range ws {
		src := float32((float32(i)+0.5)*scale) - 0.5
		f := float32(math.Floor(float64(src)))
		ws[i] = interp{
			lo:   max(int(f), 0),
			hi:   min(int(math.Ceil(float64(src))), in-1),
			lerp: src - f,
		}
	}
	return ws
}
