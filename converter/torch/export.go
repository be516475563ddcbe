package torch

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/zipcheck"
	"github.com/edgeval/edgeval/tensor"
)

// maxExportJSON bounds serialized_exported_program.json and models/*.json.
const maxExportJSON = 64 << 20

// isExportArchive reports whether path is a zip holding a torch.export
// program.
func isExportArchive(p string) bool {
	z, err := zip.OpenReader(p)
	if err != nil {
		return false
	}
	defer z.Close()
	recs := map[string]*zip.File{}
	for _, f := range z.File {
		if path.Base(f.Name) == "serialized_exported_program.json" {
			return true
		}
		recs[f.Name] = f
	}
	root, ok := pt2Root(recs)
	if !ok {
		return false
	}
	for name := range recs {
		if strings.HasPrefix(name, root+pt2ModelsDir) {
			return true
		}
	}
	return false
}

// The parts of the torch.export serialization schema that are read.
type exArg struct {
	AsTensor  *struct{ Name string }  `json:"as_tensor"`
	AsTensors []struct{ Name string } `json:"as_tensors"`
	AsInt     *int                    `json:"as_int"`
	AsInts    []int                   `json:"as_ints"`
	AsFloat   *jsonFloat              `json:"as_float"`
	AsFloats  []jsonFloat             `json:"as_floats"`
	AsBool    *bool                   `json:"as_bool"`
	AsString  *string                 `json:"as_string"`
	AsNone    json.RawMessage         `json:"as_none"`
	// AsScalarType is a dtype argument (torch.export's ScalarType code).
	AsScalarType *int `json:"as_scalar_type"`

	kinds []string // the keys present in the file (see UnmarshalJSON)
}

type exNode struct {
	Target string `json:"target"`
	Inputs []struct {
		Name string `json:"name"`
		Arg  exArg  `json:"arg"`
	} `json:"inputs"`
	Outputs []exArg `json:"outputs"`
}

// exGraph is the graph of an exported program.
type exGraph struct {
	Inputs       []exArg  `json:"inputs"`
	Outputs      []exArg  `json:"outputs"`
	Nodes        []exNode `json:"nodes"`
	TensorValues map[string]struct {
		DType         int      `json:"dtype"`
		Sizes         []symInt `json:"sizes"`
		Strides       []symInt `json:"strides"`
		StorageOffset *symInt  `json:"storage_offset"`
	} `json:"tensor_values"`
}

type exProgram struct {
	GraphModule struct {
		Graph     exGraph `json:"graph"`
		Signature struct {
			InputSpecs []struct {
				Parameter *struct {
					Arg  struct{ Name string } `json:"arg"`
					Name string                `json:"parameter_name"`
				} `json:"parameter"`
				Buffer *struct {
					Arg  struct{ Name string } `json:"arg"`
					Name string                `json:"buffer_name"`
				} `json:"buffer"`
				Constant *struct {
					Arg  struct{ Name string } `json:"arg"`
					Name string                `json:"tensor_constant_name"`
				} `json:"tensor_constant"`
				UserInput *struct {
					Arg exArg `json:"arg"`
				} `json:"user_input"`
			} `json:"input_specs"`
		} `json:"signature"`
	} `json:"graph_module"`
}

// exportDTypes maps torch.export's ScalarType codes to dtypes.
var exportDTypes = map[int]tensor.DType{1: tensor.Uint8, 2: tensor.Int8, 3: tensor.Int16, 4: tensor.Int32, 5: tensor.Int64, 6: tensor.Float16, 7: tensor.Float32, 8: tensor.Float64, 12: tensor.Bool}

// LoadExport reads a torch.export archive (.pt2): the ATen graph of
// serialized_exported_program.json with the weights of
// serialized_state_dict.pt and serialized_constants.pt (torch <= 2.5), or
// of <root>/models/model.json with the payloads its weights and constants
// configs describe (torch >= 2.6). batch > 0 replaces the first dimension
// of the inputs. A parameter, buffer or constant of the program that no
// node of the graph reads (num_batches_tracked excepted) fails the load
// with an *UnusedWeightsError; Load with Options.AllowUnused accepts them.
func LoadExport(p string, batch int) (*graph.Graph, error) {
	r, err := loadExportChecked(p, batch, false)
	if err != nil {
		return nil, err
	}
	return r.Graph, nil
}

func loadExportChecked(p string, batch int, allow bool) (*Result, error) {
	r, err := loadExport(p, batch, allow)
	if err != nil {
		if IsBadInput(err) {
			return nil, err
		}
		return nil, &Error{File: p, Err: err}
	}
	return r, nil
}

func loadExport(p string, batch int, allow bool) (*Result, error) {
	prog, weights, err := readExport(p)
	if err != nil {
		return nil, err
	}
	return buildExport(p, prog, weights, batch, allow)
}

// readExport reads the program and weights of a torch.export archive,
// every record verified (CRC-32 and size). Its errors name the file.
func readExport(p string) (*exProgram, map[string]*tensor.Tensor, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, nil, err
	}
	return readExportFrom(p, fh, st.Size())
}

