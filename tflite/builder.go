package tflite

import (
	"errors"
	"fmt"
	"math"
	"slices"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite/internal/fb"
)

// SchemaVersion is the TFLite schema version Builder writes.
const SchemaVersion = 3

// Builder assembles a .tflite model. Add buffers, subgraphs with their
// tensors and operators, and SignatureDefs, then call Finish. Buffer 0 is
// the empty sentinel every model starts with; tensors without constant data
// refer to it.
//
// Methods record the first error (a bad index, an unknown options type) and
// Finish returns it, so a sequence of calls needs one check at the end.
// Such an error, an index the model refers to that is out of range, or a
// result that does not read back, is a broken invariant of the caller (our
// converter) or of the Builder: Finish returns it as an internal error
// (*bug.Error from internal/bug), never as a problem of the user's model.
type Builder struct {
	description string
	buffers     []buffer
	metadata    []fb.MetadataT
	opcodes     []OperatorCode
	subgraphs   []*SubgraphBuilder
	signatures  []Signature
	err         error
}

// buffer is one data buffer: its bytes, or the writer that makes them.
type buffer struct {
	data []byte
	fill *Fill
}

// size returns the buffer's length in bytes.
func (b buffer) size() int {
	if b.fill != nil {
		return b.fill.Len
	}
	return len(b.data)
}

// Fill is constant data that Finish writes straight into the model's bytes
// instead of copying it from a slice: a weight relaid out (transposed,
// scaled) in the flatbuffer itself, with no copy of its own.
type Fill struct {
	// Len is the data's size in bytes.
	Len int
	// Write writes the data into dst, Len zeroed bytes. It runs once, in
	// Finish, so what it reads must not change before then.
	Write func(dst []byte)
}

// NewBuilder returns a Builder holding the sentinel buffer 0.
func NewBuilder() *Builder {
	return &Builder{description: "edgeval", buffers: []buffer{{}}}
}

func (b *Builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(format, args...)
	}
}

// builderWhere names the Builder in internal errors.
const builderWhere = "tflite.Builder"

// SetDescription sets the model's free-text description ("edgeval" by
// default).
func (b *Builder) SetDescription(s string) { b.description = s }

// AddBuffer adds a data buffer and returns its index. The bytes are copied
// when Finish serialises the model, so data must not change before then.
func (b *Builder) AddBuffer(data []byte) int {
	b.buffers = append(b.buffers, buffer{data: data})
	return len(b.buffers) - 1
}

// AddBufferFill adds a data buffer of f.Len bytes that f.Write writes when
// Finish serialises the model, and returns its index.
func (b *Builder) AddBufferFill(f Fill) int {
	if f.Len < 0 || f.Write == nil {
		b.fail("buffer %d: fill of %d bytes without a writer", len(b.buffers), f.Len)
	}
	b.buffers = append(b.buffers, buffer{fill: &f})
	return len(b.buffers) - 1
}

// AddMetadata adds a named metadata entry whose content is data.
func (b *Builder) AddMetadata(name string, data []byte) {
	buf := b.AddBuffer(data)
	b.metadata = append(b.metadata, fb.MetadataT{Name: name, Buffer: uint32(buf)})
}

// SetMinRuntimeVersion records the oldest runtime version that can run the
// model ("min_runtime_version" metadata, NUL-padded to 16 bytes as the
// TFLite converter writes it).
func (b *Builder) SetMinRuntimeVersion(v string) {
	data := make([]byte, max(16, len(v)))
	copy(data, v)
	b.AddMetadata("min_runtime_version", data)
}

// opcode returns the index of the operator code, adding it when new.
func (b *Builder) opcode(op BuiltinOperator, custom string, version int) int {
	c := OperatorCode{Builtin: op, Custom: custom, Version: max(version, 1)}
	if i := slices.Index(b.opcodes, c); i >= 0 {
		return i
	}
	b.opcodes = append(b.opcodes, c)
	return len(b.opcodes) - 1
}

// AddSubgraph adds a subgraph; the first one is the model's main graph.
func (b *Builder) AddSubgraph(name string) *SubgraphBuilder {
	s := &SubgraphBuilder{b: b, index: len(b.subgraphs), name: name}
	b.subgraphs = append(b.subgraphs, s)
	return s
}

