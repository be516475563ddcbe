package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Quant holds affine quantization parameters: real = Scale * (q - ZeroPoint).
// A per-tensor quantization has one scale; a per-axis one has one scale per
// index along Axis.
type Quant struct {
	Scale     []float32 `json:"scale"`
	ZeroPoint []int64   `json:"zero_point"`
	Axis      int       `json:"axis,omitempty"`
}

// PerTensor reports whether q has a single scale for the whole tensor.
func (q *Quant) PerTensor() bool { return q != nil && len(q.Scale) == 1 }

// Tensor is a dense row-major array. Data holds NumElements()*DType.Size()
// little-endian bytes.
type Tensor struct {
	DType DType
	Shape []int
	Data  []byte
	// Quant, when set, gives the quantization parameters of integer data.
	Quant *Quant
}

// NumElements returns the product of shape (1 for a scalar). Dimensions are
// assumed non-negative.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// CheckedNumElements returns the product of shape, or an error when a
// dimension is negative or the product overflows limit elements.
func CheckedNumElements(shape []int, limit int) (int, error) {
	n := 1
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
		if d != 0 && n > limit/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", shape, limit)
		}
		n *= d
	}
	return n, nil
}

// New returns a zero-filled tensor of the given dtype and shape.
func New(dt DType, shape []int) *Tensor {
	return &Tensor{DType: dt, Shape: slices.Clone(shape), Data: make([]byte, NumElements(shape)*dt.Size())}
}

// NumElements returns the number of elements of t.
func (t *Tensor) NumElements() int { return NumElements(t.Shape) }

// Validate checks that Data has exactly the size the dtype and shape need.
func (t *Tensor) Validate() error {
	if t.DType.Size() == 0 {
		return fmt.Errorf("tensor has invalid dtype %v", t.DType)
	}
	n, err := CheckedNumElements(t.Shape, math.MaxInt/8)
	if err != nil {
		return err
	}
	if len(t.Data) != n*t.DType.Size() {
		return fmt.Errorf("tensor %v %v holds %d bytes, want %d", t.DType, t.Shape, len(t.Data), n*t.DType.Size())
	}
	return nil
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
	if t.Quant != nil {
		c.Quant = &Quant{Scale: slices.Clone(t.Quant.Scale), ZeroPoint: slices.Clone(t.Quant.ZeroPoint), Axis: t.Quant.Axis}
	}
	return c
}

// FromFloat32 returns a float32 tensor holding a copy of v with the given shape.
func FromFloat32(shape []int, v []float32) *Tensor {
	t := &Tensor{DType: Float32, Shape: slices.Clone(shape), Data: make([]byte, 4*len(v))}
	for i, x := range v {
		binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(x))
	}
	return t
}

// FromFloat64s returns a tensor of dtype dt whose elements are v converted
// (rounded to nearest and saturated for integer types).
func FromFloat64s(dt DType, shape []int, v []float64) *Tensor {
	t := New(dt, shape)
	for i, x := range v {
		t.SetFloat64(i, x)
	}
	return t
}

// Float32s returns the elements of t converted to float32 (integers are not
// dequantized; see Dequantize).
func (t *Tensor) Float32s() []float32 {
	n := t.NumElements()
	out := make([]float32, n)
	if t.DType == Float32 {
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return out
	}
	for i := range out {
		out[i] = float32(t.Float64(i))
	}
	return out
}

// Float64s returns the elements of t converted to float64.
func (t *Tensor) Float64s() []float64 {
	out := make([]float64, t.NumElements())
	for i := range out {
		out[i] = t.Float64(i)
	}
	return out
}

// Float64 returns element i converted to float64.
func (t *Tensor) Float64(i int) float64 {
	d := t.Data
	switch t.DType {
	case Float32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:])))
	case Float16:
		return float64(Float16ToFloat32(binary.LittleEndian.Uint16(d[2*i:])))
	case Float64:
		return math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
	case Int8:
		return float64(int8(d[i]))
	case Uint8:
		return float64(d[i])
	case Int16:
		return float64(int16(binary.LittleEndian.Uint16(d[2*i:])))
	case Int32:
		return float64(int32(binary.LittleEndian.Uint32(d[4*i:])))
	case Int64:
		return float64(int64(binary.LittleEndian.Uint64(d[8*i:])))
	case Bool:
		if d[i] != 0 {
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("tensor: Float64 on dtype %v", t.DType))
}