// readExportFrom is readExport on an open archive of size bytes; p names
// it in errors.
func readExportFrom(p string, r io.ReaderAt, size int64) (*exProgram, map[string]*tensor.Tensor, error) {
	prog, weights, err := readExportRecords(p, r, size)
	if err != nil && !IsBadInput(err) {
		err = &Error{File: p, Err: err}
	}
	return prog, weights, err
}

func readExportRecords(p string, r io.ReaderAt, size int64) (*exProgram, map[string]*tensor.Tensor, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("zip: %v: %w", err, ErrFormat)
	}
	l := &loader{file: p, size: size, storages: map[string]*storageRef{}, zs: zipcheck.NewArchive(zr.File)}
	recs := map[string]*zip.File{}
	var legacy *zip.File // torch <= 2.5: serialized_exported_program.json
	for _, f := range zr.File {
		recs[f.Name] = f
		if path.Base(f.Name) == "serialized_exported_program.json" {
			legacy = f
		}
	}
	if legacy == nil {
		root, ok := pt2Root(recs)
		if !ok {
			return nil, nil, fmt.Errorf("neither serialized_exported_program.json (torch <= 2.5) nor <name>/archive_format (torch >= 2.6): %w", ErrFormat)
		}
		prog, weights, err := l.readPT2(recs, root)
		if err != nil {
			return nil, nil, err
		}
		if err := l.verifyRest(); err != nil {
			return nil, nil, err
		}
		return prog, weights, nil
	}
	dir := path.Dir(legacy.Name) + "/"
	if dir == "./" {
		dir = ""
	}
	js, err := l.readRecord(legacy, maxExportJSON)
	if err != nil {
		return nil, nil, err
	}
	var prog exProgram
	if err := json.Unmarshal(js, &prog); err != nil {
		return nil, nil, fmt.Errorf("serialized_exported_program.json: %v: %w", err, ErrFormat)
	}
	weights := map[string]*tensor.Tensor{}
	for _, name := range []string{"serialized_state_dict.pt", "serialized_constants.pt"} {
		rec := recs[dir+name]
		if rec == nil {
			continue
		}
		b, err := l.readRecord(rec, MaxStorageBytes)
		if err != nil {
			return nil, nil, err
		}
		if len(b) == 0 {
			continue
		}
		f, err := Read(p+":"+name, bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, nil, err
		}
		for _, t := range f.Tensors {
			weights[t.Name] = t.Tensor
		}
	}
	if err := l.verifyRest(); err != nil {
		return nil, nil, err
	}
	return &prog, weights, nil
}

