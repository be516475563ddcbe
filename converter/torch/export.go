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
	AsFloat   *float64                `json:"as_float"`
	AsFloats  []float64               `json:"as_floats"`
	AsBool    *bool                   `json:"as_bool"`
	AsString  *string                 `json:"as_string"`
	AsNone    json.RawMessage         `json:"as_none"`

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

type exProgram struct {
	GraphModule struct {
		Graph struct {
			Inputs       []exArg  `json:"inputs"`
			Outputs      []exArg  `json:"outputs"`
			Nodes        []exNode `json:"nodes"`
			TensorValues map[string]struct {
				DType int `json:"dtype"`
				Sizes []struct {
					AsInt *int `json:"as_int"`
				} `json:"sizes"`
			} `json:"tensor_values"`
		} `json:"graph"`
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
			if batch > 0 && len(shape) > 0 {
				shape[0] = batch
			}
			layout := graph.LayoutNone
			if len(shape) == 4 {
				layout = graph.NCHW
			}
			vals[name] = e.b.Input(name, dt, shape, layout)
		}
	}
	for name, t := range consts {
		if t == nil {
			return nil, fmt.Errorf("weight %s is not in the archive's state_dict: %w", name, ErrFormat)
		}
	}
	var unsup []UnsupportedItem
	for _, n := range gr.Nodes {
		if _, ok := exportOps[n.Target]; !ok {
			unsup = append(unsup, UnsupportedItem{Name: outName(&n), Kind: n.Target, Reason: "no mapping for this ATen op"})
		}
	}
	if len(unsup) > 0 {
		return nil, &UnsupportedError{File: file, Items: unsup}
	}
	for i := range gr.Nodes {
		n := &gr.Nodes[i]
		out, err := emitExportNode(e, n, vals, consts)
		if err != nil {
			return nil, &Error{File: file, Where: fmt.Sprintf("node %s (%s)", outName(n), n.Target), Err: err}
		}
		if out != nil && len(n.Outputs) > 0 && n.Outputs[0].AsTensor != nil {
			vals[n.Outputs[0].AsTensor.Name] = out
		}
	}
	var outs []*graph.Value
	for _, o := range gr.Outputs {
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

func outName(n *exNode) string {
	if len(n.Outputs) > 0 && n.Outputs[0].AsTensor != nil {
		return n.Outputs[0].AsTensor.Name
	}
	return "?"
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
	"torch.ops.aten.relu_.default":                                {"relu", nil},
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
	"torch.ops.aten.view.default":                                 {"view", nil},
	"torch.ops.aten.reshape.default":                              {"view", nil},
	"torch.ops.aten._unsafe_view.default":                         {"view", nil},
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
		return *a.AsFloat
	case a.AsFloats != nil:
		out := make([]any, len(a.AsFloats))
		for i, v := range a.AsFloats {
			out[i] = v
		}
		return out
	case a.AsBool != nil:
		return *a.AsBool
	case a.AsString != nil:
		return *a.AsString
	}
	return nil
}

func emitExportNode(e *emitter, n *exNode, vals map[string]*graph.Value, consts map[string]*tensor.Tensor) (*graph.Value, error) {
	if err := checkExportNode(n); err != nil {
		return nil, err
	}
	m := exportOps[n.Target]
	name := outName(n)
	switch m.op {
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
	case "addmm":
		return emitAddmm(e, n, name, vals, consts)
	case "clamp":
		return emitClamp(e, n, name, vals)
	case "convolution":
		return emitConvolution(e, n, name, vals, consts)
	case "pad":
		return emitAtenPad(e, n, name, vals)
	}
	s := &step{Op: m.op, Kind: n.Target, Key: name, Name: name, Args: args{}}
	var ins []*graph.Value
	tensorArg := func(tn string) (*graph.Value, error) {
		if v, ok := vals[tn]; ok {
			return v, nil
		}
		if t, ok := consts[tn]; ok {
			v := e.constOf(tn, t)
			vals[tn] = v
			return v, nil
		}
		return nil, fmt.Errorf("tensor %s is not defined before use", tn)
	}
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
