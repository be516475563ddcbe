package tflite

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/tensor"
)

// Model is a plain-Go description of a .tflite file, as Read returns it.
// Slices of bytes in it (Buffer.Data, Operator.CustomOptions) alias the bytes
// given to Read, which must therefore not be modified while the Model is in
// use.
type Model struct {
	// Version is the schema version (3 for every current model).
	Version uint32
	// Description is the free-text description (e.g. "MLIR Converted.").
	Description string
	// MinRuntimeVersion is the content of the "min_runtime_version" metadata
	// (e.g. "1.5.0"), or "" when the model has none.
	MinRuntimeVersion string
	// Metadata lists the named metadata entries.
	Metadata []Metadata
	// OperatorCodes lists the operator codes operators refer to by index.
	OperatorCodes []OperatorCode
	// Subgraphs lists the subgraphs; the first is the main graph.
	Subgraphs []Subgraph
	// Buffers lists the data buffers; buffer 0 is the empty sentinel.
	Buffers []Buffer
	// Signatures lists the SignatureDefs, in file order.
	Signatures []Signature

	raw []byte
}

// Metadata is a named metadata entry; its content is a buffer.
type Metadata struct {
	Name   string
	Buffer int
}

// OperatorCode identifies an operator kind.
type OperatorCode struct {
	// Builtin is the real builtin code: max(deprecated_builtin_code,
	// builtin_code), since files written before schema 3a only fill the
	// deprecated byte.
	Builtin BuiltinOperator
	// Custom is the custom operator name when Builtin is OpCustom.
	Custom string
	// Version is the operator version (1 when absent).
	Version int
}

// Name returns the custom name of a custom operator and the schema name of
// a builtin one (e.g. "CONV_2D").
func (c OperatorCode) Name() string {
	if c.Builtin == OpCustom && c.Custom != "" {
		return c.Custom
	}
	return c.Builtin.String()
}

// Subgraph is one graph of tensors and operators.
type Subgraph struct {
	Name      string
	Tensors   []Tensor
	Inputs    []int // tensor indices
	Outputs   []int // tensor indices
	Operators []Operator
}

// Tensor describes one tensor of a subgraph.
type Tensor struct {
	// Index is the tensor's index in its subgraph.
	Index int
	Name  string
	// Type is the raw TFLite element type; DType is its tensor.DType, or
	// tensor.Invalid when there is none (STRING, COMPLEX64, INT4, ...).
	Type  TensorType
	DType tensor.DType
	// Shape is the static shape. ShapeSignature, when the file has one,
	// marks dynamic dimensions with -1.
	Shape          []int
	ShapeSignature []int
	// HasRank distinguishes a scalar (true, empty shape) from a tensor of
	// unknown rank; files written before the field existed leave it false.
	HasRank bool
	// Buffer is the index of the buffer holding constant data; 0 (the
	// sentinel) or an empty buffer means the tensor is computed at run time.
	Buffer int
	// Quant holds the affine quantization parameters, nil when the tensor
	// has no scales. For per-axis quantization Quant.Axis is the
	// quantized_dimension.
	Quant *tensor.Quant
	// QuantDetails names the QuantizationDetails union member when the file
	// uses one (e.g. "BlockwiseQuantization"); the affine parameters are
	// then not the whole story.
	QuantDetails string
	IsVariable   bool
	// Sparse reports that the tensor carries sparsity parameters (its
	// buffer is not a dense array).
	Sparse bool
}

// IsDynamic reports whether the tensor has a dynamic dimension (-1 in its
// shape signature or shape).
func (t *Tensor) IsDynamic() bool {
	return slices.Contains(t.ShapeSignature, -1) || slices.Contains(t.Shape, -1)
}

// Operator is one operator of a subgraph.
type Operator struct {
	// Index is the operator's position in execution order.
	Index int
	// OpcodeIndex indexes Model.OperatorCodes; Builtin, Custom and Version
	// are copied from that entry.
	OpcodeIndex int
	Builtin     BuiltinOperator
	Custom      string
	Version     int
	// Inputs and Outputs are tensor indices; -1 marks an omitted optional
	// tensor.
	Inputs, Outputs []int
	Intermediates   []int
	// OptionsType is the raw BuiltinOptions union type (0 for none), and
	// Options2Type the BuiltinOptions2 one.
	OptionsType  uint8
	Options2Type uint8
	// Options are the decoded builtin options, one of the *…Options types
	// of this package (e.g. *Conv2DOptions), or nil when the operator has
	// none or its options type is not in the schema subset.
	Options any
	// CompositeName is the name of a STABLEHLO_COMPOSITE operator (e.g.
	// "odml.group_norm").
	CompositeName string
	// CustomOptions are the inline custom options (aliasing the model
	// bytes). Models larger than 2 GB store them after the flatbuffer at
	// LargeCustomOptionsOffset instead.
	CustomOptions            []byte
	LargeCustomOptionsOffset uint64
	LargeCustomOptionsSize   uint64
}

// Name returns the custom name of a custom operator and the schema name of
// a builtin one.
func (o *Operator) Name() string {
	return OperatorCode{Builtin: o.Builtin, Custom: o.Custom}.Name()
}