func buildExport(file string, prog *exProgram, weights map[string]*tensor.Tensor, batch int, allow bool) (*Result, error) {
	gr := &prog.GraphModule.Graph
	e := &emitter{b: graph.NewBuilder(), tensors: map[string]*tensor.Tensor{}, consts: map[string]*graph.Value{}, u: newUsage()}
	all := make([]namedTensor, 0, len(weights))
	for name, t := range weights {
		e.u.track(t, name)
		all = append(all, namedTensor{name, t})
	}
	vals := map[string]*graph.Value{}
	consts := map[string]*tensor.Tensor{}
	b0 := 0 // the batch the inputs were exported with (when --batch rewrites it)
	states := recurrentStateInputs(gr)
	for _, s := range prog.GraphModule.Signature.InputSpecs {
		switch {
		case s.Parameter != nil:
			consts[s.Parameter.Arg.Name] = weights[s.Parameter.Name]
		case s.Buffer != nil:
			consts[s.Buffer.Arg.Name] = weights[s.Buffer.Name]
		case s.Constant != nil:
			consts[s.Constant.Arg.Name] = weights[s.Constant.Name]
		case s.UserInput != nil && s.UserInput.Arg.AsTensor != nil:
			name := s.UserInput.Arg.AsTensor.Name
			tv, ok := gr.TensorValues[name]
			if !ok {
				return nil, fmt.Errorf("input %s has no tensor metadata: %w", name, ErrFormat)
			}
			dt, ok := exportDTypes[tv.DType]
			if !ok {
				return nil, fmt.Errorf("input %s has unsupported dtype code %d", name, tv.DType)
			}
			var shape []int
			for _, d := range tv.Sizes {
				if d.AsInt == nil || *d.AsInt < 0 {
					return nil, fmt.Errorf("input %s has a symbolic or bad dimension (export with static shapes)", name)
				}
				shape = append(shape, *d.AsInt)
			}
			if batch > 0 && len(shape) > 0 && !states[name] {
				if b0 > 0 && shape[0] != b0 {
					return nil, fmt.Errorf("input %s was exported with batch %d, another input with %d: --batch cannot rewrite both", name, shape[0], b0)
				}
				b0 = shape[0]
				shape[0] = batch
			}
			layout := graph.LayoutNone
			if len(shape) == 4 {
				layout = graph.NCHW
			}
			vals[name] = e.b.Input(name, dt, shape, layout)
			// A recurrent op's initial state [layers·directions, batch,
			// hidden] holds no batch on axis 0.
			vals[name].NoBatch = states[name]
		}
	}
	for name, t := range consts {
		if t == nil {
			return nil, fmt.Errorf("weight %s is not in the archive's state_dict: %w", name, ErrFormat)
		}
	}
	var unsup []UnsupportedItem
	for i := range gr.Nodes {
		n := &gr.Nodes[i]
		if why, ok := exportRefused[n.Target]; ok {
			unsup = append(unsup, UnsupportedItem{Name: outName(n), Kind: n.Target, Reason: why})
		} else if _, ok := exportOps[n.Target]; !ok {
			unsup = append(unsup, UnsupportedItem{Name: outName(n), Kind: n.Target, Reason: "no mapping for this ATen op"})
		}
	}
	if len(unsup) > 0 {
		return nil, &UnsupportedError{File: file, Items: unsup}
	}
	x := &exportCtx{e: e, gr: gr, vals: vals, consts: consts, dead: map[string]string{}, b0: b0, batch: batch, rewrite: batch > 0 && b0 > 0 && batch != b0, inputs: map[string]bool{}, safe: findSafeSoftmax(gr), folded: map[string]bool{}, layersFirst: map[string]bool{}}
	for name := range vals {
		x.inputs[name] = true
	}
	al := newAliases(gr)
	for i := range gr.Nodes {
		n := &gr.Nodes[i]
		if err := x.emitNode(i, n, al); err != nil {
			return nil, &Error{File: file, Where: fmt.Sprintf("node %s (%s)", outName(n), n.Target), Err: err}
		}
	}
	var outs []*graph.Value
	for _, o := range gr.Outputs {
		if o.AsTensor != nil && vals[o.AsTensor.Name] == nil {
			if what, ok := x.dead[o.AsTensor.Name]; ok {
				return nil, &Error{File: file, Err: fmt.Errorf("output %s is %s, which this reader does not compute", o.AsTensor.Name, what)}
			}
		}
		if o.AsTensor == nil || vals[o.AsTensor.Name] == nil {
			return nil, &Error{File: file, Err: fmt.Errorf("output %+v is not a computed tensor: %w", o, ErrFormat)}
		}
		outs = append(outs, vals[o.AsTensor.Name])
	}
	g, err := e.b.Build(outs...)
	if err != nil {
		return nil, &Error{File: file, Err: err}
	}
	unused, ignored, err := checkUnused(file, g, e.u, all, allow, exportHint)
	if err != nil {
		return nil, err
	}
	return &Result{Graph: g, Unused: unused, Ignored: ignored}, nil
}

// outName names a node by its first output: the tensor, or the first
// tensor of a tensor list (chunk, split); a node without a tensor output
// is named by its target.
func outName(n *exNode) string {
	for _, o := range n.Outputs {
		switch {
		case o.AsTensor != nil:
			return o.AsTensor.Name
		case len(o.AsTensors) > 0:
			return o.AsTensors[0].Name
		}
	}
	return strings.TrimPrefix(n.Target, "torch.ops.")
}

