package graph

import "fmt"

// Layout is the order of the axes of a value that an op interprets
// spatially. A rank-3 value in NHWC is NWC (channels last); in NCHW it is
// NCW (channels first). LayoutNone means the value has no spatial meaning
// (or it is not known).
type Layout uint8

// The data layouts.
const (
	LayoutNone Layout = iota // no spatial meaning (vectors, sequences, flattened features)
	NHWC                     // channels last: [N, H, W, C] (rank 3: [N, W, C]); Keras, TFLite
	NCHW                     // channels first: [N, C, H, W] (rank 3: [N, C, W]); PyTorch
)

// String returns "NHWC", "NCHW" or "none".
func (l Layout) String() string {
	switch l {
	case LayoutNone:
		return "none"
	case NHWC:
		return "NHWC"
	case NCHW:
		return "NCHW"
	}
	return fmt.Sprintf("layout(%d)", l)
}

// ChannelAxis returns the channel axis of a value of the given rank in
// layout l: rank-1 for NHWC, 1 for NCHW, and -1 for LayoutNone.
func (l Layout) ChannelAxis(rank int) int {
	switch l {
	case NHWC:
		return rank - 1
	case NCHW:
		return 1
	}
	return -1
}

// SpatialAxes returns the spatial axes (H, W for rank 4; W for rank 3) of a
// value of the given rank in layout l, or nil for LayoutNone.
func (l Layout) SpatialAxes(rank int) []int {
	var out []int
	switch l {
	case NHWC:
		for a := 1; a < rank-1; a++ {
			out = append(out, a)
		}
	case NCHW:
		for a := 2; a < rank; a++ {
			out = append(out, a)
		}
	}
	return out
}

// KernelLayout names the axis order of a convolution weight. The letters
// are O (output channels), I (input channels), H and W (kernel height and
// width).
//
// For Conv2D the O axis has all C_out output channels and the I axis
// C_in/Groups entries. For ConvTranspose2D the I axis has all C_in input
// channels and the O axis C_out/Groups entries (PyTorch's convention).
type KernelLayout uint8

// The kernel layouts of the frameworks the project reads and writes.
const (
	HWIO KernelLayout = iota // Keras Conv2D kernel [KH, KW, I, O]
	OIHW                     // PyTorch Conv2d weight [O, I, KH, KW]
	OHWI                     // TFLite CONV_2D and TRANSPOSE_CONV filter [O, KH, KW, I]
	IHWO                     // TFLite DEPTHWISE_CONV_2D filter [1, KH, KW, O] (I = 1)
	HWOI                     // Keras Conv2DTranspose kernel [KH, KW, O, I]
	IOHW                     // PyTorch ConvTranspose2d weight [I, O, KH, KW]
)

var kernelLayoutNames = [...]string{HWIO: "HWIO", OIHW: "OIHW", OHWI: "OHWI", IHWO: "IHWO", HWOI: "HWOI", IOHW: "IOHW"}

// String returns the layout's letters, e.g. "HWIO".
func (k KernelLayout) String() string {
	if int(k) < len(kernelLayoutNames) {
		return kernelLayoutNames[k]
	}
	return fmt.Sprintf("kernel_layout(%d)", k)
}

// Perm returns, for each of the axes O, I, H, W (in that order), its
// position in a weight of layout k. For example OHWI.Perm() is [0, 3, 1, 2].
func (k KernelLayout) Perm() [4]int {
	s := k.String()
	var p [4]int
	for i, c := range "OIHW" {
		for j := range len(s) {
			if rune(s[j]) == c {
				p[i] = j
			}
		}
	}
	return p
}

// Dims returns the sizes of the O, I, H and W axes of a weight of layout k
// with the given rank-4 shape.
func (k KernelLayout) Dims(shape []int) (o, i, h, w int) {
	p := k.Perm()
	return shape[p[0]], shape[p[1]], shape[p[2]], shape[p[3]]
}

// Shape returns the rank-4 shape of a weight of layout k with the given
// axis sizes.
func (k KernelLayout) Shape(o, i, h, w int) []int {
	p := k.Perm()
	s := make([]int, 4)
	s[p[0]], s[p[1]], s[p[2]], s[p[3]] = o, i, h, w
	return s
}
