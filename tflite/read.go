package tflite

import (
	"bytes"
	"fmt"
	"math"

	"github.com/edgeval/edgeval/tensor"
)

// Field slots of the tables Read decodes (their position in the table
// definitions of schema/schema.fbs).
const (
	slotModelVersion        = 0
	slotModelOperatorCodes  = 1
	slotModelSubgraphs      = 2
	slotModelDescription    = 3
	slotModelBuffers        = 4
	slotModelMetadata       = 6
	slotModelSignatureDefs  = 7
	slotOpcodeDeprecated    = 0
	slotOpcodeCustom        = 1
	slotOpcodeVersion       = 2
	slotOpcodeBuiltin       = 3
	slotSubgraphTensors     = 0
	slotSubgraphInputs      = 1
	slotSubgraphOutputs     = 2
	slotSubgraphOperators   = 3
	slotSubgraphName        = 4
	slotTensorShape         = 0
	slotTensorType          = 1
	slotTensorBuffer        = 2
	slotTensorName          = 3
	slotTensorQuantization  = 4
	slotTensorIsVariable    = 5
	slotTensorSparsity      = 6
	slotTensorShapeSig      = 7
	slotTensorHasRank       = 8
	slotQuantScale          = 2
	slotQuantZeroPoint      = 3
	slotQuantDetailsType    = 4
	slotQuantDetails        = 5
	slotQuantDimension      = 6
	slotOpOpcodeIndex       = 0
	slotOpInputs            = 1
	slotOpOutputs           = 2
	slotOpOptionsType       = 3
	slotOpOptions           = 4
	slotOpCustomOptions     = 5
	slotOpIntermediates     = 8
	slotOpLargeCustomOffset = 9
	slotOpLargeCustomSize   = 10
	slotOpOptions2Type      = 11
	slotOpOptions2          = 12
	slotBufferData          = 0
	slotBufferOffset        = 1
	slotBufferSize          = 2
	slotMetadataName        = 0
	slotMetadataBuffer      = 1
	slotTensorMapName       = 0
	slotTensorMapIndex      = 1
	slotSignatureInputs     = 0
	slotSignatureOutputs    = 1
	slotSignatureKey        = 2
	slotSignatureSubgraph   = 4
)

// fileIdentifier is the FlatBuffers file identifier of TFLite models.
const fileIdentifier = "TFL3"

// compositeOptionsType is the BuiltinOptions2 member StableHLOCompositeOptions.
const compositeOptionsType = 21

// Read decodes a .tflite model. It checks every offset and length before
// use, so any byte string gives either a Model or an error (a *FormatError
// for malformed bytes), never a panic, and allocates no more than the bytes
// can hold. The Model aliases b.
func Read(b []byte) (m *Model, err error) {
	m, _, err = decode(b)
	return m, err
}

// layout records where Read found the objects the patches rewrite.
type layout struct {
	subgraphs  []table
	tensors    [][]tensorLayout // per subgraph
	signatures []table
	// extOffsets are the positions of the ulong fields that hold file
	// offsets of data stored after the flatbuffer (Buffer.offset and
	// Operator.large_custom_options_offset with a value > 1).
	extOffsets []int64
	// end is the furthest byte any decoded object reached.
	end int64
}

type tensorLayout struct {
	shape, shapeSig vec
	// quantDim is the position of the quantized_dimension field (-1 when
	// absent) and quantDimFixed reports that Read replaced an out-of-range
	// value by 0.
	quantDim      int64
	quantDimFixed bool
}

func decode(b []byte) (m *Model, l *layout, err error) {
	defer func() {
		// The checks below are what make decoding safe; this only turns a
		// bug in them into an error instead of a crash.
		if r := recover(); r != nil {
			m, l, err = nil, nil, &FormatError{Offset: -1, What: fmt.Sprintf("internal decoding failure: %v", r)}
		}
	}()
	d := &decoder{v: newView(b), l: &layout{}}
	m, err = d.model()
	if err != nil {
		return nil, nil, err
	}
	d.l.end = d.v.end
	return m, d.l, nil
}

