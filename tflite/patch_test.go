package tflite

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tflite/internal/fb"
)

func diffBytes(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestPinDynamicDimsAllFixtures(t *testing.T) {
	for name, b := range allFixtures(t) {
		t.Run(name, func(t *testing.T) {
			orig := slices.Clone(b)
			before, err := Read(b)
			require.NoError(t, err)
			out, err := PinDynamicDims(b, 1)
			require.NoError(t, err)
			assert.Equal(t, orig, b, "the input is not modified")
			require.Len(t, out, len(b))
			after, err := Read(out)
			require.NoError(t, err)
			dynamic := 0
			for si, sg := range after.Subgraphs {
				for ti, tt := range sg.Tensors {
					old := before.Subgraphs[si].Tensors[ti]
					for k, d := range old.ShapeSignature {
						if d == -1 {
							dynamic++
							assert.Equal(t, 1, tt.ShapeSignature[k])
						} else {
							assert.Equal(t, d, tt.ShapeSignature[k])
						}
					}
					assert.False(t, tt.IsDynamic(), tt.Name)
					assert.Equal(t, old.Shape, tt.Shape, "pinning to 1 keeps the static shape")
				}
			}
			// Only the -1 entries changed: ff ff ff ff became 01 00 00 00.
			assert.Equal(t, 4*dynamic, diffBytes(b, out))
		})
	}
}

func TestPinDynamicDimsSize(t *testing.T) {
	b := fixture(t, "tflite/litert/simple_add_dynamic_shape.tflite")
	out, err := PinDynamicDims(b, 3)
	require.NoError(t, err)
	m, err := Read(out)
	require.NoError(t, err)
	for _, tt := range m.Subgraphs[0].Tensors {
		if tt.ShapeSignature != nil {
			assert.Equal(t, []int{3, 128, 4}, tt.ShapeSignature, tt.Name)
			assert.Equal(t, []int{3, 128, 4}, tt.Shape, tt.Name)
		}
	}
	_, err = PinDynamicDims(b, 0)
	assert.ErrorContains(t, err, "size 0 out of range")
	_, err = PinDynamicDims(b[:100], 1)
	var fe *FormatError
	assert.ErrorAs(t, err, &fe)
}

// intermediates returns the tensors operators of subgraph sg produce that
// are not outputs of the subgraph.
func intermediates(m *Model, sg int) []int {
	var out []int
	g := m.Subgraphs[sg]
	for _, op := range g.Operators {
		for _, t := range op.Outputs {
			if t >= 0 && !slices.Contains(g.Outputs, t) && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// checkExposed checks that after is before with tensors added to the
// outputs of subgraph sg and of its signatures, and nothing else changed.
func checkExposed(t *testing.T, before, after *Model, sg int, tensors []int) {
	t.Helper()
	want := *before
	want.Subgraphs = slices.Clone(before.Subgraphs)
	want.Signatures = slices.Clone(before.Signatures)
	want.Buffers = slices.Clone(before.Buffers)
	got := *after
	g := &want.Subgraphs[sg]
	g.Outputs = append(slices.Clone(g.Outputs), tensors...)
	for i := range want.Signatures {
		s := &want.Signatures[i]
		if s.Subgraph != sg {
			continue
		}
		outs := slices.Clone(s.Outputs)
		for _, ti := range tensors {
			outs = append(outs, SignatureTensor{Name: uniqueKey(outs, g.Tensors[ti].Name, ti), Tensor: ti})
		}
		s.Outputs = outs
	}
	want.raw, got.raw = nil, nil
	for i := range want.Buffers {
		// External buffers move (with their bytes, checked by callers).
		if want.Buffers[i].External() {
			want.Buffers[i].Offset = after.Buffers[i].Offset
		}
	}
	assert.Equal(t, &want, &got)
	for i := range before.Buffers {
		b0, err := before.BufferData(i)
		require.NoError(t, err)
		b1, err := after.BufferData(i)
		require.NoError(t, err)
		assert.Equal(t, b0, b1, "buffer %d", i)
	}
}

func TestExposeTensorsAllFixtures(t *testing.T) {
	exposed := 0
	for name, b := range allFixtures(t) {
		t.Run(name, func(t *testing.T) {
			before, err := Read(b)
			require.NoError(t, err)
			for sg := range before.Subgraphs {
				tensors := intermediates(before, sg)
				if len(tensors) == 0 {
					continue
				}
				exposed++
				out, err := ExposeTensors(b, sg, tensors)
				require.NoError(t, err)
				after, err := Read(out)
				require.NoError(t, err)
				checkExposed(t, before, after, sg, tensors)
				// The original bytes are kept except the redirected offsets
				// (the subgraph's outputs and one per signature)
				sigs := 0
				for _, s := range before.Signatures {
					if s.Subgraph == sg {
						sigs++
					}
				}
				// and the offsets of data stored after the flatbuffer, which
				// moves as a whole.
				flat, external := len(b), 0
				for _, bf := range before.Buffers {
					if bf.External() {
						flat = min(flat, int(bf.Offset))
						external++
					}
				}
				assert.LessOrEqual(t, diffBytes(b[:flat], out[:flat]), 4*(1+sigs)+8*external)
				assert.Equal(t, b[flat:], out[len(out)-(len(b)-flat):])
				assert.Greater(t, len(out), len(b))
				assert.Zero(t, len(out)%4)
			}
		})
	}
	assert.Greater(t, exposed, 10, "subgraphs with intermediates exposed")
}

func TestExposeTensorsBuiltModel(t *testing.T) {
	raw := addModel(t, false)
	before, err := Read(raw)
	require.NoError(t, err)
	out, err := ExposeTensors(raw, 0, []int{2, 3, 2}) // 3 is already an output; 2 twice
	require.NoError(t, err)
	after, err := Read(out)
	require.NoError(t, err)
	checkExposed(t, before, after, 0, []int{2})
	o, err := after.OutputTensors("serving_default")
	require.NoError(t, err)
	require.Len(t, o, 2)
	assert.Equal(t, "output_0", o[0].Name)
	assert.Equal(t, "sum", o[1].Name)

	same, err := ExposeTensors(raw, 0, []int{3})
	require.NoError(t, err)
	assert.Equal(t, raw, same, "nothing to add leaves the model as it was")

	_, err = ExposeTensors(raw, 1, []int{0})
	assert.ErrorContains(t, err, "subgraph 1 out of range")
	_, err = ExposeTensors(raw, 0, []int{4})
	assert.ErrorContains(t, err, "tensor 4 out of range")
	_, err = ExposeTensors(raw[:40], 0, []int{2})
	var fe *FormatError
	assert.ErrorAs(t, err, &fe)
}

func TestUniqueKey(t *testing.T) {
	maps := []SignatureTensor{{"sum", 1}, {"sum_5", 2}, {"sum_5_1", 3}}
	assert.Equal(t, "relu", uniqueKey(maps, "relu", 5))
	assert.Equal(t, "sum_5_2", uniqueKey(maps, "sum", 5))
	assert.Equal(t, "sum_7", uniqueKey(maps, "sum", 7))
	assert.Equal(t, "tensor_9", uniqueKey(maps, "", 9))
}

// externalModel rewrites the builder's add model so that the constant
// tensor's data is stored after the flatbuffer, as models larger than 2 GB
// do, followed by a trailer that must stay after it.
func externalModel(t *testing.T) (raw []byte, buf int) {
	t.Helper()
	g := fb.GetRootAsModel(addModel(t, true), 0).UnPack()
	buf = int(g.Subgraphs[0].Tensors[1].Buffer)
	data := g.Buffers[buf].Data
	g.Buffers[buf] = &fb.BufferT{Offset: 2, Size: uint64(len(data))} // offset fixed below
	fbb := flatbuffers.NewBuilder(1024)
	fbb.FinishWithFileIdentifier(g.Pack(fbb), []byte(fileIdentifier))
	raw = slices.Clone(fbb.FinishedBytes())
	for len(raw)%16 != 0 {
		raw = append(raw, 0)
	}
	_, l, err := decode(raw)
	require.NoError(t, err)
	require.Len(t, l.extOffsets, 1)
	binary.LittleEndian.PutUint64(raw[l.extOffsets[0]:], uint64(len(raw)))
	raw = append(raw, data...)
	return raw, buf
}

func TestExposeTensorsExternalBuffers(t *testing.T) {
	raw, buf := externalModel(t)
	before, err := Read(raw)
	require.NoError(t, err)
	require.True(t, before.Buffers[buf].External())
	want, err := before.BufferData(buf)
	require.NoError(t, err)
	require.Len(t, want, 16)

	out, err := ExposeTensors(raw, 0, []int{2})
	require.NoError(t, err)
	after, err := Read(out)
	require.NoError(t, err)
	checkExposed(t, before, after, 0, []int{2})
	moved := after.Buffers[buf].Offset - before.Buffers[buf].Offset
	assert.NotZero(t, moved)
	assert.Zero(t, moved%extAlign, "data keeps its alignment")
	got, err := after.BufferData(buf)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	c, err := after.ConstTensor(0, 1)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 4}, c.Float32s())
	assert.Equal(t, raw[before.Buffers[buf].Offset:], out[after.Buffers[buf].Offset:], "the data after the flatbuffer moved as a whole")

	// Data that claims to start inside the flatbuffer cannot be moved.
	bad := slices.Clone(raw)
	_, l, err := decode(bad)
	require.NoError(t, err)
	binary.LittleEndian.PutUint64(bad[l.extOffsets[0]:], 16)
	_, err = ExposeTensors(bad, 0, []int{2})
	var fe *FormatError
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.ErrorContains(t, err, "inside the flatbuffer")
}

func TestFixQuantAxes(t *testing.T) {
	for name, b := range allFixtures(t) {
		t.Run(name, func(t *testing.T) {
			before, err := Read(b)
			require.NoError(t, err)
			out, fixes, err := FixQuantAxes(b)
			require.NoError(t, err)
			if name != "tflite/tflite-micro/person_detect.tflite" {
				assert.Empty(t, fixes)
				assert.Equal(t, b, out)
				return
			}
			// TOCO gave the 14 depthwise biases the kernel's axis 3.
			assert.Len(t, fixes, 14)
			assert.Contains(t, fixes[0], "quantized_dimension 3 of shape [")
			assert.Equal(t, len(fixes), diffBytes(b, out), "one byte (3 -> 0) per repair")
			after, err := Read(out)
			require.NoError(t, err)
			before.raw, after.raw = nil, nil
			assert.Equal(t, before, after, "Read already reported the repaired axes")
			again, fixes, err := FixQuantAxes(out)
			require.NoError(t, err)
			assert.Empty(t, fixes)
			assert.Equal(t, out, again)
		})
	}
}

// A writer may share one shape vector between a dynamic and a static
// tensor; pinning must not change the static tensor's shape.
func TestPinDynamicDimsSharedShape(t *testing.T) {
	raw := addModel(t, true) // a: [1,4] signature [-1,4]; b: constant [1,4]
	_, l, err := decode(raw)
	require.NoError(t, err)
	v := newView(raw)
	tensors, err := v.vector(l.subgraphs[0], slotSubgraphTensors, 4, "tensors")
	require.NoError(t, err)
	tb, err := v.elemTable(tensors, 1, "b")
	require.NoError(t, err)
	field, err := v.field(tb, slotTensorShape, 4, "b shape")
	require.NoError(t, err)
	aShape := l.tensors[0][0].shape.start - 4
	require.Greater(t, aShape, field, "the shared vector must lie after the field")
	shared := slices.Clone(raw)
	binary.LittleEndian.PutUint32(shared[field:], uint32(aShape-field))
	m, err := Read(shared)
	require.NoError(t, err)
	require.Equal(t, []int{1, 4}, m.Subgraphs[0].Tensors[1].Shape)

	_, err = PinDynamicDims(shared, 3)
	assert.ErrorContains(t, err, `shares its shape vector with static tensor 1 "b"`)
	out, err := PinDynamicDims(shared, 1)
	require.NoError(t, err)
	m, err = Read(out)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 4}, m.Subgraphs[0].Tensors[0].ShapeSignature)
	assert.Equal(t, []int{1, 4}, m.Subgraphs[0].Tensors[1].Shape)
}
