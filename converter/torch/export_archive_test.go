package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// pt2Case is the corpus case the archive tests start from: a ResNet
// down-sampling block (Conv2d, BatchNorm2d with int64 num_batches_tracked
// buffers, add) saved by torch 2.14's torch.export.save.
const pt2Case = "testdata/corpus/torch/block_resnet_down"

// pt2Archive is a PT2 archive held in memory, to be rewritten by a test.
type pt2Archive struct {
	names   []string // in the original order
	files   map[string][]byte
	deflate map[string]bool // records to write compressed
}

func readPT2Archive(t *testing.T, p string) *pt2Archive {
	t.Helper()
	z, err := zip.OpenReader(p)
	require.NoError(t, err)
	defer z.Close()
	a := &pt2Archive{files: map[string][]byte{}, deflate: map[string]bool{}}
	for _, f := range z.File {
		rc, err := f.Open()
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(rc)
		require.NoError(t, err)
		rc.Close()
		a.names = append(a.names, f.Name)
		a.files[f.Name] = b.Bytes()
	}
	return a
}

func (a *pt2Archive) set(name string, b []byte) {
	if _, ok := a.files[name]; !ok {
		a.names = append(a.names, name)
	}
	a.files[name] = b
}

func (a *pt2Archive) remove(name string) {
	delete(a.files, name)
	a.names = slices.DeleteFunc(a.names, func(n string) bool { return n == name })
}

// json decodes a record into a generic value.
func (a *pt2Archive) json(t *testing.T, name string) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(a.files[name], &v), name)
	return v
}

func (a *pt2Archive) setJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	a.set(name, b)
}

func (a *pt2Archive) write(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, n := range a.names {
		m := zip.Store
		if a.deflate[n] {
			m = zip.Deflate
		}
		f, err := w.CreateHeader(&zip.FileHeader{Name: n, Method: m})
		require.NoError(t, err)
		_, err = f.Write(a.files[n])
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

// weightsConfig returns the weights config of the archive (root "model/").
func (a *pt2Archive) weightsConfig(t *testing.T) map[string]any {
	return a.json(t, "model/data/weights/model_weights_config.json")["config"].(map[string]any)
}

func corpusIO(t *testing.T) (in, out *tensor.Tensor) {
	t.Helper()
	arrs, err := tensor.ReadNPZ(filepath.Join(testutil.RepoRoot(t), pt2Case, "expected.npz"))
	require.NoError(t, err)
	for _, a := range arrs {
		switch a.Name {
		case "input":
			in = a.Tensor
		case "output":
			out = a.Tensor
		}
	}
	require.NotNil(t, in)
	require.NotNil(t, out)
	return in, out
}

// metaInts writes a SymInt list.
func metaInts(v ...int) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = map[string]any{"as_int": x}
	}
	return out
}

