package golden

import (
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/edgeval/edgeval/internal/zipcheck"
	"github.com/edgeval/edgeval/tensor"
)

// maxClasses bounds the labels of an .npz dataset (a label is a class
// index; a stray huge value would size per-class tables).
const maxClasses = 1 << 16

// openNPZ opens an .npz dataset: x in the model's input layout and size,
// read an image at a time, and y, the labels, read whole (one integer per
// image).
func openNPZ(path string, specs []InputSpec, o DatasetOptions) (*Dataset, error) {
	if o.Resize != [2]int{} || o.Color != ColorAuto {
		return nil, fmt.Errorf("%s: --resize and --color apply to image files; an .npz's x must already have the model's input size and channel order", path)
	}
	t, err := datasetTarget(path, specs, o)
	if err != nil {
		return nil, err
	}
	// x is read one image (row) at a time, as float32: preprocessing and
	// quantization follow.
	one := InputSpec{Name: t.spec.Name, Shape: t.shape(), DType: tensor.Float32, Layout: t.spec.Layout}
	one.Shape[0] = 1
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var labels []int
	x := &InputStream{path: path, specs: []InputSpec{one}, f: f, choose: func(arrays []*streamArray) ([]*streamArray, error) {
		xa, ya := findArray(arrays, "x"), findArray(arrays, "y")
		if xa == nil {
			return nil, &ShapeError{File: path, Input: one.Name, Msg: "a labelled .npz holds the images as an array named x (and their labels as y)"}
		}
		if ya == nil {
			return nil, fmt.Errorf("%s: %w (a labelled .npz holds x and y; unlabelled arrays go with --inputs)", path, errNoLabels)
		}
		if len(xa.hdr.Shape) == 0 {
			return nil, &ShapeError{File: path, Input: "x", Msg: "x is a scalar"}
		}
		var err error
		if labels, err = readLabels(path, ya, xa.hdr.Shape[0]); err != nil {
			return nil, err
		}
		return []*streamArray{xa}, nil
	}}
	if err := x.open(); err != nil {
		f.Close()
		return nil, err
	}
	d := &Dataset{path: path, t: t, x: x, maxP: o.MaxPixels}
	k := 0
	for _, l := range labels {
		k = max(k, l+1)
	}
	for c := range k {
		d.classes = append(d.classes, fmt.Sprint(c))
	}
	d.available = x.Len()
	d.rows = selectOrder(x.Len(), o)
	d.labels = pick(labels, d.rows)
	if err := d.checkRuns(len(d.rows)); err != nil {
		x.Close()
		return nil, err
	}
	return d, nil
}

// readLabels reads the y array of an .npz: n integer labels ([n] or
// [n,1]; float values must be whole numbers), each in [0, maxClasses).
func readLabels(path string, a *streamArray, n int) ([]int, error) {
	h := a.hdr
	if !(len(h.Shape) == 1 && h.Shape[0] == n) && !(len(h.Shape) == 2 && h.Shape[0] == n && h.Shape[1] == 1) {
		return nil, &ShapeError{File: path, Input: "y", Msg: fmt.Sprintf("y has shape %v; want one class index per image of x: [%d]", h.Shape, n)}
	}
	if !h.DType.IsInteger() && !h.DType.IsFloat() {
		return nil, &ShapeError{File: path, Input: "y", Msg: fmt.Sprintf("y has dtype %v; want integer class indices", h.DType)}
	}
	r, err := zipcheck.Open(a.member)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	t, err := tensor.ReadNPY(r)
	if err != nil {
		return nil, fmt.Errorf("%s: entry %q: %w", path, a.member.Name, err)
	}
	out := make([]int, n)
	for i := range out {
		v := t.Float64(i)
		if v != math.Trunc(v) || v < 0 || v >= maxClasses {
			return nil, &ShapeError{File: path, Input: "y", Msg: fmt.Sprintf("y[%d] = %v is not a class index (a whole number in [0, %d))", i, v, maxClasses)}
		}
		out[i] = int(v)
	}
	return out, nil
}

// npzPixels turns one image of x (in the model's layout, float32) into
// pixels, channels last.
func (d *Dataset) npzPixels(x *tensor.Tensor) *pixels {
	t := d.t
	v := x.Float32s()
	p := &pixels{h: t.h, w: t.w, c: t.c}
	if !t.channelsFirst {
		p.data = slices.Clone(v)
		return p
	}
	hw := t.h * t.w
	p.data = make([]float32, hw*t.c)
	for k := range t.c {
		for i := range hw {
			p.data[i*t.c+k] = v[k*hw+i]
		}
	}
	return p
}