type decoder struct {
	v *view
	l *layout
}

func (d *decoder) model() (*Model, error) {
	v := d.v
	if len(v.b) < 8 {
		return nil, formatErr(0, "file of %d bytes is too short for a TFLite model", len(v.b))
	}
	if id := string(v.b[4:8]); id != fileIdentifier {
		return nil, formatErr(4, "file identifier is %q, want %q (not a TFLite model)", id, fileIdentifier)
	}
	root, err := v.table(int64(v.u32(0)), "model")
	if err != nil {
		return nil, err
	}
	m := &Model{raw: v.b}
	ver, err := v.scalar(root, slotModelVersion, 4, 0, "model version")
	if err != nil {
		return nil, err
	}
	m.Version = uint32(ver)
	if m.Description, err = v.str(root, slotModelDescription, "model description"); err != nil {
		return nil, err
	}
	if err := d.operatorCodes(root, m); err != nil {
		return nil, err
	}
	if err := d.buffers(root, m); err != nil {
		return nil, err
	}
	if err := d.metadata(root, m); err != nil {
		return nil, err
	}
	subgraphs, err := v.vector(root, slotModelSubgraphs, 4, "subgraphs")
	if err != nil {
		return nil, err
	}
	m.Subgraphs = make([]Subgraph, subgraphs.n)
	d.l.subgraphs = make([]table, subgraphs.n)
	d.l.tensors = make([][]tensorLayout, subgraphs.n)
	for i := range subgraphs.n {
		if err := d.subgraph(subgraphs, i, m); err != nil {
			return nil, err
		}
	}
	if err := d.signatures(root, m); err != nil {
		return nil, err
	}
	return m, nil
}