// SetFloat64 stores x into element i, rounding to nearest (ties away from
// zero) and saturating for integer dtypes; Bool stores x != 0.
func (t *Tensor) SetFloat64(i int, x float64) {
	d := t.Data
	switch t.DType {
	case Float32:
		binary.LittleEndian.PutUint32(d[4*i:], math.Float32bits(float32(x)))
	case Float16:
		binary.LittleEndian.PutUint16(d[2*i:], Float32ToFloat16(float32(x)))
	case Float64:
		binary.LittleEndian.PutUint64(d[8*i:], math.Float64bits(x))
	case Bool:
		if x != 0 {
			d[i] = 1
		} else {
			d[i] = 0
		}
	default:
		lo, hi := t.DType.Range()
		v := saturate(x, lo, hi)
		switch t.DType {
		case Int8, Uint8:
			d[i] = byte(v)
		case Int16:
			binary.LittleEndian.PutUint16(d[2*i:], uint16(v))
		case Int32:
			binary.LittleEndian.PutUint32(d[4*i:], uint32(v))
		case Int64:
			binary.LittleEndian.PutUint64(d[8*i:], uint64(v))
		default:
			panic(fmt.Sprintf("tensor: SetFloat64 on dtype %v", t.DType))
		}
	}
}

func saturate(x float64, lo, hi int64) int64 {
	if math.IsNaN(x) {
		return 0
	}
	x = math.Round(x)
	if x <= float64(lo) {
		return lo
	}
	if x >= float64(hi) {
		return hi
	}
	return int64(x)
}

// Dequantize returns the real values of t: Scale*(q-ZeroPoint) for a
// quantized integer tensor, the plain values otherwise.
func (t *Tensor) Dequantize() []float32 {
	if t.Quant == nil || len(t.Quant.Scale) == 0 || !t.DType.IsInteger() {
		return t.Float32s()
	}
	out := make([]float32, t.NumElements())
	q := t.Quant
	if len(q.Scale) == 1 {
		zp := float64(0)
		if len(q.ZeroPoint) > 0 {
			zp = float64(q.ZeroPoint[0])
		}
		for i := range out {
			out[i] = float32(float64(q.Scale[0]) * (t.Float64(i) - zp))
		}
		return out
	}
	// Per-axis: index along Axis selects the scale.
	inner := 1
	for _, d := range t.Shape[q.Axis+1:] {
		inner *= d
	}
	dim := t.Shape[q.Axis]
	for i := range out {
		c := (i / inner) % dim
		zp := float64(0)
		if c < len(q.ZeroPoint) {
			zp = float64(q.ZeroPoint[c])
		}
		out[i] = float32(float64(q.Scale[c]) * (t.Float64(i) - zp))
	}
	return out
}

// Slice returns the i-th sub-tensor along the first axis (a copy), with the
// first dimension removed.
func (t *Tensor) Slice(i int) *Tensor {
	inner := NumElements(t.Shape[1:]) * t.DType.Size()
	return &Tensor{DType: t.DType, Shape: slices.Clone(t.Shape[1:]), Data: slices.Clone(t.Data[i*inner : (i+1)*inner]), Quant: t.Quant}
}

// Stack joins tensors of equal dtype and shape along a new first axis.
func Stack(ts []*Tensor) (*Tensor, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("stack of no tensors")
	}
	first := ts[0]
	out := &Tensor{DType: first.DType, Shape: append([]int{len(ts)}, first.Shape...), Quant: first.Quant}
	out.Data = make([]byte, 0, len(ts)*len(first.Data))
	for i, t := range ts {
		if t.DType != first.DType || !slices.Equal(t.Shape, first.Shape) {
			return nil, fmt.Errorf("stack: tensor %d is %v %v, want %v %v", i, t.DType, t.Shape, first.DType, first.Shape)
		}
		out.Data = append(out.Data, t.Data...)
	}
	return out, nil
}

// Reshape returns a tensor sharing t's data with a new shape of the same
// element count.
func (t *Tensor) Reshape(shape []int) (*Tensor, error) {
	if NumElements(shape) != t.NumElements() {
		return nil, fmt.Errorf("cannot reshape %v to %v", t.Shape, shape)
	}
	return &Tensor{DType: t.DType, Shape: slices.Clone(shape), Data: t.Data, Quant: t.Quant}, nil
}