// exportOps maps ATen targets to the op of the layer table and the names
// of the tensor arguments that are weights (by role).
var exportOps = map[string]struct {
	op      string
	weights map[string]string // ATen argument name → role (weight, bias, running_mean, running_var)
}{
	"torch.ops.aten.conv2d.default":                               {"conv2d", map[string]string{"weight": "weight", "bias": "bias"}},
	"torch.ops.aten.conv1d.default":                               {"conv1d", map[string]string{"weight": "weight", "bias": "bias"}},
	"torch.ops.aten.linear.default":                               {"linear", map[string]string{"weight": "weight", "bias": "bias"}},
	"torch.ops.aten._native_batch_norm_legit_no_training.default": {"batchnorm2d", map[string]string{"weight": "weight", "bias": "bias", "running_mean": "running_mean", "running_var": "running_var"}},
	"torch.ops.aten.batch_norm.default":                           {"batchnorm2d", map[string]string{"weight": "weight", "bias": "bias", "running_mean": "running_mean", "running_var": "running_var"}},
	"torch.ops.aten.conv2d.padding":                               {"conv2d", map[string]string{"weight": "weight", "bias": "bias"}},
	"torch.ops.aten.conv1d.padding":                               {"conv1d", map[string]string{"weight": "weight", "bias": "bias"}},
	"torch.ops.aten.conv_transpose2d.input":                       {"convtranspose2d", map[string]string{"weight": "weight", "bias": "bias"}},
	"torch.ops.aten.embedding.default":                            {"embedding", map[string]string{"weight": "weight"}},
	"torch.ops.aten.prelu.default":                                {"prelu", map[string]string{"weight": "weight"}},
	"torch.ops.aten.relu6.default":                                {"relu6", nil},
	"torch.ops.aten.pad.default":                                  {"pad", nil},
	"torch.ops.aten.layer_norm.default":                           {"layernorm", map[string]string{"weight": "weight", "bias": "bias"}},
	"torch.ops.aten.relu.default":                                 {"relu", nil},
	"torch.ops.aten.hardtanh.default":                             {"hardtanh", nil},
	"torch.ops.aten.leaky_relu.default":                           {"leakyrelu", nil},
	"torch.ops.aten.elu.default":                                  {"elu", nil},
	"torch.ops.aten.gelu.default":                                 {"gelu", nil},
	"torch.ops.aten.silu.default":                                 {"silu", nil},
	"torch.ops.aten.hardswish.default":                            {"hardswish", nil},
	"torch.ops.aten.hardsigmoid.default":                          {"hardsigmoid", nil},
	"torch.ops.aten.sigmoid.default":                              {"sigmoid", nil},
	"torch.ops.aten.tanh.default":                                 {"tanh", nil},
	"torch.ops.aten.dropout.default":                              {"identity", nil},
	"torch.ops.aten.feature_dropout.default":                      {"identity", nil},
	"torch.ops.aten.alpha_dropout.default":                        {"identity", nil},
	"torch.ops.aten.feature_alpha_dropout.default":                {"identity", nil},
	"torch.ops.aten.clone.default":                                {"identity", nil},
	"torch.ops.aten.contiguous.default":                           {"identity", nil},
	"torch.ops.aten.max_pool2d.default":                           {"maxpool2d", nil},
	"torch.ops.aten.max_pool2d_with_indices.default":              {"maxpool2d", nil},
	"torch.ops.aten.convolution.default":                          {"convolution", map[string]string{"weight": "weight", "bias": "bias"}},
	"torch.ops.aten.addmm.default":                                {"addmm", nil},
	"torch.ops.aten.t.default":                                    {"t", nil},
	"torch.ops.aten.clamp.default":                                {"clamp", nil},
	"torch.ops.aten.div.Tensor":                                   {"div", nil},
	"torch.ops.aten.avg_pool2d.default":                           {"avgpool2d", nil},
	"torch.ops.aten.adaptive_avg_pool2d.default":                  {"adaptiveavgpool2d", nil},
	"torch.ops.aten.view.default":                                 {"atenview", nil},
	"torch.ops.aten.reshape.default":                              {"atenview", nil},
	"torch.ops.aten._unsafe_view.default":                         {"atenview", nil},
	"torch.ops.aten.flatten.using_ints":                           {"flatten", nil},
	"torch.ops.aten.permute.default":                              {"permute", nil},
	"torch.ops.aten.mean.dim":                                     {"mean", nil},
	"torch.ops.aten.softmax.int":                                  {"softmax", nil},
	"torch.ops.aten._softmax.default":                             {"softmax", nil},
	"torch.ops.aten.log_softmax.int":                              {"logsoftmax", nil},
	"torch.ops.aten._log_softmax.default":                         {"logsoftmax", nil},
	"torch.ops.aten.add.Tensor":                                   {"add", nil},
	"torch.ops.aten.mul.Tensor":                                   {"mul", nil},
	"torch.ops.aten.sub.Tensor":                                   {"sub", nil},
	"torch.ops.aten.cat.default":                                  {"cat", nil},
	"torch.ops.aten.upsample_nearest2d.vec":                       {"upsample", nil},
	"torch.ops.aten.upsample_bilinear2d.vec":                      {"upsample", nil},
	"torch.ops.aten.native_layer_norm.default":                    {"layernorm", map[string]string{"weight": "weight", "bias": "bias"}},
	"torch.ops.aten._adaptive_avg_pool2d.default":                 {"adaptiveavgpool2d", nil},
	"torch.ops.aten.transpose.int":                                {"transpose", nil},
	"torch.ops.aten.chunk.default":                                {"split", nil},
	"torch.ops.aten.split.Tensor":                                 {"split", nil},
	"torch.ops.aten.split_with_sizes.default":                     {"split", nil},
	"torch.ops.aten.unflatten.int":                                {"unflatten", nil},
	"torch.ops.aten.unsqueeze.default":                            {"unsqueeze", nil},
	"torch.ops.aten.squeeze.dim":                                  {"squeeze", nil},
	"torch.ops.aten.squeeze.dims":                                 {"squeeze", nil},
	"torch.ops.aten.squeeze.default":                              {"squeeze", nil},
	"torch.ops.aten.select.int":                                   {"select", nil},
	"torch.ops.aten.slice.Tensor":                                 {"slice", nil},
	"torch.ops.aten.expand.default":                               {"expand", nil},
	"torch.ops.aten.as_strided.default":                           {"asstrided", nil},
	"torch.ops.aten.zeros.default":                                {"constant", nil},
	"torch.ops.aten.full.default":                                 {"constant", nil},
	"torch.ops.aten.alias.default":                                {"identity", nil},
	// Attention (export_attention.go).
	"torch.ops.aten.scaled_dot_product_attention.default": {"sdpa", nil},
	"torch.ops.aten.bmm.default":                          {"matmul", nil},
	"torch.ops.aten.mm.default":                           {"matmul", nil},
	"torch.ops.aten.matmul.default":                       {"matmul", nil},
	"torch.ops.aten.baddbmm.default":                      {"matmul", nil},
	"torch.ops.aten.mul.Scalar":                           {"mul", nil},
	"torch.ops.aten.unbind.int":                           {"split", nil},
	"torch.ops.aten.eq.Scalar":                            {"safesoftmax", nil},
	"torch.ops.aten.logical_not.default":                  {"safesoftmax", nil},
	"torch.ops.aten.any.dim":                              {"safesoftmax", nil},
	"torch.ops.aten.full_like.default":                    {"safesoftmax", nil},
	"torch.ops.aten.where.self":                           {"safesoftmax", nil},
	// Evaluated at load time on constants only (export_fold.go).
	"torch.ops.aten.scalar_tensor.default": {"fold", nil},
	"torch.ops.aten.arange.start_step":     {"fold", nil},
	"torch.ops.aten.arange.default":        {"fold", nil},
	"torch.ops.aten.le.Scalar":             {"fold", nil},
	"torch.ops.aten.lt.Scalar":             {"fold", nil},
	"torch.ops.aten.ge.Scalar":             {"fold", nil},
	"torch.ops.aten.gt.Scalar":             {"fold", nil},
	"torch.ops.aten.ne.Scalar":             {"fold", nil},
	"torch.ops.aten.logical_and.default":   {"fold", nil},
	"torch.ops.aten.logical_or.default":    {"fold", nil},
	"torch.ops.aten.masked_fill.Scalar":    {"selectconst", nil},
	"torch.ops.aten.detach.default":        {"identity", nil},
	// nn.LSTM, nn.GRU, nn.RNN (export_recurrent.go), and the ops their
	// decomposition adds.
	"torch.ops.aten.lstm.input":     {"recurrent", nil},
	"torch.ops.aten.gru.input":      {"recurrent", nil},
	"torch.ops.aten.rnn_tanh.input": {"recurrent", nil},
	"torch.ops.aten.rnn_relu.input": {"recurrent", nil},
	"torch.ops.aten.flip.default":   {"flip", nil},
	// In-place variants (torch.export's default graph keeps them): the
	// functional op, its result bound to self too (see exportInPlace).
	"torch.ops.aten.relu_.default":                  {"relu", nil},
	"torch.ops.aten.silu_.default":                  {"silu", nil},
	"torch.ops.aten.hardswish_.default":             {"hardswish", nil},
	"torch.ops.aten.hardsigmoid_.default":           {"hardsigmoid", nil},
	"torch.ops.aten.sigmoid_.default":               {"sigmoid", nil},
	"torch.ops.aten.tanh_.default":                  {"tanh", nil},
	"torch.ops.aten.hardtanh_.default":              {"hardtanh", nil},
	"torch.ops.aten.leaky_relu_.default":            {"leakyrelu", nil},
	"torch.ops.aten.elu_.default":                   {"elu", nil},
	"torch.ops.aten.gelu_.default":                  {"gelu", nil},
	"torch.ops.aten.clamp_.default":                 {"clamp", nil},
	"torch.ops.aten.dropout_.default":               {"identity", nil},
	"torch.ops.aten.feature_dropout_.default":       {"identity", nil},
	"torch.ops.aten.alpha_dropout_.default":         {"identity", nil},
	"torch.ops.aten.feature_alpha_dropout_.default": {"identity", nil},
	"torch.ops.aten.add_.Tensor":                    {"add", nil},
	"torch.ops.aten.sub_.Tensor":                    {"sub", nil},
	"torch.ops.aten.mul_.Tensor":                    {"mul", nil},
	"torch.ops.aten.div_.Tensor":                    {"div", nil},
}