// TestPT2ArchiveLayouts reads the torch >= 2.6 archive as torch 2.14 wrote
// it and in the variants the spec allows (another root folder, torch 2.6's
// state_dict weights, storages shared between tensors at offsets and with
// non-contiguous strides, a buffer stored as a tensor constant), and checks
// the Go reference against PyTorch's output each time.
func TestPT2ArchiveLayouts(t *testing.T) {
	root := testutil.RepoRoot(t)
	src := filepath.Join(root, pt2Case, "model.pt2")
	in, want := corpusIO(t)
	tests := []struct {
		name   string
		file   string
		modify func(t *testing.T, a *pt2Archive)
	}{
		{"as saved by torch 2.14", "model.pt2", nil},
		{"another root folder, not named .pt2", "exported.zip", func(t *testing.T, a *pt2Archive) {
			for _, n := range slices.Clone(a.names) {
				b := a.files[n]
				a.remove(n)
				a.set("exported/"+strings.TrimPrefix(n, "model/"), b)
			}
		}},
		{"torch 2.6 state_dict weights (data/weights/model.pt)", "model.pt2", func(t *testing.T, a *pt2Archive) {
			for _, n := range slices.Clone(a.names) {
				if strings.HasPrefix(n, "model/data/weights/") {
					a.remove(n)
				}
			}
			sd, err := os.ReadFile(filepath.Join(root, pt2Case, "state_dict.pth"))
			require.NoError(t, err)
			a.set("model/data/weights/model.pt", sd)
		}},
		{"one shared storage, offsets, a channels-last weight", "model.pt2", func(t *testing.T, a *pt2Archive) {
			cfg := a.weightsConfig(t)
			var shared []byte
			for _, fqn := range slices.Sorted(func(yield func(string) bool) {
				for k := range cfg {
					if !yield(k) {
						return
					}
				}
			}) {
				m := cfg[fqn].(map[string]any)
				tm := m["tensor_meta"].(map[string]any)
				if tm["dtype"].(float64) != 7 {
					continue
				}
				data := a.files["model/data/weights/"+m["path_name"].(string)]
				a.remove("model/data/weights/" + m["path_name"].(string))
				off := len(shared) / 4
				if fqn == "conv1.weight" {
					// [10, 6, 3, 3] stored channels-last: element (o, i, h, w)
					// at o*54 + h*18 + w*6 + i.
					cl := make([]byte, len(data))
					for o := range 10 {
						for i := range 6 {
							for h := range 3 {
								for w := range 3 {
									copy(cl[4*(o*54+h*18+w*6+i):], data[4*(o*54+i*9+h*3+w):4*(o*54+i*9+h*3+w)+4])
								}
							}
						}
					}
					data = cl
					tm["strides"] = metaInts(54, 1, 18, 6)
				}
				shared = append(shared, data...)
				tm["storage_offset"] = map[string]any{"as_int": off}
				m["path_name"] = "weight_shared"
			}
			a.set("model/data/weights/weight_shared", shared)
			a.setJSON(t, "model/data/weights/model_weights_config.json", map[string]any{"config": cfg})
		}},
		{"a buffer as a tensor constant", "model.pt2", func(t *testing.T, a *pt2Archive) {
			cfg := a.weightsConfig(t)
			meta := cfg["bn2.running_var"].(map[string]any)
			delete(cfg, "bn2.running_var")
			data := a.files["model/data/weights/"+meta["path_name"].(string)]
			a.remove("model/data/weights/" + meta["path_name"].(string))
			a.setJSON(t, "model/data/weights/model_weights_config.json", map[string]any{"config": cfg})
			meta["path_name"] = "tensor_0"
			meta["is_param"] = false
			a.set("model/data/constants/tensor_0", data)
			a.setJSON(t, "model/data/constants/model_constants_config.json", map[string]any{"config": map[string]any{"c_var": meta}})
			prog := a.json(t, "model/models/model.json")
			specs := prog["graph_module"].(map[string]any)["signature"].(map[string]any)["input_specs"].([]any)
			found := false
			for i, s := range specs {
				b, ok := s.(map[string]any)["buffer"].(map[string]any)
				if ok && b["buffer_name"] == "bn2.running_var" {
					specs[i] = map[string]any{"tensor_constant": map[string]any{"arg": b["arg"], "tensor_constant_name": "c_var"}}
					found = true
				}
			}
			require.True(t, found)
			a.setJSON(t, "model/models/model.json", prog)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := src
			if tc.modify != nil {
				a := readPT2Archive(t, src)
				tc.modify(t, a)
				p = a.write(t, tc.file)
			}
			g, err := Load(p, Options{Batch: in.Shape[0]})
			require.NoError(t, err)
			got, err := reference.Run(g, []*tensor.Tensor{in})
			require.NoError(t, err)
			require.Equal(t, want.Shape, got[0].Shape)
			assert.InDeltaSlice(t, want.Float32s(), got[0].Float32s(), 1e-5, "Go reference vs PyTorch")
		})
	}
}

