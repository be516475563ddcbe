package torch

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeval/edgeval/tensor"
)

// The PT2 archive layout that torch.export.save writes from torch 2.6 on
// (torch/export/pt2_archive, "PT2 Archive Spec"). Every record lives under
// one root folder (torch names it after the file, "<root>/"):
//
//	archive_format                       "pt2"
//	archive_version                      "0"
//	byteorder                            "little"
//	models/<model>.json                  the ExportedProgram (same schema as serialized_exported_program.json)
//	data/weights/<model>_weights_config.json    fqn → PayloadMeta (path_name, use_pickle, tensor_meta)
//	data/weights/weight_<i>              raw bytes of one storage (little-endian), or a torch.save'd tensor when use_pickle
//	data/constants/<model>_constants_config.json  the same for tensor constants and non-persistent buffers
//	data/constants/tensor_<i>, custom_obj_<i>
//	data/sample_inputs/<model>.pt        example inputs (not read)
//
// Earlier archives of this layout hold data/weights/<model>.pt and
// data/constants/<model>.pt (a torch.save'd dict, what torch's loader calls
// the legacy format) instead of the configs; both are read.
const (
	pt2ArchiveFormat    = "archive_format"
	pt2ArchiveVersion   = "archive_version"
	pt2ModelsDir        = "models/"
	pt2WeightsDir       = "data/weights/"
	pt2ConstantsDir     = "data/constants/"
	pt2WeightsConfig    = "_weights_config.json"
	pt2ConstantsConfig  = "_constants_config.json"
	pt2DefaultModelName = "model"
	// maxPayloadConfig bounds a weights or constants config.
	maxPayloadConfig = 64 << 20
	// maxSmallRecord bounds archive_format, archive_version and byteorder.
	maxSmallRecord = 64
)

// payloadConfig is torch.export's schema.PayloadConfig: where each weight
// or constant of a model is stored.
type payloadConfig struct {
	Config map[string]payloadMeta `json:"config"`
}

// payloadMeta is schema.PayloadMeta.
type payloadMeta struct {
	PathName   string      `json:"path_name"`
	IsParam    bool        `json:"is_param"`
	UsePickle  bool        `json:"use_pickle"`
	TensorMeta *tensorMeta `json:"tensor_meta"`
}

// tensorMeta is schema.TensorMeta: the strided view of the stored bytes.
type tensorMeta struct {
	DType         int      `json:"dtype"`
	Sizes         []symInt `json:"sizes"`
	Strides       []symInt `json:"strides"`
	StorageOffset *symInt  `json:"storage_offset"`
	Layout        *int     `json:"layout"`
}

// symInt is schema.SymInt; only concrete values (as_int) are accepted.
type symInt struct {
	AsInt *int `json:"as_int"`
}

// layoutStrided is schema.Layout.Strided.
const layoutStrided = 7

// exportStorageTypes maps schema.ScalarType codes to storage types.
var exportStorageTypes = map[int]*storageType{
	1: storageTypes["ByteStorage"], 2: storageTypes["CharStorage"], 3: storageTypes["ShortStorage"],
	4: storageTypes["IntStorage"], 5: storageTypes["LongStorage"], 6: storageTypes["HalfStorage"],
	7: storageTypes["FloatStorage"], 8: storageTypes["DoubleStorage"], 12: storageTypes["BoolStorage"],
	13: storageTypes["BFloat16Storage"],
}

// pt2Root returns the root folder ("name/") of a torch >= 2.6 archive: the
// folder holding archive_format, which must say "pt2".
func pt2Root(recs map[string]*zip.File) (string, bool) {
	var roots []string
	for name := range recs {
		dir, base := path.Split(name)
		if base == pt2ArchiveFormat && strings.Count(dir, "/") <= 1 {
			roots = append(roots, dir)
		}
	}
	if len(roots) == 0 {
		return "", false
	}
	return slices.Min(roots), true
}