// Buffer is one data buffer. Its bytes are either inline in the flatbuffer
// (Data, at DataOffset in the file) or, in models larger than 2 GB, stored
// after the flatbuffer at [Offset, Offset+Size) from the start of the file
// (Offset > 1).
type Buffer struct {
	Data       []byte
	DataOffset int64
	Offset     uint64
	Size       uint64
}

// External reports whether the buffer's bytes are stored after the
// flatbuffer.
func (b *Buffer) External() bool { return b.Offset > 1 }

// Len returns the number of data bytes of the buffer.
func (b *Buffer) Len() int64 {
	if b.External() {
		return int64(b.Size)
	}
	return int64(len(b.Data))
}

// Signature is a SignatureDef: a named entry point into a subgraph with
// named inputs and outputs.
type Signature struct {
	Key      string
	Subgraph int
	Inputs   []SignatureTensor
	Outputs  []SignatureTensor
}

// SignatureTensor maps a signature's input or output name to a tensor index
// of the signature's subgraph.
type SignatureTensor struct {
	Name   string
	Tensor int
}

// IOTensor is one input or output of a signature or subgraph.
type IOTensor struct {
	// Name is the signature key, or the tensor name for a subgraph.
	Name   string
	Tensor *Tensor
}

// BufferData returns the bytes of buffer i (nil for an empty buffer). The
// slice aliases the model bytes.
func (m *Model) BufferData(i int) ([]byte, error) {
	if i == 0 && len(m.Buffers) == 0 {
		return nil, nil // a model without buffers: 0 still means "no data"
	}
	if i < 0 || i >= len(m.Buffers) {
		return nil, fmt.Errorf("buffer %d out of range (model has %d)", i, len(m.Buffers))
	}
	b := &m.Buffers[i]
	if !b.External() {
		return b.Data, nil
	}
	// Read checked that external buffers lie inside the file.
	return m.raw[b.Offset : b.Offset+b.Size], nil
}

// TensorData returns the constant data of tensor t of subgraph sg, or nil
// when the tensor has none (it is computed at run time).
func (m *Model) TensorData(sg, t int) ([]byte, error) {
	tt, err := m.tensor(sg, t)
	if err != nil {
		return nil, err
	}
	return m.BufferData(tt.Buffer)
}

// ConstTensor returns tensor t of subgraph sg with its constant data as a
// tensor.Tensor. It fails when the tensor has no data, has a type without a
// tensor.DType, or its data size does not match its shape.
func (m *Model) ConstTensor(sg, t int) (*tensor.Tensor, error) {
	tt, err := m.tensor(sg, t)
	if err != nil {
		return nil, err
	}
	data, err := m.BufferData(tt.Buffer)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("tensor %d %q has no constant data", t, tt.Name)
	}
	if tt.DType == tensor.Invalid {
		return nil, fmt.Errorf("tensor %d %q: element type %v has no tensor dtype", t, tt.Name, tt.Type)
	}
	out := &tensor.Tensor{DType: tt.DType, Shape: slices.Clone(tt.Shape), Data: data, Quant: tt.Quant}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("tensor %d %q: %w", t, tt.Name, err)
	}
	return out, nil
}

func (m *Model) tensor(sg, t int) (*Tensor, error) {
	if sg < 0 || sg >= len(m.Subgraphs) {
		return nil, fmt.Errorf("subgraph %d out of range (model has %d)", sg, len(m.Subgraphs))
	}
	ts := m.Subgraphs[sg].Tensors
	if t < 0 || t >= len(ts) {
		return nil, fmt.Errorf("tensor %d out of range (subgraph %d has %d)", t, sg, len(ts))
	}
	return &ts[t], nil
}

// Signature returns the SignatureDef with the given key.
func (m *Model) Signature(key string) (*Signature, error) {
	for i := range m.Signatures {
		if m.Signatures[i].Key == key {
			return &m.Signatures[i], nil
		}
	}
	keys := make([]string, len(m.Signatures))
	for i, s := range m.Signatures {
		keys[i] = s.Key
	}
	return nil, fmt.Errorf("no signature %q (model has %q)", key, keys)
}

// InputTensors returns the inputs of signature sig in signature order, or,
// when sig is "", the inputs of subgraph 0 in subgraph order (named after
// their tensors).
func (m *Model) InputTensors(sig string) ([]IOTensor, error) { return m.io(sig, true) }

// OutputTensors is InputTensors for outputs.
func (m *Model) OutputTensors(sig string) ([]IOTensor, error) { return m.io(sig, false) }

func (m *Model) io(sig string, inputs bool) ([]IOTensor, error) {
	if sig == "" {
		if len(m.Subgraphs) == 0 {
			return nil, fmt.Errorf("model has no subgraph")
		}
		sg := &m.Subgraphs[0]
		idx := sg.Outputs
		if inputs {
			idx = sg.Inputs
		}
		out := make([]IOTensor, len(idx))
		for i, t := range idx {
			out[i] = IOTensor{Name: sg.Tensors[t].Name, Tensor: &sg.Tensors[t]}
		}
		return out, nil
	}
	s, err := m.Signature(sig)
	if err != nil {
		return nil, err
	}
	st := s.Outputs
	if inputs {
		st = s.Inputs
	}
	sg := &m.Subgraphs[s.Subgraph]
	out := make([]IOTensor, len(st))
	for i, t := range st {
		out[i] = IOTensor{Name: t.Name, Tensor: &sg.Tensors[t.Tensor]}
	}
	return out, nil
}