// TestPT2ArchiveHostile checks that a damaged or hostile archive gives a
// clear error (never a panic, never an allocation its size does not
// justify) and that pickled payloads go through the allow-list.
func TestPT2ArchiveHostile(t *testing.T) {
	root := testutil.RepoRoot(t)
	src := filepath.Join(root, pt2Case, "model.pt2")
	const wcfg = "model/data/weights/model_weights_config.json"
	editMeta := func(fqn string, f func(m, tm map[string]any)) func(t *testing.T, a *pt2Archive) {
		return func(t *testing.T, a *pt2Archive) {
			cfg := a.weightsConfig(t)
			m := cfg[fqn].(map[string]any)
			f(m, m["tensor_meta"].(map[string]any))
			a.setJSON(t, wcfg, map[string]any{"config": cfg})
		}
	}
	unsafe, err := os.ReadFile(filepath.Join("testdata", "hostile", "reduce_os_system.pt"))
	require.NoError(t, err)
	tests := []struct {
		name   string
		modify func(t *testing.T, a *pt2Archive)
		want   string
	}{
		{"view past the stored bytes", editMeta("bn1.weight", func(m, tm map[string]any) { tm["sizes"] = metaInts(1000) }), "reaches element 999"},
		{"path outside the folder", editMeta("bn1.weight", func(m, tm map[string]any) { m["path_name"] = "../../models/model.json" }), "is not a file name"},
		{"missing payload", editMeta("bn1.weight", func(m, tm map[string]any) { m["path_name"] = "weight_99" }), "no record model/data/weights/weight_99"},
		{"symbolic size", editMeta("bn1.weight", func(m, tm map[string]any) { tm["sizes"] = []any{map[string]any{"as_expr": "s0"}} }), "sizes[0] is symbolic"},
		{"negative size", editMeta("bn1.weight", func(m, tm map[string]any) { tm["sizes"] = metaInts(-4) }), "sizes[0] = -4"},
		{"huge stride-0 expansion", editMeta("bn1.weight", func(m, tm map[string]any) {
			tm["sizes"], tm["strides"] = metaInts(1<<30, 10), metaInts(0, 1)
		}), "more than 64x"},
		{"sparse layout", editMeta("bn1.weight", func(m, tm map[string]any) { tm["layout"] = 1 }), "not strided"},
		{"unknown dtype", editMeta("bn1.weight", func(m, tm map[string]any) { tm["dtype"] = 10 }), "dtype code 10"},
		{"one storage read as two dtypes", editMeta("bn1.running_mean", func(m, tm map[string]any) {
			m["path_name"], tm["dtype"] = "weight_11", 4
		}), "is read as"},
		{"record not a whole number of elements", func(t *testing.T, a *pt2Archive) {
			a.set("model/data/weights/weight_1", make([]byte, 39))
		}, "not a whole number of float32 elements"},
		{"zip bomb", func(t *testing.T, a *pt2Archive) {
			a.set("model/data/weights/weight_1", make([]byte, 4<<20))
			a.deflate["model/data/weights/weight_1"] = true
		}, "zip bomb"},
		{"pickled payload naming os.system", editMeta("bn1.weight", func(m, tm map[string]any) {
			m["use_pickle"], m["path_name"] = true, "weight_evil"
		}), "os.system"},
		{"archive version 1", func(t *testing.T, a *pt2Archive) { a.set("model/archive_version", []byte("1")) }, "archive version \"1\""},
		{"not a pt2 archive_format", func(t *testing.T, a *pt2Archive) { a.set("model/archive_format", []byte("zip")) }, "want \"pt2\""},
		{"big-endian", func(t *testing.T, a *pt2Archive) { a.set("model/byteorder", []byte("big")) }, "big-endian"},
		{"no exported program", func(t *testing.T, a *pt2Archive) { a.remove("model/models/model.json") }, "no exported program"},
		{"two programs, none named model", func(t *testing.T, a *pt2Archive) {
			b := a.files["model/models/model.json"]
			a.remove("model/models/model.json")
			a.set("model/models/a.json", b)
			a.set("model/models/b.json", b)
		}, "holds 2 exported programs [a b]"},
		{"malformed program JSON", func(t *testing.T, a *pt2Archive) { a.set("model/models/model.json", []byte("{")) }, "model/models/model.json"},
		{"malformed weights config", func(t *testing.T, a *pt2Archive) { a.set(wcfg, []byte(`{"config": 3}`)) }, "model_weights_config.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := readPT2Archive(t, src)
			a.set("model/data/weights/weight_evil", unsafe)
			tc.modify(t, a)
			p := a.write(t, "model.pt2")
			_, err := Load(p, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), p)
			assert.True(t, IsBadInput(err), "%v", err)
			var u *UnsafeClassError
			if tc.name == "pickled payload naming os.system" {
				assert.True(t, errors.As(err, &u), "want an UnsafeClassError, got %v", err)
			} else {
				assert.True(t, errors.Is(err, ErrFormat), "want ErrFormat, got %v", err)
			}
		})
	}
}