// readPT2 reads the program and the weights of a torch >= 2.6 archive
// whose records (by full name) are recs and whose root folder is root.
func (l *loader) readPT2(recs map[string]*zip.File, root string) (*exProgram, map[string]*tensor.Tensor, error) {
	small := func(name string) (string, bool, error) {
		rec := recs[root+name]
		if rec == nil {
			return "", false, nil
		}
		b, err := l.readRecord(rec, maxSmallRecord)
		if err != nil {
			return "", true, fmt.Errorf("%s: %w", name, err)
		}
		return strings.TrimSpace(string(b)), true, nil
	}
	if v, _, err := small(pt2ArchiveFormat); err != nil {
		return nil, nil, err
	} else if v != "pt2" {
		return nil, nil, fmt.Errorf("%s%s says %q, want \"pt2\": %w", root, pt2ArchiveFormat, v, ErrFormat)
	}
	if v, ok, err := small(pt2ArchiveVersion); err != nil {
		return nil, nil, err
	} else if ok {
		n, err := strconv.Atoi(v)
		if err != nil || n != 0 {
			return nil, nil, fmt.Errorf("PT2 archive version %q: this reader knows version 0: %w", v, ErrFormat)
		}
	}
	if v, _, err := small("byteorder"); err != nil {
		return nil, nil, err
	} else if v == "big" {
		return nil, nil, fmt.Errorf("big-endian PT2 archive: %w", ErrFormat)
	}
	model, err := pt2Model(recs, root)
	if err != nil {
		return nil, nil, err
	}
	jsName := root + pt2ModelsDir + model + ".json"
	js, err := l.readRecord(recs[jsName], maxExportJSON)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", jsName, err)
	}
	var prog exProgram
	if err := json.Unmarshal(js, &prog); err != nil {
		return nil, nil, fmt.Errorf("%s: %v: %w", jsName, err, ErrFormat)
	}
	weights := map[string]*tensor.Tensor{}
	for _, d := range []struct{ dir, config string }{{pt2WeightsDir, pt2WeightsConfig}, {pt2ConstantsDir, pt2ConstantsConfig}} {
		if err := l.readPT2Payloads(recs, root+d.dir, model, d.config, weights); err != nil {
			return nil, nil, err
		}
	}
	return &prog, weights, nil
}

// pt2Model picks the exported program to read: "model" (what
// torch.export.save writes), or the only one there is.
func pt2Model(recs map[string]*zip.File, root string) (string, error) {
	var names []string
	for name := range recs {
		if rest, ok := strings.CutPrefix(name, root+pt2ModelsDir); ok && !strings.Contains(rest, "/") {
			if m, ok := strings.CutSuffix(rest, ".json"); ok && m != "" {
				names = append(names, m)
			}
		}
	}
	slices.Sort(names)
	switch {
	case slices.Contains(names, pt2DefaultModelName):
		return pt2DefaultModelName, nil
	case len(names) == 1:
		return names[0], nil
	case len(names) == 0:
		for name := range recs {
			if strings.HasPrefix(name, root+"data/aotinductor/") {
				return "", fmt.Errorf("an AOTInductor package (compiled code, no exported program in %s%s); save the program with torch.export.save: %w", root, pt2ModelsDir, ErrFormat)
			}
		}
		return "", fmt.Errorf("no exported program in %s%s: %w", root, pt2ModelsDir, ErrFormat)
	}
	return "", fmt.Errorf("the archive holds %d exported programs %v and none is named %q: %w", len(names), names, pt2DefaultModelName, ErrFormat)
}

// readPT2Payloads adds to out the tensors of one payload folder (weights
// or constants) of model: from its config, or from the legacy <model>.pt
// state_dict.
func (l *loader) readPT2Payloads(recs map[string]*zip.File, dir, model, configSuffix string, out map[string]*tensor.Tensor) error {
	if rec := recs[dir+model+".pt"]; rec != nil {
		b, err := l.readRecord(rec, MaxStorageBytes)
		if err != nil {
			return err
		}
		f, err := Read(l.file+":"+rec.Name, bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return err
		}
		for _, t := range f.Tensors {
			out[t.Name] = t.Tensor
		}
		return nil
	}
	cfgName := dir + model + configSuffix
	rec := recs[cfgName]
	if rec == nil {
		return nil // nothing stored (a model without weights or constants)
	}
	b, err := l.readRecord(rec, maxPayloadConfig)
	if err != nil {
		return fmt.Errorf("%s: %w", cfgName, err)
	}
	var cfg payloadConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s: %v: %w", cfgName, err, ErrFormat)
	}
	fqns := make([]string, 0, len(cfg.Config))
	for fqn := range cfg.Config {
		fqns = append(fqns, fqn)
	}
	slices.Sort(fqns)
	storages := map[string]*storageRef{}
	for _, fqn := range fqns {
		m := cfg.Config[fqn]
		if m.TensorMeta == nil {
			continue // a custom object (TorchBind): refused if the graph uses it
		}
		t, err := l.readPT2Payload(recs, dir, &m, storages)
		if err != nil {
			return fmt.Errorf("%s: %s (%s): %w", cfgName, fqn, m.PathName, err)
		}
		out[fqn] = t
	}
	return nil
}

