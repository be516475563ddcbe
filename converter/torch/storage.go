package torch

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/edgeval/edgeval/tensor"
)

// storageRef is a torch storage named by a pickle: its element type and
// length, and where its bytes are. Bytes are read only after the whole
// pickle is accepted, and only for storages that a tensor uses.
type storageRef struct {
	key   string
	typ   *storageType
	numel int64
	data  []byte // file bytes (little-endian), once loaded
	load  func() ([]byte, error)
	// A pre-1.0 storage view: elements [viewOffset, viewOffset+numel) of root.
	root       *storageRef
	viewOffset int64
}

// bytes returns the storage's bytes, loading them on first use.
func (s *storageRef) bytes() ([]byte, error) {
	if s.root != nil {
		b, err := s.root.bytes()
		if err != nil {
			return nil, err
		}
		sz := int64(s.typ.size)
		return b[s.viewOffset*sz : (s.viewOffset+s.numel)*sz], nil
	}
	if s.data == nil && s.load != nil {
		b, err := s.load()
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", s.key, err)
		}
		s.data, s.load = b, nil
	}
	if int64(len(s.data)) < s.numel*int64(s.typ.size) {
		return nil, fmt.Errorf("storage %s holds %d bytes, want %d: %w", s.key, len(s.data), s.numel*int64(s.typ.size), ErrFormat)
	}
	return s.data, nil
}

// tensorRef is a tensor named by a pickle: a strided view of a storage.
type tensorRef struct {
	st     *storageRef
	offset int64
	size   []int
	stride []int
}

// maxElements bounds any tensor's element count (and so its bytes); on
// 32-bit boards int bounds it.
const maxElements = min(1<<34, math.MaxInt)

// maxViewExpansion bounds how much larger than its storage a strided view
// may be.
const maxViewExpansion = 64

// rebuildTensor implements torch._utils._rebuild_tensor(_v2)(storage,
// storage_offset, size, stride, ...), checking that the view lies inside the
// storage.
func (l *loader) rebuildTensor(args []any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("%d arguments, want at least 4: %w", len(args), ErrFormat)
	}
	st, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("storage is %T: %w", args[0], ErrFormat)
	}
	off, ok := args[1].(int)
	if !ok || off < 0 {
		return nil, fmt.Errorf("storage offset %v is not a non-negative int: %w", args[1], ErrFormat)
	}
	size, err := intTuple(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := intTuple(args[3], "stride")
	if err != nil {
		return nil, err
	}
	t, err := newView(st, int64(off), size, stride)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// newView is a strided view (offset, size, stride in elements) of st,
// checked to lie inside the storage and bounded in how much it may
// expand it.
func newView(st *storageRef, off int64, size, stride []int) (*tensorRef, error) {
	if off < 0 {
		return nil, fmt.Errorf("negative storage offset %d: %w", off, ErrFormat)
	}
	if len(stride) != len(size) {
		return nil, fmt.Errorf("size %v and stride %v differ in rank: %w", size, stride, ErrFormat)
	}
	n, err := tensor.CheckedNumElements(size, maxElements)
	if err != nil {
		return nil, fmt.Errorf("size %v: %v: %w", size, err, ErrFormat)
	}
	// A view can be larger than its storage only through repeated
	// elements (stride 0, as expand() makes); bound what it may make the
	// loader allocate.
	if sb := st.numel * int64(st.typ.size); int64(n)*int64(st.typ.size) > maxViewExpansion*sb+1<<20 {
		return nil, fmt.Errorf("view of size %v on storage %s of %d elements would expand it more than %dx: %w", size, st.key, st.numel, maxViewExpansion, ErrFormat)
	}
	if n > 0 {
		last := off
		for i, d := range size {
			if stride[i] < 0 {
				return nil, fmt.Errorf("negative stride %v: %w", stride, ErrFormat)
			}
			last += int64(d-1) * int64(stride[i])
		}
		if last >= st.numel {
			return nil, fmt.Errorf("view (offset %d, size %v, stride %v) reaches element %d of storage %s, which has %d: %w",
				off, size, stride, last, st.key, st.numel, ErrFormat)
		}
	}
	return &tensorRef{st: st, offset: off, size: size, stride: stride}, nil
}

func intTuple(v any, what string) ([]int, error) {
	var items []any
	switch t := v.(type) {
	case *types.Tuple:
		items = *t
	case *types.List:
		items = *t
	default:
		return nil, fmt.Errorf("%s is %T, want a tuple of ints: %w", what, v, ErrFormat)
	}
	out := make([]int, len(items))
	for i, it := range items {
		n, ok := it.(int)
		if !ok || n < 0 || n > maxElements {
			return nil, fmt.Errorf("%s %v: element %d is not a valid int: %w", what, items, i, ErrFormat)
		}
		out[i] = n
	}
	return out, nil
}

// contiguous reports whether the view is the row-major layout of its size.
func (t *tensorRef) contiguous() bool {
	want := 1
	for i := len(t.size) - 1; i >= 0; i-- {
		if t.size[i] != 1 && t.stride[i] != want {
			return false
		}
		want *= t.size[i]
	}
	return true
}

// materialize copies (or, for a contiguous float32/int view, shares) the
// tensor's elements into a row-major tensor.Tensor. bfloat16 becomes
// float32.
func (t *tensorRef) materialize() (*tensor.Tensor, error) {
	src, err := t.st.bytes()
	if err != nil {
		return nil, err
	}
	typ := t.st.typ
	n := tensor.NumElements(t.size)
	out := &tensor.Tensor{DType: typ.dtype, Shape: slices.Clone(t.size)}
	es := typ.size
	if t.contiguous() {
		raw := src[t.offset*int64(es) : (t.offset+int64(n))*int64(es)]
		if typ.bfloat16 {
			out.Data = bf16ToF32(raw)
		} else {
			out.Data = raw
		}
		return out, nil
	}
	raw := make([]byte, n*es)
	idx := make([]int, len(t.size))
	for i := 0; i < n; i++ {
		pos := t.offset
		for d, k := range idx {
			pos += int64(k) * int64(t.stride[d])
		}
		copy(raw[i*es:(i+1)*es], src[pos*int64(es):(pos+1)*int64(es)])
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.size[d] {
				break
			}
			idx[d] = 0
		}
	}
	if typ.bfloat16 {
		raw = bf16ToF32(raw)
	}
	out.Data = raw
	return out, nil
}

func bf16ToF32(b []byte) []byte {
	out := make([]byte, len(b)*2)
	for i := 0; i+1 < len(b); i += 2 {
		binary.LittleEndian.PutUint32(out[i*2:], uint32(binary.LittleEndian.Uint16(b[i:]))<<16)
	}
	return out
}

// toFloat32 returns t as float32 (weights of every float or integer dtype).
func toFloat32(t *tensor.Tensor) *tensor.Tensor {
	if t.DType == tensor.Float32 {
		return t
	}
	n := t.NumElements()
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(t.Float64(i))
	}
	if n == 0 {
		v = nil
	}
	return tensor.FromFloat32(t.Shape, v)
}

// PySetState accepts the BUILD that old pickles apply to a rebuilt
// Parameter ((requires_grad, volatile, hooks)); none of it matters for
// inference.
func (t *tensorRef) PySetState(any) error { return nil }
