package torch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// TestCheckpointFiles reads the files users save: training checkpoints
// (the model's state_dict chosen by name, the rest set aside), wrapper
// prefixes, a Python-2-era legacy pickle, bfloat16 and float16 weights.
func TestCheckpointFiles(t *testing.T) {
	src := filepath.Join("testdata", "source")
	tests := []struct {
		file      string
		key       string   // the chosen entry
		setAside  []string // entries set aside
		stripped  []string
		tensors   int
		stored    string
		firstName string
	}{
		{"cifar_net/state_dict.pth", "", nil, nil, 10, "float32", "conv1.weight"},
		{"cifar_net/checkpoint.pth", "model_state_dict", []string{"epoch (int)", "optimizer_state_dict (optimizer state, 30 tensors)", "loss (float)"}, nil, 10, "float32", "conv1.weight"},
		{"cifar_net/dataparallel.pth", "model_state_dict", []string{"optimizer_state_dict (optimizer state, 30 tensors)"}, []string{"module."}, 10, "float32", "conv1.weight"},
		{"cifar_net/compiled.pth", "", nil, []string{"_orig_mod."}, 10, "float32", "conv1.weight"},
		{"cifar_net/bf16.pth", "", nil, nil, 10, "bfloat16", "conv1.weight"},
		{"cifar_net/f16.pth", "", nil, nil, 10, "float16", "conv1.weight"},
		{"train_fashion/checkpoint.pth", "state_dict", []string{"optimizer (optimizer state, 33 tensors)", "scheduler (scheduler state)", "best_acc (float)"}, nil, 17, "float32", "stem.weight"},
		{"lenet/py2_legacy.pth", "state_dict", []string{"tags (Set)", "epoch (int)"}, nil, 10, "float32", "conv1.weight"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := ReadFile(filepath.Join(src, tc.file))
			require.NoError(t, err)
			require.Len(t, f.Tensors, tc.tensors)
			assert.Equal(t, tc.firstName, f.Tensors[0].Name)
			assert.Equal(t, tc.stored, f.Tensors[0].Stored)
			for _, nt := range f.Tensors {
				assert.NotContains(t, nt.Name, "optimizer")
				assert.NotContains(t, nt.Name, "module.")
			}
			if tc.key == "" && tc.stripped == nil {
				assert.Nil(t, f.Checkpoint)
				return
			}
			require.NotNil(t, f.Checkpoint)
			assert.Equal(t, tc.key, f.Checkpoint.Key)
			for _, s := range tc.setAside {
				assert.Contains(t, f.Checkpoint.SetAside, s)
			}
			assert.Equal(t, tc.stripped, f.Checkpoint.Stripped)
			assert.NotEmpty(t, f.Checkpoint.Notes())
		})
	}
}

// TestStoredDTypeListed: a state_dict without an architecture lists its
// tensors with the dtype the file stores (bfloat16 is read as float32 but
// listed as bfloat16), and a checkpoint says what it holds.
func TestStoredDTypeListed(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "source", "cifar_net", "bf16.pth"), Options{})
	require.ErrorIs(t, err, ErrNeedArch)
	assert.Contains(t, err.Error(), "conv1.weight bfloat16 [6 3 5 5]")
	assert.Contains(t, err.Error(), "--source")
	_, err = Load(filepath.Join("testdata", "source", "cifar_net", "f16.pth"), Options{})
	assert.Contains(t, err.Error(), "conv1.weight float16 [6 3 5 5]")
	_, err = Load(filepath.Join("testdata", "source", "mnist_net", "checkpoint.pth"), Options{})
	assert.Contains(t, err.Error(), `the weights are read from "model_state_dict"`)
	assert.Contains(t, err.Error(), "optimizer_state_dict (optimizer state")
}

// TestPy2LegacyAndCompiledWithSource: the Python-2-era file and the
// torch.compile state_dict give PyTorch's outputs with the source.
func TestPy2LegacyAndCompiledWithSource(t *testing.T) {
	for _, tc := range []struct{ dir, file string }{{"lenet", "py2_legacy.pth"}, {"cifar_net", "compiled.pth"}, {"cifar_net", "bf16.pth"}} {
		t.Run(tc.file, func(t *testing.T) {
			dir := filepath.Join("testdata", "source", tc.dir)
			r, err := LoadResult(filepath.Join(dir, tc.file), Options{Batch: 2, Source: SourceOptions{Path: filepath.Join(dir, "model.py")}})
			require.NoError(t, err)
			in, want := npzPair(t, filepath.Join(dir, "expected.npz"))
			got, err := reference.Run(r.Graph, []*tensor.Tensor{in})
			require.NoError(t, err)
			tol := 1e-5
			if tc.file == "bf16.pth" {
				tol = 0.05 // bfloat16 weights: torch's outputs are of the float32 weights
			}
			assert.LessOrEqual(t, relErr(want.Float32s(), got[0].Float32s()), tol)
		})
	}
}

func npzPair(t *testing.T, path string) (in, out *tensor.Tensor) {
	t.Helper()
	arrs, err := tensor.ReadNPZ(path)
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

// TestArchPrefixAfterStrip: an arch file written for DataParallel keys
// (prefix: module.) still reads a file whose prefix was removed.
func TestArchPrefixAfterStrip(t *testing.T) {
	dir := filepath.Join("testdata", "source", "mnist_net")
	f, err := ReadFile(filepath.Join(dir, "dataparallel.pth"))
	require.NoError(t, err)
	sa, err := ArchFromSource(f, SourceOptions{Path: filepath.Join(dir, "model.py")}, 0)
	require.NoError(t, err)
	b, err := sa.Arch.YAML()
	require.NoError(t, err)
	y := strings.Replace(string(b), "format: edgeval-torch-arch/1\n", "format: edgeval-torch-arch/1\nprefix: module.\n", 1)
	p := filepath.Join(t.TempDir(), "dp.yaml")
	require.NoError(t, os.WriteFile(p, []byte(y), 0o644))
	_, err = Load(filepath.Join(dir, "dataparallel.pth"), Options{Arch: p})
	require.NoError(t, err)
}

// TestSelectStateDictNested: several state_dicts with no model name are
// read together under their names; one named "model" inside "state" is
// found.
func TestSelectStateDictNested(t *testing.T) {
	dict := func(kv ...any) any {
		d := newDictForTest()
		for i := 0; i < len(kv); i += 2 {
			d.Set(kv[i], kv[i+1])
		}
		return d
	}
	tr := &tensorRef{}
	obj, c := selectStateDict(dict("encoder", dict("w", tr), "decoder", dict("w", tr), "optimizer", dict("state", dict(), "param_groups", 1)))
	require.NotNil(t, c)
	assert.Len(t, orderedEntries(obj), 2)
	assert.Contains(t, c.SetAside[0], "optimizer")
	obj, c = selectStateDict(dict("state", dict("model", dict("w", tr)), "epoch", 3))
	require.NotNil(t, c)
	assert.Equal(t, "state.model", c.Key)
	assert.Len(t, orderedEntries(obj), 1)
}

func newDictForTest() *types.OrderedDict { return types.NewOrderedDict() }