// AddSignature adds a SignatureDef: key names the entry point (the TFLite
// converter's default is "serving_default"), and inputs and outputs name
// tensors of subgraph sg.
func (b *Builder) AddSignature(key string, sg int, inputs, outputs []SignatureTensor) {
	b.signatures = append(b.signatures, Signature{Key: key, Subgraph: sg, Inputs: inputs, Outputs: outputs})
}

// SubgraphBuilder adds tensors and operators to one subgraph.
type SubgraphBuilder struct {
	b               *Builder
	index           int
	name            string
	tensors         []fb.TensorT
	operators       []fb.OperatorT
	inputs, outputs []int
}

// Index returns the subgraph's index in the model.
func (s *SubgraphBuilder) Index() int { return s.index }

// TensorSpec describes a tensor to add.
type TensorSpec struct {
	Name  string
	Type  TensorType
	Shape []int
	// ShapeSignature, when set, marks dynamic dimensions with -1.
	ShapeSignature []int
	// Data, when set, is the tensor's constant value (little-endian); it is
	// stored in a new buffer. Buffer, when Data is nil, names an existing
	// buffer to share; 0 means the tensor is computed at run time.
	Data []byte
	// Fill, when set and Data is nil, makes the tensor's constant value
	// when Finish serialises the model, straight into a new buffer of the
	// model's bytes (see Fill).
	Fill   *Fill
	Buffer int
	// Quant gives affine quantization parameters; Quant.Axis is the
	// quantized dimension when there is more than one scale.
	Quant      *tensor.Quant
	IsVariable bool
}

// AddTensor adds a tensor and returns its index in the subgraph.
func (s *SubgraphBuilder) AddTensor(t TensorSpec) int {
	idx := len(s.tensors)
	buf := t.Buffer
	switch {
	case t.Data != nil:
		buf = s.b.AddBuffer(t.Data)
	case t.Fill != nil:
		buf = s.b.AddBufferFill(*t.Fill)
	}
	if buf < 0 || buf >= len(s.b.buffers) {
		s.b.fail("subgraph %d tensor %d %q: buffer %d out of range", s.index, idx, t.Name, buf)
	}
	tt := fb.TensorT{
		Name:           t.Name,
		Type:           t.Type,
		Shape:          toInt32s(t.Shape, true),
		ShapeSignature: toInt32s(t.ShapeSignature, false),
		Buffer:         uint32(max(buf, 0)),
		IsVariable:     t.IsVariable,
		HasRank:        true,
	}
	if q := t.Quant; q != nil && len(q.Scale) > 0 {
		if len(q.ZeroPoint) != 0 && len(q.ZeroPoint) != len(q.Scale) {
			s.b.fail("tensor %q: %d scales but %d zero points", t.Name, len(q.Scale), len(q.ZeroPoint))
		}
		zp := q.ZeroPoint
		if len(zp) == 0 {
			zp = make([]int64, len(q.Scale))
		}
		tt.Quantization = &fb.QuantizationParametersT{Scale: q.Scale, ZeroPoint: zp, QuantizedDimension: int32(q.Axis)}
	}
	s.tensors = append(s.tensors, tt)
	return idx
}

// OperatorSpec describes an operator to add.
type OperatorSpec struct {
	Op BuiltinOperator
	// Custom is the operator name when Op is OpCustom.
	Custom string
	// Version is the operator version (1 when 0).
	Version int
	// Inputs and Outputs are tensor indices of the subgraph; -1 marks an
	// omitted optional input.
	Inputs, Outputs []int
	// Options are the builtin options, one of the *…Options types of this
	// package (e.g. *Conv2DOptions), or nil.
	Options any
	// CustomOptions are the options of a custom operator (FlexBuffers).
	CustomOptions []byte
}

// AddOperator appends an operator (operators run in the order added) and
// returns its index.
func (s *SubgraphBuilder) AddOperator(op OperatorSpec) int {
	idx := len(s.operators)
	if op.Op == OpCustom && op.Custom == "" {
		s.b.fail("subgraph %d operator %d: custom operator without a name", s.index, idx)
	}
	o := fb.OperatorT{
		OpcodeIndex:        uint32(s.b.opcode(op.Op, op.Custom, op.Version)),
		Inputs:             toInt32s(op.Inputs, true),
		Outputs:            toInt32s(op.Outputs, true),
		CustomOptions:      op.CustomOptions,
		DebugMetadataIndex: -1,
	}
	if op.Options != nil {
		typ, ok := optionsType(op.Options)
		if !ok {
			s.b.fail("subgraph %d operator %d (%v): options of type %T are not builtin options", s.index, idx, op.Op, op.Options)
		}
		o.BuiltinOptions = &fb.BuiltinOptionsT{Type: typ, Value: op.Options}
	}
	s.operators = append(s.operators, o)
	return idx
}