func (d *decoder) operatorCodes(root table, m *Model) error {
	v := d.v
	codes, err := v.vector(root, slotModelOperatorCodes, 4, "operator codes")
	if err != nil {
		return err
	}
	m.OperatorCodes = make([]OperatorCode, codes.n)
	for i := range codes.n {
		what := fmt.Sprintf("operator code %d", i)
		t, err := v.elemTable(codes, i, what)
		if err != nil {
			return err
		}
		dep, err := v.scalar(t, slotOpcodeDeprecated, 1, 0, what)
		if err != nil {
			return err
		}
		code, err := v.scalar(t, slotOpcodeBuiltin, 4, 0, what)
		if err != nil {
			return err
		}
		version, err := v.scalar(t, slotOpcodeVersion, 4, 1, what)
		if err != nil {
			return err
		}
		c := &m.OperatorCodes[i]
		c.Builtin = max(BuiltinOperator(int8(dep)), BuiltinOperator(int32(code)))
		c.Version = int(int32(version))
		if c.Custom, err = v.str(t, slotOpcodeCustom, what); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) buffers(root table, m *Model) error {
	v := d.v
	bufs, err := v.vector(root, slotModelBuffers, 4, "buffers")
	if err != nil {
		return err
	}
	m.Buffers = make([]Buffer, bufs.n)
	for i := range bufs.n {
		what := fmt.Sprintf("buffer %d", i)
		t, err := v.elemTable(bufs, i, what)
		if err != nil {
			return err
		}
		data, err := v.vector(t, slotBufferData, 1, what)
		if err != nil {
			return err
		}
		bf := &m.Buffers[i]
		if data.n > 0 {
			bf.Data = v.b[data.start : data.start+int64(data.n) : data.start+int64(data.n)]
			bf.DataOffset = data.start
		}
		if bf.Offset, err = v.scalar(t, slotBufferOffset, 8, 0, what); err != nil {
			return err
		}
		if bf.Size, err = v.scalar(t, slotBufferSize, 8, 0, what); err != nil {
			return err
		}
		if bf.External() {
			if bf.Offset > math.MaxInt64 || bf.Size > uint64(v.size()) || bf.Offset > uint64(v.size())-bf.Size {
				return formatErr(t.pos, "%s: data at [%d, +%d) lies outside the file of %d bytes", what, bf.Offset, bf.Size, v.size())
			}
			f, _ := v.field(t, slotBufferOffset, 8, what)
			d.l.extOffsets = append(d.l.extOffsets, f)
		}
	}
	return nil
}

func (d *decoder) metadata(root table, m *Model) error {
	v := d.v
	md, err := v.vector(root, slotModelMetadata, 4, "metadata")
	if err != nil {
		return err
	}
	m.Metadata = make([]Metadata, md.n)
	for i := range md.n {
		what := fmt.Sprintf("metadata %d", i)
		t, err := v.elemTable(md, i, what)
		if err != nil {
			return err
		}
		e := &m.Metadata[i]
		if e.Name, err = v.str(t, slotMetadataName, what); err != nil {
			return err
		}
		buf, err := v.scalar(t, slotMetadataBuffer, 4, 0, what)
		if err != nil {
			return err
		}
		if buf >= uint64(len(m.Buffers)) {
			return formatErr(t.pos, "metadata %q: buffer %d out of range (model has %d buffers)", e.Name, buf, len(m.Buffers))
		}
		e.Buffer = int(buf)
		if e.Name == "min_runtime_version" {
			data, err := m.BufferData(e.Buffer)
			if err != nil {
				return err
			}
			if i := bytes.IndexByte(data, 0); i >= 0 {
				data = data[:i]
			}
			m.MinRuntimeVersion = string(data)
		}
	}
	return nil
}

func (d *decoder) subgraph(subgraphs vec, i int, m *Model) error {
	v := d.v
	what := fmt.Sprintf("subgraph %d", i)
	t, err := v.elemTable(subgraphs, i, what)
	if err != nil {
		return err
	}
	d.l.subgraphs[i] = t
	sg := &m.Subgraphs[i]
	if sg.Name, err = v.str(t, slotSubgraphName, what); err != nil {
		return err
	}
	tensors, err := v.vector(t, slotSubgraphTensors, 4, what+" tensors")
	if err != nil {
		return err
	}
	sg.Tensors = make([]Tensor, tensors.n)
	d.l.tensors[i] = make([]tensorLayout, tensors.n)
	for j := range tensors.n {
		if err := d.tensor(tensors, i, j, m); err != nil {
			return err
		}
	}
	if sg.Inputs, err = d.indices(t, slotSubgraphInputs, what+" inputs", 0, tensors.n); err != nil {
		return err
	}
	if sg.Outputs, err = d.indices(t, slotSubgraphOutputs, what+" outputs", 0, tensors.n); err != nil {
		return err
	}
	ops, err := v.vector(t, slotSubgraphOperators, 4, what+" operators")
	if err != nil {
		return err
	}
	sg.Operators = make([]Operator, ops.n)
	for j := range ops.n {
		if err := d.operator(ops, i, j, m); err != nil {
			return err
		}
	}
	return nil
}

// indices reads an int32 vector of indices that must lie in [lo, n).
func (d *decoder) indices(t table, slot int, what string, lo, n int) ([]int, error) {
	s, err := d.v.vector(t, slot, 4, what)
	if err != nil || s.n == 0 {
		return nil, err
	}
	out := make([]int, s.n)
	for k := range out {
		x := int(d.v.i32(s.start + 4*int64(k)))
		if x < lo || x >= n {
			return nil, formatErr(s.start+4*int64(k), "%s: index %d out of range [%d, %d)", what, x, lo, n)
		}
		out[k] = x
	}
	return out, nil
}

// ints reads an int32 vector.
func (d *decoder) ints(s vec) []int {
	if s.n == 0 {
		return nil
	}
	out := make([]int, s.n)
	for k := range out {
		out[k] = int(d.v.i32(s.start + 4*int64(k)))
	}
	return out
}

func (d *decoder) tensor(tensors vec, sgi, i int, m *Model) error {
	v := d.v
	what := fmt.Sprintf("subgraph %d tensor %d", sgi, i)
	t, err := v.elemTable(tensors, i, what)
	if err != nil {
		return err
	}
	tt := &m.Subgraphs[sgi].Tensors[i]
	tt.Index = i
	if tt.Name, err = v.str(t, slotTensorName, what); err != nil {
		return err
	}
	what = fmt.Sprintf("subgraph %d tensor %d %q", sgi, i, tt.Name)
	shape, err := v.vector(t, slotTensorShape, 4, what+" shape")
	if err != nil {
		return err
	}
	sig, err := v.vector(t, slotTensorShapeSig, 4, what+" shape_signature")
	if err != nil {
		return err
	}
	d.l.tensors[sgi][i] = tensorLayout{shape: shape, shapeSig: sig, quantDim: -1}
	tt.Shape = d.ints(shape)
	if tt.Shape == nil {
		tt.Shape = []int{}
	}
	tt.ShapeSignature = d.ints(sig)
	typ, err := v.scalar(t, slotTensorType, 1, 0, what)
	if err != nil {
		return err
	}
	tt.Type = TensorType(int8(typ))
	tt.DType = DTypeOf(tt.Type)
	buf, err := v.scalar(t, slotTensorBuffer, 4, 0, what)
	if err != nil {
		return err
	}
	if buf >= uint64(len(m.Buffers)) && !(buf == 0 && len(m.Buffers) == 0) {
		return formatErr(t.pos, "%s: buffer %d out of range (model has %d buffers)", what, buf, len(m.Buffers))
	}
	tt.Buffer = int(buf)
	isVar, err := v.scalar(t, slotTensorIsVariable, 1, 0, what)
	if err != nil {
		return err
	}
	hasRank, err := v.scalar(t, slotTensorHasRank, 1, 0, what)
	if err != nil {
		return err
	}
	tt.IsVariable, tt.HasRank = isVar != 0, hasRank != 0
	sparsity, err := v.ref(t, slotTensorSparsity, what+" sparsity")
	if err != nil {
		return err
	}
	if sparsity >= 0 {
		if _, err := v.table(sparsity, what+" sparsity"); err != nil {
			return err
		}
		tt.Sparse = true
	}
	return d.quantization(t, tt, &d.l.tensors[sgi][i], what)
}

func (d *decoder) quantization(t table, tt *Tensor, tl *tensorLayout, what string) error {
	v := d.v
	what += " quantization"
	qp, err := v.ref(t, slotTensorQuantization, what)
	if err != nil || qp < 0 {
		return err
	}
	q, err := v.table(qp, what)
	if err != nil {
		return err
	}
	scale, err := v.vector(q, slotQuantScale, 4, what+" scale")
	if err != nil {
		return err
	}
	zp, err := v.vector(q, slotQuantZeroPoint, 8, what+" zero_point")
	if err != nil {
		return err
	}
	dim, err := v.scalar(q, slotQuantDimension, 4, 0, what)
	if err != nil {
		return err
	}
	detailsType, err := v.scalar(q, slotQuantDetailsType, 1, 0, what)
	if err != nil {
		return err
	}
	if detailsType != 0 {
		p, err := v.ref(q, slotQuantDetails, what+" details")
		if err != nil {
			return err
		}
		if p < 0 {
			return formatErr(q.pos, "%s: details of type %d missing", what, detailsType)
		}
		if _, err := v.table(p, what+" details"); err != nil {
			return err
		}
		tt.QuantDetails = quantDetailsName(byte(detailsType))
	}
	if scale.n == 0 {
		return nil
	}
	if zp.n != 0 && zp.n != scale.n {
		return formatErr(q.pos, "%s: %d scales but %d zero points", what, scale.n, zp.n)
	}
	if tl.quantDim, err = v.field(q, slotQuantDimension, 4, what); err != nil {
		return err
	}
	// TOCO copied a depthwise kernel's quantized_dimension (3) into the
	// quantization of its rank-1 bias. With one scale, or as many as the
	// first dimension, the only axis the scales can run along is 0.
	axis := int(int32(dim))
	if scale.n == 1 {
		tl.quantDimFixed = axis < 0 || axis >= max(len(tt.Shape), 1)
		axis = 0
	} else {
		if axis < 0 || axis >= len(tt.Shape) {
			if len(tt.Shape) == 0 || tt.Shape[0] != scale.n {
				return formatErr(q.pos, "%s: quantized_dimension %d out of range for shape %v", what, axis, tt.Shape)
			}
			axis, tl.quantDimFixed = 0, true
		}
		if tt.Shape[axis] != scale.n {
			return formatErr(q.pos, "%s: %d scales do not match dimension %d of shape %v", what, scale.n, axis, tt.Shape)
		}
	}
	qq := &tensor.Quant{Scale: make([]float32, scale.n), ZeroPoint: make([]int64, scale.n), Axis: axis}
	for k := range scale.n {
		qq.Scale[k] = math.Float32frombits(v.u32(scale.start + 4*int64(k)))
		if zp.n != 0 {
			qq.ZeroPoint[k] = int64(v.u64(zp.start + 8*int64(k)))
		}
	}
	tt.Quant = qq
	return nil
}

func (d *decoder) operator(ops vec, sgi, i int, m *Model) error {
	v := d.v
	what := fmt.Sprintf("subgraph %d operator %d", sgi, i)
	t, err := v.elemTable(ops, i, what)
	if err != nil {
		return err
	}
	op := &m.Subgraphs[sgi].Operators[i]
	op.Index = i
	idx, err := v.scalar(t, slotOpOpcodeIndex, 4, 0, what)
	if err != nil {
		return err
	}
	if idx >= uint64(len(m.OperatorCodes)) {
		return formatErr(t.pos, "%s: operator code %d out of range (model has %d)", what, idx, len(m.OperatorCodes))
	}
	code := m.OperatorCodes[idx]
	op.OpcodeIndex, op.Builtin, op.Custom, op.Version = int(idx), code.Builtin, code.Custom, code.Version
	what = fmt.Sprintf("%s (%s)", what, code.Name())
	n := len(m.Subgraphs[sgi].Tensors)
	if op.Inputs, err = d.indices(t, slotOpInputs, what+" inputs", -1, n); err != nil {
		return err
	}
	if op.Outputs, err = d.indices(t, slotOpOutputs, what+" outputs", -1, n); err != nil {
		return err
	}
	if op.Intermediates, err = d.indices(t, slotOpIntermediates, what+" intermediates", -1, n); err != nil {
		return err
	}
	typ, err := v.scalar(t, slotOpOptionsType, 1, 0, what)
	if err != nil {
		return err
	}
	op.OptionsType = uint8(typ)
	opts, err := d.union(t, op.OptionsType, slotOpOptions, what+" builtin_options")
	if err != nil {
		return err
	}
	if op.OptionsType != 0 {
		if op.Options, err = d.options(opts, op.OptionsType, what+" builtin_options"); err != nil {
			return err
		}
	}
	typ2, err := v.scalar(t, slotOpOptions2Type, 1, 0, what)
	if err != nil {
		return err
	}
	op.Options2Type = uint8(typ2)
	opts2, err := d.union(t, op.Options2Type, slotOpOptions2, what+" builtin_options_2")
	if err != nil {
		return err
	}
	if op.Options2Type == compositeOptionsType {
		if op.CompositeName, err = v.str(opts2, 0, what+" composite name"); err != nil {
			return err
		}
	}
	custom, err := v.vector(t, slotOpCustomOptions, 1, what+" custom_options")
	if err != nil {
		return err
	}
	if custom.n > 0 {
		op.CustomOptions = v.b[custom.start : custom.start+int64(custom.n) : custom.start+int64(custom.n)]
	}
	if op.LargeCustomOptionsOffset, err = v.scalar(t, slotOpLargeCustomOffset, 8, 0, what); err != nil {
		return err
	}
	if op.LargeCustomOptionsSize, err = v.scalar(t, slotOpLargeCustomSize, 8, 0, what); err != nil {
		return err
	}
	if off, size := op.LargeCustomOptionsOffset, op.LargeCustomOptionsSize; off > 1 {
		if size > uint64(v.size()) || off > uint64(v.size())-size {
			return formatErr(t.pos, "%s: custom options at [%d, +%d) lie outside the file of %d bytes", what, off, size, v.size())
		}
		f, _ := v.field(t, slotOpLargeCustomOffset, 8, what)
		d.l.extOffsets = append(d.l.extOffsets, f)
	}
	return nil
}

// union verifies the table of a union field whose type is typ.
func (d *decoder) union(t table, typ uint8, slot int, what string) (table, error) {
	if typ == 0 {
		return table{}, nil
	}
	p, err := d.v.ref(t, slot, what)
	if err != nil {
		return table{}, err
	}
	if p < 0 {
		return table{}, formatErr(t.pos, "%s: union of type %d has no value", what, typ)
	}
	return d.v.table(p, what)
}

func (d *decoder) signatures(root table, m *Model) error {
	v := d.v
	sigs, err := v.vector(root, slotModelSignatureDefs, 4, "signature defs")
	if err != nil {
		return err
	}
	m.Signatures = make([]Signature, sigs.n)
	d.l.signatures = make([]table, sigs.n)
	for i := range sigs.n {
		what := fmt.Sprintf("signature def %d", i)
		t, err := v.elemTable(sigs, i, what)
		if err != nil {
			return err
		}
		d.l.signatures[i] = t
		s := &m.Signatures[i]
		if s.Key, err = v.str(t, slotSignatureKey, what); err != nil {
			return err
		}
		what = fmt.Sprintf("signature %q", s.Key)
		sg, err := v.scalar(t, slotSignatureSubgraph, 4, 0, what)
		if err != nil {
			return err
		}
		if sg >= uint64(len(m.Subgraphs)) {
			return formatErr(t.pos, "%s: subgraph %d out of range (model has %d)", what, sg, len(m.Subgraphs))
		}
		s.Subgraph = int(sg)
		n := len(m.Subgraphs[sg].Tensors)
		if s.Inputs, err = d.tensorMaps(t, slotSignatureInputs, what+" inputs", n); err != nil {
			return err
		}
		if s.Outputs, err = d.tensorMaps(t, slotSignatureOutputs, what+" outputs", n); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) tensorMaps(t table, slot int, what string, n int) ([]SignatureTensor, error) {
	v := d.v
	maps, err := v.vector(t, slot, 4, what)
	if err != nil || maps.n == 0 {
		return nil, err
	}
	out := make([]SignatureTensor, maps.n)
	for i := range maps.n {
		tm, err := v.elemTable(maps, i, what)
		if err != nil {
			return nil, err
		}
		if out[i].Name, err = v.str(tm, slotTensorMapName, what); err != nil {
			return nil, err
		}
		idx, err := v.scalar(tm, slotTensorMapIndex, 4, 0, what)
		if err != nil {
			return nil, err
		}
		if idx >= uint64(n) {
			return nil, formatErr(tm.pos, "%s %q: tensor %d out of range (subgraph has %d)", what, out[i].Name, idx, n)
		}
		out[i].Tensor = int(idx)
	}
	return out, nil
}