// exportRefused are ATen ops refused with a reason of their own (not yet
// supported, with what to do).
var exportRefused = map[string]string{
	"torch.ops.aten._native_multi_head_attention.default": "nn.MultiheadAttention's fused fast path (torch.export at the pinned torch writes the unfused ops instead): export the model in eval mode with torch.export.export",
}

// viewOps are the ATen ops whose result may share memory with their
// input (a view, or the input itself): an in-place op on one of them
// writes into the other.
var viewOps = map[string]bool{"identity": true, "transpose": true, "split": true, "unflatten": true, "unsqueeze": true,
	"squeeze": true, "select": true, "slice": true, "expand": true, "asstrided": true, "atenview": true, "flatten": true,
	"permute": true, "t": true}

// isInPlace says whether an ATen target writes into its first argument
// (the overload name's base ends in "_": add_.Tensor, relu_.default).
func isInPlace(target string) bool {
	base := strings.TrimPrefix(target, "torch.ops.aten.")
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	return strings.HasSuffix(base, "_") && !strings.HasPrefix(base, "_")
}

// exportArgRename maps ATen argument names to the layer table's.
var exportArgRename = map[string]string{"size": "shape", "output_size": "output_size", "scale_factors": "scale_factor", "negative_slope": "negative_slope", "min_val": "min_val", "max_val": "max_val"}