// SetInputs sets the subgraph's input tensors.
func (s *SubgraphBuilder) SetInputs(tensors ...int) { s.inputs = tensors }

// SetOutputs sets the subgraph's output tensors.
func (s *SubgraphBuilder) SetOutputs(tensors ...int) { s.outputs = tensors }

func toInt32s(v []int, always bool) []int32 {
	if v == nil && !always {
		return nil
	}
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// check validates the indices the model refers to.
func (b *Builder) check() error {
	if b.err != nil {
		return b.err
	}
	if len(b.subgraphs) == 0 {
		return errors.New("model has no subgraph")
	}
	for _, s := range b.subgraphs {
		n := len(s.tensors)
		for _, idx := range [][]int{s.inputs, s.outputs} {
			for _, t := range idx {
				if t < 0 || t >= n {
					return fmt.Errorf("subgraph %d: input/output tensor %d out of range (%d tensors)", s.index, t, n)
				}
			}
		}
		for i, op := range s.operators {
			for _, t := range slices.Concat(op.Inputs, op.Outputs) {
				if t < -1 || int(t) >= n {
					return fmt.Errorf("subgraph %d operator %d: tensor %d out of range (%d tensors)", s.index, i, t, n)
				}
			}
		}
		for i, t := range s.tensors {
			if q := t.Quantization; q != nil && len(q.Scale) > 1 {
				if d := int(q.QuantizedDimension); d < 0 || d >= len(t.Shape) || int(t.Shape[d]) != len(q.Scale) {
					return fmt.Errorf("subgraph %d tensor %d %q: %d scales do not match dimension %d of shape %v", s.index, i, t.Name, len(q.Scale), d, t.Shape)
				}
			}
		}
	}
	for _, sig := range b.signatures {
		if sig.Subgraph < 0 || sig.Subgraph >= len(b.subgraphs) {
			return fmt.Errorf("signature %q: subgraph %d out of range", sig.Key, sig.Subgraph)
		}
		n := len(b.subgraphs[sig.Subgraph].tensors)
		for _, st := range slices.Concat(sig.Inputs, sig.Outputs) {
			if st.Tensor < 0 || st.Tensor >= n {
				return fmt.Errorf("signature %q %q: tensor %d out of range (%d tensors)", sig.Key, st.Name, st.Tensor, n)
			}
		}
	}
	return nil
}

// Finish serialises the model with file identifier "TFL3" and schema
// version 3, and checks that the result reads back.
func (b *Builder) Finish() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, bug.Errorf(builderWhere, "build tflite model: %w", err)
	}
	// Size the builder for the buffers (each 16-byte aligned, with its
	// length and table) plus room for the graph, so it never grows: a
	// flatbuffers.Builder grows by doubling and copying what it holds.
	size := 1 << 16
	for _, buf := range b.buffers {
		size += buf.size() + 64
	}
	for _, sg := range b.subgraphs {
		size += 256*len(sg.tensors) + 128*len(sg.operators)
	}
	// A multiple of 64: the buffers, 16-byte aligned from the end, are then
	// aligned in memory too (a large allocation starts on a page), so a
	// Fill moves whole words.
	size = (size + 63) &^ 63
	fbb := flatbuffers.NewBuilder(size)

	// Buffers first: their data ends up at the end of the file, each vector
	// aligned to 16 bytes as the schema's force_align asks.
	bufOffs := make([]flatbuffers.UOffsetT, len(b.buffers))
	for i, buf := range b.buffers {
		var dataOff flatbuffers.UOffsetT
		if n := buf.size(); n > 0 {
			if int64(n) > math.MaxInt32 {
				return nil, fmt.Errorf("build tflite model: buffer %d of %d bytes does not fit in a flatbuffer", i, n)
			}
			fbb.Prep(16, n)
			data := buf.data
			if buf.fill != nil {
				// The vector's bytes go right below the head: write them
				// there, and CreateByteVector's copy is of the bytes onto
				// themselves (were they placed elsewhere, the copy would
				// still move them there).
				h := int(fbb.Head())
				data = fbb.Bytes[h-n : h : h]
				buf.fill.Write(data)
			}
			dataOff = fbb.CreateByteVector(data)
		}
		fb.BufferStart(fbb)
		if dataOff != 0 {
			fb.BufferAddData(fbb, dataOff)
		}
		bufOffs[i] = fb.BufferEnd(fbb)
	}
	buffers := tableVector(fbb, bufOffs)

	sgOffs := make([]flatbuffers.UOffsetT, len(b.subgraphs))
	for i, s := range b.subgraphs {
		sg := fb.SubGraphT{
			Name:               s.name,
			Inputs:             toInt32s(s.inputs, true),
			Outputs:            toInt32s(s.outputs, true),
			DebugMetadataIndex: -1,
		}
		for j := range s.tensors {
			sg.Tensors = append(sg.Tensors, &s.tensors[j])
		}
		for j := range s.operators {
			sg.Operators = append(sg.Operators, &s.operators[j])
		}
		if sg.Tensors == nil {
			sg.Tensors = []*fb.TensorT{}
		}
		if sg.Operators == nil {
			sg.Operators = []*fb.OperatorT{}
		}
		sgOffs[i] = sg.Pack(fbb)
	}
	subgraphs := tableVector(fbb, sgOffs)

	codeOffs := make([]flatbuffers.UOffsetT, len(b.opcodes))
	for i, c := range b.opcodes {
		oc := fb.OperatorCodeT{
			DeprecatedBuiltinCode: int8(min(c.Builtin, OpPlaceholderForGreaterOpCodes)),
			CustomCode:            c.Custom,
			Version:               int32(c.Version),
			BuiltinCode:           c.Builtin,
		}
		codeOffs[i] = oc.Pack(fbb)
	}
	codes := tableVector(fbb, codeOffs)

	mdOffs := make([]flatbuffers.UOffsetT, len(b.metadata))
	for i := range b.metadata {
		mdOffs[i] = b.metadata[i].Pack(fbb)
	}
	metadata := tableVector(fbb, mdOffs)

	sigOffs := make([]flatbuffers.UOffsetT, len(b.signatures))
	for i, s := range b.signatures {
		sd := fb.SignatureDefT{SignatureKey: s.Key, SubgraphIndex: uint32(s.Subgraph), Inputs: []*fb.TensorMapT{}, Outputs: []*fb.TensorMapT{}}
		for _, st := range s.Inputs {
			sd.Inputs = append(sd.Inputs, &fb.TensorMapT{Name: st.Name, TensorIndex: uint32(st.Tensor)})
		}
		for _, st := range s.Outputs {
			sd.Outputs = append(sd.Outputs, &fb.TensorMapT{Name: st.Name, TensorIndex: uint32(st.Tensor)})
		}
		sigOffs[i] = sd.Pack(fbb)
	}
	signatures := tableVector(fbb, sigOffs)
	desc := fbb.CreateString(b.description)

	fb.ModelStart(fbb)
	fb.ModelAddVersion(fbb, SchemaVersion)
	fb.ModelAddOperatorCodes(fbb, codes)
	fb.ModelAddSubgraphs(fbb, subgraphs)
	fb.ModelAddDescription(fbb, desc)
	fb.ModelAddBuffers(fbb, buffers)
	fb.ModelAddMetadata(fbb, metadata)
	fb.ModelAddSignatureDefs(fbb, signatures)
	fbb.FinishWithFileIdentifier(fb.ModelEnd(fbb), []byte(fileIdentifier))

	out := fbb.FinishedBytes()
	if _, err := Read(out); err != nil {
		return nil, bug.Errorf(builderWhere, "build tflite model: result does not read back: %w", err)
	}
	return out, nil
}

func tableVector(fbb *flatbuffers.Builder, offs []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	fbb.StartVector(4, len(offs), 4)
	for i := len(offs) - 1; i >= 0; i-- {
		fbb.PrependUOffsetT(offs[i])
	}
	return fbb.EndVector(len(offs))
}
