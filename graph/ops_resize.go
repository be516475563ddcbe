package graph

// ResizeMethod selects the interpolation of Resize.
type ResizeMethod uint8

// The resize methods.
const (
	ResizeNearest ResizeMethod = iota
	ResizeBilinear
)

// Resize scales the spatial axes of x to Size (H, W).
//
// The source coordinate of output index d, with scale = in/out, is:
//   - AlignCorners: d*(in-1)/(out-1) (nearest rounds it);
//   - HalfPixelCenters: (d+0.5)*scale - 0.5 for bilinear (clamped at 0), and
//     floor((d+0.5)*scale) for nearest;
//   - neither: d*scale (nearest floors it).
//
// Keras UpSampling2D 'nearest' and PyTorch Upsample 'nearest' use neither;
// Keras 'bilinear' (TF2) and PyTorch 'bilinear' with align_corners=False use
// HalfPixelCenters; PyTorch 'nearest-exact' is nearest with HalfPixelCenters.
type Resize struct {
	Method           ResizeMethod
	Size             [2]int
	AlignCorners     bool
	HalfPixelCenters bool
	Layout           Layout
}

// Kind returns "ResizeNearest" or "ResizeBilinear".
func (r *Resize) Kind() string {
	if r.Method == ResizeBilinear {
		return "ResizeBilinear"
	}
	return "ResizeNearest"
}

// InferShapes implements Op.
func (r *Resize) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := wantLayout(in[0], r.Layout, "input"); err != nil {
		return nil, err
	}
	if err := wantFloat(in[0], "input"); err != nil {
		return nil, err
	}
	if err := wantRank(in[0], "input", 4); err != nil {
		return nil, err
	}
	if err := nonNegative(in[0].Shape); err != nil {
		return nil, err
	}
	if r.Method > ResizeBilinear {
		return nil, attrErr("unknown resize method %d", r.Method)
	}
	if r.Size[0] < 1 || r.Size[1] < 1 {
		return nil, attrErr("size %v must be positive", r.Size)
	}
	if r.AlignCorners && r.HalfPixelCenters {
		return nil, attrErr("AlignCorners and HalfPixelCenters are exclusive")
	}
	n, _, _, c := spatialDims(in[0].Shape, r.Layout)
	return []Type{{DType: in[0].DType, Shape: LayoutShape(r.Layout, n, r.Size[0], r.Size[1], c), Layout: r.Layout}}, nil
}