func plainArg(a *exArg) any {
	switch {
	case a.AsInt != nil:
		return *a.AsInt
	case a.AsInts != nil:
		out := make([]any, len(a.AsInts))
		for i, v := range a.AsInts {
			out[i] = v
		}
		return out
	case a.AsFloat != nil:
		return float64(*a.AsFloat)
	case a.AsFloats != nil:
		out := make([]any, len(a.AsFloats))
		for i, v := range a.AsFloats {
			out[i] = float64(v)
		}
		return out
	case a.AsScalarType != nil:
		return scalarType(*a.AsScalarType)
	case a.AsBool != nil:
		return *a.AsBool
	case a.AsString != nil:
		return *a.AsString
	}
	return nil
}

func emitExportNode(x *exportCtx, n *exNode) (*graph.Value, error) {
	e, vals, consts := x.e, x.vals, x.consts
	m := exportOps[n.Target]
	name := outName(n)
	if x.safe.role[name] != "" {
		return x.emitSafeSoftmaxPart(n, name)
	}
	if done, err := x.tryFold(n, name); done || err != nil {
		return nil, err
	}
	switch m.op {
	case "fold":
		return nil, fmt.Errorf("%s is supported only on constants (internal error: not folded)", n.Target)
	case "sdpa":
		return x.emitSDPA(n, name)
	case "matmul":
		return x.emitMatMul(n, name)
	case "safesoftmax":
		if n.Target == "torch.ops.aten.where.self" {
			return x.emitSelectConst(n, name)
		}
		return x.emitSafeSoftmaxPart(n, name)
	case "selectconst":
		return x.emitSelectConst(n, name)
	case "t", "permute":
		// A transposed weight (core ATen's addmm reads permute(W)) is
		// folded into a constant.
		if src := n.Inputs[0].Arg.AsTensor; src != nil {
			if t, ok := consts[src.Name]; ok && len(t.Shape) == 2 {
				if m.op == "permute" {
					if d := inputArg(n, "dims"); d == nil || !slices.Equal(d.AsInts, []int{1, 0}) && !slices.Equal(d.AsInts, []int{-1, -2}) && !slices.Equal(d.AsInts, []int{1, -2}) && !slices.Equal(d.AsInts, []int{-1, 0}) {
						return nil, fmt.Errorf("permute %v of a constant: only the transpose [1, 0] is supported", plainArg(d))
					}
				}
				tt := transpose2D(toFloat32(t))
				e.u.inherit(tt, t)
				consts[name] = tt
				return nil, nil
			}
		}
		if m.op == "t" {
			return nil, fmt.Errorf("t of a computed tensor is not supported")
		}
	case "transpose", "unsqueeze", "squeeze", "unflatten", "select", "slice", "expand", "asstrided", "atenview":
		return x.emitViewOp(n, name)
	case "constant":
		return x.emitConstantOf(n, name)
	case "addmm":
		return emitAddmm(e, n, name, vals, consts)
	case "bmm":
		return x.emitBmm(n, name)
	case "flip":
		return x.emitFlip(n, name)
	case "clamp":
		return emitClamp(e, n, name, vals)
	case "convolution":
		return emitConvolution(e, n, name, vals, consts)
	case "pad":
		return emitAtenPad(e, n, name, vals)
	}
	s := &step{Op: m.op, Kind: n.Target, Key: name, Name: name, Args: args{}}
	var ins []*graph.Value
	tensorArg := x.tensorIn
	for _, in := range n.Inputs {
		a := &in.Arg
		switch ruleOf(n.Target, in.Name) {
		case argHarmless, argMust:
			continue // known harmless, or checked by checkExportNode
		case argRead:
			k := in.Name
			if r, ok := exportArgRename[k]; ok {
				k = r
			}
			s.Args[k] = plainArg(a)
			continue
		}
		switch {
		case a.AsTensor != nil:
			if role, ok := m.weights[in.Name]; ok {
				t, ok := consts[a.AsTensor.Name]
				if !ok {
					return nil, fmt.Errorf("%s %s is computed, not a weight (not supported)", in.Name, a.AsTensor.Name)
				}
				e.tensors[name+"."+role] = t
				continue
			}
			v, err := tensorArg(a.AsTensor.Name)
			if err != nil {
				return nil, err
			}
			ins = append(ins, v)
		case a.AsTensors != nil:
			for _, t := range a.AsTensors {
				v, err := tensorArg(t.Name)
				if err != nil {
					return nil, err
				}
				ins = append(ins, v)
			}
		case binaryOps[m.op] && in.Name == "other" && (a.AsFloat != nil || a.AsInt != nil):
			f, err := (args{"other": plainArg(a)}).float("other", 0)
			if err != nil {
				return nil, err
			}
			ins = append(ins, e.b.ConstFloat32(name+"/other", []int{1}, []float32{float32(f)}))
		case a.AsNone != nil:
			if _, ok := m.weights[in.Name]; !ok {
				return nil, fmt.Errorf("argument %s is None, want a tensor", in.Name)
			}
		default:
			return nil, fmt.Errorf("argument %s = %v, want a tensor", in.Name, describeArg(a))
		}
	}
	if len(ins) == 0 {
		return nil, fmt.Errorf("no tensor input")
	}
	switch m.op {
	case "cat":
		if len(ins) == 1 {
			// torch.cat of one tensor (DenseNet's first dense layer) copies it.
			d, err := s.Args.integer("dim", 0)
			if err != nil {
				return nil, err
			}
			if _, err := normDim(d, len(ins[0].Shape)); err != nil {
				return nil, err
			}
			return ins[0], nil
		}
	case "hardtanh":
		lo, err := s.Args.float("min_val", -1)
		if err != nil {
			return nil, err
		}
		hi, err := s.Args.float("max_val", 1)
		if err != nil {
			return nil, err
		}
		if lo == 0 && hi == 6 {
			s.Op = "relu6"
			s.Args = args{}
		}
	case "maxpool2d", "avgpool2d":
		if v, ok := s.Args["stride"].([]any); ok && len(v) == 0 {
			delete(s.Args, "stride")
		}
	case "upsample":
		if n.Target == "torch.ops.aten.upsample_bilinear2d.vec" {
			s.Args["mode"] = "bilinear"
		}
		if s.Args["output_size"] != nil {
			s.Args["size"] = s.Args["output_size"]
		}
		delete(s.Args, "output_size")
	}
	spec := ops[s.Op]
	if err := s.Args.check(spec.args...); err != nil {
		return nil, err
	}
	return spec.emit(e, s, ins)
}

