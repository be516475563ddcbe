package reference

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/edgeval/edgeval/internal/mapped"
	"github.com/edgeval/edgeval/tensor"

	"github.com/edgeval/edgeval/graph"
)

// nodeCtx gives a family's prepare function the node and its constant
// inputs.
type nodeCtx struct {
	n      *graph.Node
	consts [][]float32
	ins    []int
}

func (c *nodeCtx) shape(i int) []int { return c.n.Inputs[i].Shape }

// constant returns the data of input i, or nil when it is not a constant.
func (c *nodeCtx) constant(i int) []float32 {
	if i >= len(c.ins) {
		return nil
	}
	return c.consts[c.ins[i]]
}

func (c *nodeCtx) outShape(i int) []int { return c.n.Outputs[i].Shape }

// kernelStrides returns, for the O, I, H, W axes of a weight of layout l and
// shape shape, the stride of each axis in its row-major data.
func kernelStrides(l graph.KernelLayout, shape []int) [4]int {
	var st [4]int
	var rowStride [4]int
	s := 1
	for a := 3; a >= 0; a-- {
		rowStride[a] = s
		s *= shape[a]
	}
	p := l.Perm()
	for i := range 4 {
		st[i] = rowStride[p[i]]
	}
	return st
}

// relayoutKernel copies a rank-4 weight from layout from to layout to.
func relayoutKernel(w []float32, shape []int, from, to graph.KernelLayout) []float32 {
	o, i, h, wd := from.Dims(shape)
	dstShape := to.Shape(o, i, h, wd)
	ss := kernelStrides(from, shape)
	ds := kernelStrides(to, dstShape)
	out := make([]float32, len(w))
	for a := range o {
		for b := range i {
			for c := range h {
				for d := range wd {
					out[a*ds[0]+b*ds[1]+c*ds[2]+d*ds[3]] = w[a*ss[0]+b*ss[1]+c*ss[2]+d*ss[3]]
				}
			}
		}
	}
	return out
}

// reluBits returns max(v, 0) without a branch (random signs make a
// branch mispredict half the time); -0 and negative NaNs become +0.
func reluBits(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

// applyAct applies a fused activation in place.
func applyAct(x []float32, act graph.Activation) {
	switch act {
	case graph.ActRelu:
		for i, v := range x {
			x[i] = reluBits(v)
		}
	case graph.ActRelu6:
		for i, v := range x {
			x[i] = min(reluBits(v), 6)
		}
	case graph.ActReluN1To1:
		for i, v := range x {
			x[i] = min(max(v, -1), 1)
		}
	case graph.ActTanh:
		for i, v := range x {
			x[i] = float32(math.Tanh(float64(v)))
		}
	}
}

// biasActRows adds bias[j] to column j of a rows x cols row-major matrix and
// applies act (NHWC outputs, Dense), in one pass for the common cases.
func biasActRows(out []float32, rows, cols int, bias []float32, act graph.Activation) {
	finishRows(out, rows, cols, bias, act, epilogue{})
}

// finishRows applies, to a rows x cols row-major matrix, bias and act and
// then ep (the fused BatchNorm and activation after the node), in one
// sgemm.Epilogue pass when act has an sgemm form.
func finishRows(out []float32, rows, cols int, bias []float32, act graph.Activation, ep epilogue) {
	if e, ok := ep.withBias(bias, act); ok {
		if !e.Empty() {
			e.Apply(out, out, rows, cols)
		}
		return
	}
	biasActRowsGo(out, rows, cols, bias, act)
	ep.apply(out[:rows*cols])
}

// biasActRowsGo is biasActRows for any activation.
func biasActRowsGo(out []float32, rows, cols int, bias []float32, act graph.Activation) {
	if bias == nil {
		applyAct(out[:rows*cols], act)
		return
	}
	bias = bias[:cols]
	for r := range rows {
		row := out[r*cols : r*cols+cols]
		row = row[:len(bias)]
		switch act {
		case graph.ActNone:
			for j, b := range bias {
				row[j] += b
			}
		case graph.ActRelu:
			for j, b := range bias {
				row[j] = reluBits(row[j] + b)
			}
		case graph.ActRelu6:
			for j, b := range bias {
				row[j] = min(reluBits(row[j]+b), 6)
			}
		default:
			for j, b := range bias {
				row[j] += b
			}
			applyAct(row, act)
		}
	}
}

// littleEndian reports whether float32s are stored little-endian in memory,
// as tensor data is.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// loadFloat32s decodes little-endian float32 data (at least 4*len(dst)
// bytes) into dst: one copy on a little-endian machine.
func loadFloat32s(dst []float32, data []byte) {
	if len(dst) == 0 {
		return
	}
	data = data[:4*len(dst)]
	if littleEndian {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), data)
		return
	}
	for j := range dst {
		dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*j:]))
	}
}

// constFloat32s returns a constant's elements as float32: where its bytes
// lie in a read-only file mapping (internal/mapped: a large model's weights,
// spilled out of the heap) and are float32 in this machine's byte order and
// aligned, a view of them, so that the weights are not held twice; else a
// converted copy. A mapping faults on a write, so a kernel that wrote to a
// constant would crash rather than change the graph's weights.
func constFloat32s(t *tensor.Tensor) []float32 {
	n := t.NumElements()
	if t.DType != tensor.Float32 || n == 0 || len(t.Data) != 4*n || !littleEndian ||
		uintptr(unsafe.Pointer(unsafe.SliceData(t.Data)))%unsafe.Alignof(float32(0)) != 0 || !mapped.Is(t.Data) {
		return t.Float32s()
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(t.Data))), n)
}

// evictConsts drops from this process's memory the pages of the constants
// among slots that lie in a file mapping (constFloat32s), once a node's
// kernel has prepared its own form of them (packed weights): a kernel
// that reads them again reads them back from the file.
func (p *Program) evictConsts(slots []int) {
	for _, s := range slots {
		if v := p.values[s]; v.Const != nil {
			mapped.Evict(v.Const.Data)
		}
	}
}