// readPT2Payload reads one tensor of a payload config.
func (l *loader) readPT2Payload(recs map[string]*zip.File, dir string, m *payloadMeta, storages map[string]*storageRef) (*tensor.Tensor, error) {
	if m.PathName == "" || strings.ContainsAny(m.PathName, "/\\") || strings.HasPrefix(m.PathName, ".") {
		return nil, fmt.Errorf("path_name %q is not a file name in %s: %w", m.PathName, dir, ErrFormat)
	}
	rec := recs[dir+m.PathName]
	if rec == nil {
		return nil, fmt.Errorf("no record %s%s: %w", dir, m.PathName, ErrFormat)
	}
	if m.UsePickle {
		// A tensor subclass, torch.save'd: read through the allow-list.
		b, err := l.readRecord(rec, MaxStorageBytes)
		if err != nil {
			return nil, err
		}
		f, err := Read(l.file+":"+rec.Name, bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, err
		}
		if len(f.Tensors) != 1 {
			return nil, fmt.Errorf("pickled payload holds %d tensors, want 1: %w", len(f.Tensors), ErrFormat)
		}
		return f.Tensors[0].Tensor, nil
	}
	tm := m.TensorMeta
	if tm.Layout != nil && *tm.Layout != layoutStrided {
		return nil, fmt.Errorf("tensor layout %d is not strided (sparse tensors are not supported): %w", *tm.Layout, ErrFormat)
	}
	typ, ok := exportStorageTypes[tm.DType]
	if !ok {
		return nil, fmt.Errorf("dtype code %d is not supported: %w", tm.DType, ErrFormat)
	}
	size, err := concreteInts(tm.Sizes, "sizes")
	if err != nil {
		return nil, err
	}
	stride, err := concreteInts(tm.Strides, "strides")
	if err != nil {
		return nil, err
	}
	off := 0
	if tm.StorageOffset != nil {
		if tm.StorageOffset.AsInt == nil {
			return nil, fmt.Errorf("symbolic storage_offset: %w", ErrFormat)
		}
		off = *tm.StorageOffset.AsInt
	}
	st, ok := storages[m.PathName]
	if !ok {
		if err := l.checkRecord(rec); err != nil {
			return nil, err
		}
		nb := int64(rec.UncompressedSize64)
		if nb < 0 || nb%int64(typ.size) != 0 {
			return nil, fmt.Errorf("record of %d bytes is not a whole number of %s elements: %w", rec.UncompressedSize64, typ.name, ErrFormat)
		}
		numel := nb / int64(typ.size)
		if err := l.declare(typ, numel, nb, m.PathName); err != nil {
			return nil, err
		}
		st = &storageRef{key: m.PathName, typ: typ, numel: numel}
		st.load = func() ([]byte, error) { return l.readExact(rec, nb) }
		storages[m.PathName] = st
	} else if st.typ != typ {
		return nil, fmt.Errorf("storage %s is read as %s and as %s: %w", m.PathName, st.typ.name, typ.name, ErrFormat)
	}
	if st.numel == 0 && tensor.NumElements(size) > 0 {
		return nil, fmt.Errorf("the payload is empty (saved from a fake tensor?): %w", ErrFormat)
	}
	v, err := newView(st, int64(off), size, stride)
	if err != nil {
		return nil, err
	}
	return v.materialize()
}

// concreteInts reads a list of SymInts that must all be concrete and
// non-negative.
func concreteInts(v []symInt, what string) ([]int, error) {
	out := make([]int, len(v))
	for i, d := range v {
		if d.AsInt == nil {
			return nil, fmt.Errorf("%s[%d] is symbolic: %w", what, i, ErrFormat)
		}
		if *d.AsInt < 0 || *d.AsInt > maxElements {
			return nil, fmt.Errorf("%s[%d] = %d: %w", what, i, *d.AsInt, ErrFormat)
		}
		out[i] = *d.AsInt
	}
	return out, nil
}
