package graph

import (
	"testing"

	"github.com/edgeval/edgeval/tensor"
)

// FuzzInferShapes feeds hostile attributes and shapes (as a front-end
// reading a corrupt model file would) to the spatial ops' shape inference:
// it must return an error or a shape with non-negative dimensions, never
// panic.
func FuzzInferShapes(f *testing.F) {
	f.Add([]byte{1, 8, 8, 3, 3, 3, 3, 8, 1, 1, 1, 1, 0, 1, 0})
	f.Add([]byte{1, 7, 7, 8, 3, 3, 1, 8, 2, 2, 1, 1, 1, 8, 1})
	f.Add([]byte{2, 5, 5, 4, 5, 5, 4, 2, 0, 0, 2, 2, 2, 0, 2})
	f.Add([]byte{1, 1, 1, 1, 9, 9, 1, 1, 255, 3, 0, 9, 2, 3, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		get := func(i int) int {
			if i < len(b) {
				return int(int8(b[i]))
			}
			return 1
		}
		x := Type{DType: tensor.Float32, Shape: []int{get(0), get(1), get(2), get(3)}}
		w := Type{DType: tensor.Float32, Shape: []int{get(4), get(5), get(6), get(7)}}
		pad := Padding{Kind: PadKind(get(12) & 3), Top: get(13), Bottom: get(14), Left: get(13), Right: get(14)}
		l := NHWC
		if get(12)&4 != 0 {
			l = NCHW
		}
		ops := []Op{
			&Conv2D{Strides: [2]int{get(8), get(9)}, Dilations: [2]int{get(10), get(11)}, Padding: pad, Groups: get(13), Layout: l, WeightLayout: KernelLayout(get(14) & 7)},
			&ConvTranspose2D{Strides: [2]int{get(8), get(9)}, Dilations: [2]int{get(10), get(11)}, Padding: pad, Groups: get(13), OutputPadding: [2]int{get(14), get(13)}, Layout: l, WeightLayout: KernelLayout(get(14) & 7)},
			&Pool2D{Type: PoolKind(get(13) & 1), Window: [2]int{get(4), get(5)}, Strides: [2]int{get(8), get(9)}, Padding: pad, CeilMode: get(10)&1 == 1, Layout: l},
			&Resize{Size: [2]int{get(4), get(5)}, Layout: l},
			&Reshape{Shape: []int{get(4), get(5), get(6)}},
			&Pad{Mode: PadMode(get(12) & 3), Pads: [][2]int{{get(4), get(5)}, {get(6), get(7)}, {get(8), get(9)}, {get(10), get(11)}}},
			&Slice{Begin: []int{get(4), get(5), get(6), get(7)}, End: []int{get(8), get(9), get(10), get(11)}},
		}
		for _, op := range ops {
			in := []Type{x, w}
			switch op.(type) {
			case *Pool2D, *Resize, *Reshape, *Pad, *Slice:
				in = in[:1]
			}
			out, err := op.InferShapes(in)
			if err != nil {
				continue
			}
			for _, d := range out[0].Shape {
				if d < 0 {
					t.Fatalf("%s: negative output dimension in %v for inputs %v", op.Kind(), out[0].Shape, in)
				}
			}
		}
	})
}