func transpose2D(t *tensor.Tensor) *tensor.Tensor {
	r, c := t.Shape[0], t.Shape[1]
	src := t.Float32s()
	dst := make([]float32, len(src))
	for i := range r {
		for j := range c {
			dst[j*r+i] = src[i*c+j]
		}
	}
	return tensor.FromFloat32([]int{c, r}, dst)
}

// inputArg returns the ATen argument named name, or nil.
func inputArg(n *exNode, name string) *exArg {
	for i := range n.Inputs {
		if n.Inputs[i].Name == name {
			return &n.Inputs[i].Arg
		}
	}
	return nil
}

// emitAddmm is addmm(bias, x, W^T) with a constant [in, out] matrix: a
// Dense with an IO weight.
func emitAddmm(e *emitter, n *exNode, name string, vals map[string]*graph.Value, consts map[string]*tensor.Tensor) (*graph.Value, error) {
	bias, x, mat := inputArg(n, "self"), inputArg(n, "mat1"), inputArg(n, "mat2")
	if bias == nil || x == nil || mat == nil || bias.AsTensor == nil || x.AsTensor == nil || mat.AsTensor == nil {
		return nil, fmt.Errorf("want tensors self, mat1, mat2")
	}
	for _, a := range []string{"beta", "alpha"} {
		if v := inputArg(n, a); v != nil {
			if f, _ := (args{"v": plainArg(v)}).float("v", 1); f != 1 {
				return nil, fmt.Errorf("%s %v is not supported", a, f)
			}
		}
	}
	w, ok1 := consts[mat.AsTensor.Name]
	b, ok2 := consts[bias.AsTensor.Name]
	xv, ok3 := vals[x.AsTensor.Name]
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("only x @ constant + constant bias is supported")
	}
	return e.op(name, &graph.Dense{WeightLayout: graph.IO}, xv, e.constOf(name+".weight", w), e.constOf(name+".bias", b))
}

func emitClamp(e *emitter, n *exNode, name string, vals map[string]*graph.Value) (*graph.Value, error) {
	x := inputArg(n, "self")
	if x == nil || x.AsTensor == nil || vals[x.AsTensor.Name] == nil {
		return nil, fmt.Errorf("want a computed tensor self")
	}
	lo, hi := float32(-math.MaxFloat32), float32(math.MaxFloat32)
	if a := inputArg(n, "min"); a != nil && plainArg(a) != nil {
		f, err := (args{"min": plainArg(a)}).float("min", 0)
		if err != nil {
			return nil, err
		}
		lo = float32(f)
	}
	if a := inputArg(n, "max"); a != nil && plainArg(a) != nil {
		f, err := (args{"max": plainArg(a)}).float("max", 0)
		if err != nil {
			return nil, err
		}
		hi = float32(f)
	}
	if lo == 0 && hi == math.MaxFloat32 {
		return e.op(name, &graph.Relu{}, vals[x.AsTensor.Name])
	}
	return e.op(name, &graph.Clip{Min: lo, Max: hi}, vals[x.AsTensor.Name])
}