// TestPT2ArchiveStridedRead checks the strided read of a raw payload
// against values computed here: a [2, 3] int64 view with stride (1, 2) and
// offset 1 of a storage holding 0..7.
func TestPT2ArchiveStridedRead(t *testing.T) {
	raw := make([]byte, 8*8)
	for i := range 8 {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(i))
	}
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.CreateHeader(&zip.FileHeader{Name: "m/data/weights/weight_0", Method: zip.Store})
	require.NoError(t, err)
	_, err = f.Write(raw)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	recs := map[string]*zip.File{zr.File[0].Name: zr.File[0]}
	one, two, three := 1, 2, 3
	m := &payloadMeta{PathName: "weight_0", TensorMeta: &tensorMeta{
		DType: 5, Sizes: []symInt{{&two}, {&three}}, Strides: []symInt{{&one}, {&two}}, StorageOffset: &symInt{&one},
	}}
	l := &loader{file: "mem", size: int64(buf.Len())}
	got, err := l.readPT2Payload(recs, "m/data/weights/", m, map[string]*storageRef{})
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, got.Shape)
	assert.Equal(t, tensor.Int64, got.DType)
	var vals []int64
	for i := range 6 {
		vals = append(vals, int64(got.Float64(i)))
	}
	// element (r, c) = 1 + r + 2c
	assert.Equal(t, []int64{1, 3, 5, 2, 4, 6}, vals, fmt.Sprint(vals))
}

// FuzzPT2PayloadConfig feeds arbitrary weights configs to the PT2 payload
// reader over an archive holding one 64-byte record (weight_0) and a
// pickled one (weight_p): it must return tensors or an error, never panic
// or allocate beyond what the records justify. Seeds: the config torch
// 2.14 wrote for the corpus case and hand-written edge cases. Run with
// go test -fuzz FuzzPT2PayloadConfig ./converter/torch.
func FuzzPT2PayloadConfig(f *testing.F) {
	if z, err := zip.OpenReader(filepath.Join("..", "..", pt2Case, "model.pt2")); err == nil {
		for _, zf := range z.File {
			if strings.HasSuffix(zf.Name, "_weights_config.json") {
				if rc, err := zf.Open(); err == nil {
					var b bytes.Buffer
					_, _ = b.ReadFrom(rc)
					rc.Close()
					f.Add(b.Bytes())
				}
			}
		}
		z.Close()
	}
	meta := `{"dtype": 7, "sizes": [{"as_int": 4}, {"as_int": 4}], "strides": [{"as_int": 1}, {"as_int": 4}], "storage_offset": {"as_int": 0}, "layout": 7}`
	f.Add([]byte(`{"config": {"w": {"path_name": "weight_0", "is_param": true, "use_pickle": false, "tensor_meta": ` + meta + `}}}`))
	f.Add([]byte(`{"config": {"w": {"path_name": "weight_0", "use_pickle": false, "tensor_meta": {"dtype": 5, "sizes": [{"as_int": 1073741824}], "strides": [{"as_int": 0}]}}}}`))
	f.Add([]byte(`{"config": {"p": {"path_name": "weight_p", "use_pickle": true, "tensor_meta": ` + meta + `}, "o": {"path_name": "custom_obj_0", "use_pickle": true}}}`))
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, data := range map[string][]byte{"m/data/weights/weight_0": make([]byte, 64), "m/data/weights/weight_p": []byte("\x80\x02}q\x00.")} {
		zw, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			f.Fatal(err)
		}
		if _, err := zw.Write(data); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cfg []byte) {
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		recs := map[string]*zip.File{}
		for _, zf := range zr.File {
			recs[zf.Name] = zf
		}
		l := &loader{file: "fuzz.pt2", size: int64(buf.Len()), storages: map[string]*storageRef{}}
		// The config is read from memory: the reader's record check is
		// covered by TestPT2ArchiveHostile.
		var pc payloadConfig
		if json.Unmarshal(cfg, &pc) != nil {
			return
		}
		storages := map[string]*storageRef{}
		for fqn, m := range pc.Config {
			if m.TensorMeta == nil {
				continue
			}
			tt, err := l.readPT2Payload(recs, "m/data/weights/", &m, storages)
			if err == nil {
				if tt == nil || len(tt.Data) != tt.NumElements()*tt.DType.Size() {
					t.Fatalf("%s: bad tensor %v", fqn, tt)
				}
			}
		}
	})
}