// emitConvolution maps aten.convolution (the core ATen form) onto Conv2d,
// Conv1d or ConvTranspose2d.
func emitConvolution(e *emitter, n *exNode, name string, vals map[string]*graph.Value, consts map[string]*tensor.Tensor) (*graph.Value, error) {
	x, w := inputArg(n, "input"), inputArg(n, "weight")
	if x == nil || w == nil || x.AsTensor == nil || w.AsTensor == nil || vals[x.AsTensor.Name] == nil {
		return nil, fmt.Errorf("want input and weight tensors")
	}
	wt, ok := consts[w.AsTensor.Name]
	if !ok {
		return nil, fmt.Errorf("the weight is computed, not a constant (not supported)")
	}
	e.tensors[name+".weight"] = wt
	if b := inputArg(n, "bias"); b != nil && b.AsTensor != nil {
		bt, ok := consts[b.AsTensor.Name]
		if !ok {
			return nil, fmt.Errorf("the bias is computed, not a constant (not supported)")
		}
		e.tensors[name+".bias"] = bt
	}
	a := args{}
	for _, k := range []string{"stride", "padding", "dilation", "groups", "output_padding"} {
		if v := inputArg(n, k); v != nil {
			a[k] = plainArg(v)
		}
	}
	transposed := false
	if v := inputArg(n, "transposed"); v != nil && v.AsBool != nil {
		transposed = *v.AsBool
	}
	op := "conv2d"
	switch {
	case transposed && len(wt.Shape) == 4:
		op = "convtranspose2d"
	case transposed:
		return nil, fmt.Errorf("transposed convolution of rank %d is not supported", len(wt.Shape))
	case len(wt.Shape) == 3:
		op = "conv1d"
	case len(wt.Shape) != 4:
		return nil, fmt.Errorf("convolution weight %v is not supported", wt.Shape)
	}
	if op != "convtranspose2d" {
		if opad, ok := a["output_padding"].([]any); ok {
			for _, v := range opad {
				if v != 0 {
					return nil, fmt.Errorf("output_padding %v without transposed", opad)
				}
			}
		}
		delete(a, "output_padding")
	}
	s := &step{Op: op, Kind: n.Target, Key: name, Name: name, Args: a}
	return ops[op].emit(e, s, []*graph.Value{vals[x.AsTensor.Name]})
}

// binaryOps take a tensor or a scalar as their second operand.
var binaryOps = map[string]bool{"add": true, "sub": true, "mul": true, "div": true}

// emitAtenPad is aten.pad(self, pad, mode, value): pad lists (before,
// after) pairs from the last axis backwards, as torch.nn.functional.pad.
func emitAtenPad(e *emitter, n *exNode, name string, vals map[string]*graph.Value) (*graph.Value, error) {
	x := inputArg(n, "self")
	pa := inputArg(n, "pad")
	if x == nil || x.AsTensor == nil || vals[x.AsTensor.Name] == nil || pa == nil || pa.AsInts == nil {
		return nil, fmt.Errorf("want a computed tensor self and ints pad")
	}
	xv := vals[x.AsTensor.Name]
	r := len(xv.Shape)
	if len(pa.AsInts)%2 != 0 || len(pa.AsInts)/2 > r {
		return nil, fmt.Errorf("pad %v: want pairs for at most %d axes", pa.AsInts, r)
	}
	pads := make([][2]int, r)
	for i := 0; i < len(pa.AsInts)/2; i++ {
		lo, hi := pa.AsInts[2*i], pa.AsInts[2*i+1]
		if lo < 0 || hi < 0 {
			return nil, fmt.Errorf("negative pad %v (cropping) is not supported", pa.AsInts)
		}
		pads[r-1-i] = [2]int{lo, hi}
	}
	mode := "constant"
	if a := inputArg(n, "mode"); a != nil && a.AsString != nil {
		mode = *a.AsString
	}
	value := 0.0
	if a := inputArg(n, "value"); a != nil {
		if f, err := (args{"v": plainArg(a)}).float("v", 0); err == nil {
			value = f
		} else {
			return nil, fmt.Errorf("value: %w", err)
		}
	}
	switch mode {
	case "constant":
		return e.op(name, &graph.Pad{Mode: graph.PadConstant, Pads: pads, Value: float32(value)}, xv)
	case "reflect", "replicate", "circular":
		// The modes of Conv2d's padding_mode, on the spatial axes (2...).
		for ax := range min(2, r) {
			if pads[ax] != [2]int{} {
				return nil, fmt.Errorf("%s padding of axis %d (batch or channels) is not supported", mode, ax)
			}
		}
		if r < 3 {
			return nil, fmt.Errorf("%s padding of a rank-%d tensor: want [N, C, spatial...]", mode, r)
		}
		p := &convParams{mode: mode, pads: slices.Clone(pads[2:])}
		s := &step{Name: name}
		return e.padInput(s, xv, p)
	}
	return nil, fmt.Errorf("pad mode %q: want constant, reflect, replicate or circular", mode)
}
