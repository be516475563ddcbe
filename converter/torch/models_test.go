package torch

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// readIO reads testdata/NAME.npz: the input and PyTorch's output.
func readIO(t *testing.T, name string) (in, out *tensor.Tensor) {
	t.Helper()
	arrs, err := tensor.ReadNPZ(filepath.Join("testdata", name+".npz"))
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

// TestGeneratedModels loads the models that real PyTorch 2.5.1 saved
// (testdata/gen/gen_torch_models.py) and compares the Go reference and the
// converted .tflite on LiteRT with PyTorch's outputs.
func TestGeneratedModels(t *testing.T) {
	tests := []struct {
		file, arch string
		tol        float64
	}{
		{"seq_cnn.pth", "in_3x16x16.yaml", 1e-5},      // full Sequential; AdaptiveAvgPool2d leaves the input size open
		{"seq_mlp_legacy.pt", "", 1e-5},               // full Sequential in the legacy format
		{"convtranspose.pth", "in_4x5x5.yaml", 1e-5},  // no Linear: the input comes from an input-only arch
		{"conv1d.pth", "", 1e-5},                      // the input size is recovered from the Linear after Flatten
		{"adaptive.pth", "in_3x9x10.yaml", 1e-5},      // overlapping adaptive avg/max windows
		{"custom_root.pth", "custom_root.yaml", 1e-5}, // custom root: the arch gives the forward
		{"legacy_v03_sequential.pt", "", 1e-5},        // torch 0.3-style: module persistent ids, storage views on cuda:0, thnn backend
		{"custom_root_state_dict.pt", "custom_root.yaml", 1e-5},
		{"tokens_state_dict.pt", "tokens.yaml", 1e-5}, // Embedding (int32 indices), LayerNorm, permute, Conv1d, mean, mul, view, interpolate
		{"export_cnn.pt2", "", 1e-5},                  // torch.export: the ATen graph
		{"export_core.pt2", "", 1e-5},                 // decomposed to core ATen: convolution, addmm, clamp, div
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			o := Options{}
			if tc.arch != "" {
				o.Arch = filepath.Join("testdata", "arch", tc.arch)
			}
			g, err := Load(filepath.Join("testdata", tc.file), o)
			require.NoError(t, err)
			name := tc.file[:len(tc.file)-len(filepath.Ext(tc.file))]
			if name == "tokens_state_dict" {
				name = "tokens"
			}
			if name == "custom_root_state_dict" {
				name = "custom_root"
			}
			in, want := readIO(t, name)
			got, err := reference.Run(g, []*tensor.Tensor{in})
			require.NoError(t, err)
			require.Equal(t, want.Shape, got[0].Shape)
			assert.InDeltaSlice(t, want.Float32s(), got[0].Float32s(), tc.tol, "Go reference vs PyTorch")

			cg, err := passes.Canonicalize(g, passes.Options{})
			require.NoError(t, err)
			model, _, err := convtflite.Convert(cg, convtflite.Options{Batch: 1})
			require.NoError(t, err)
			counts := countOps(t, model)
			t.Logf("%s: TRANSPOSE %d, ops %v", tc.file, counts["TRANSPOSE"], counts)
			out := runLiteRT(t, model, []*tensor.Tensor{in})
			require.Len(t, out, 1)
			assert.InDeltaSlice(t, want.Float32s(), out[0].Float32s(), 1e-4, "LiteRT vs PyTorch")
		})
	}
}

// TestDTypes reads every storage dtype, views with offsets and strides, in
// the zip and the legacy format, against the values numpy saved.
func TestDTypes(t *testing.T) {
	arrs, err := tensor.ReadNPZ(filepath.Join("testdata", "dtypes.npz"))
	require.NoError(t, err)
	for _, file := range []string{"dtypes.pt", "dtypes_legacy.pt"} {
		t.Run(file, func(t *testing.T) {
			f, err := ReadFile(filepath.Join("testdata", file))
			require.NoError(t, err)
			require.Len(t, f.Tensors, len(arrs))
			for _, a := range arrs {
				got := f.Tensor(a.Name)
				require.NotNil(t, got, a.Name)
				assert.Equal(t, a.Tensor.Shape, got.Shape, a.Name)
				assert.Equal(t, a.Tensor.DType, got.DType, a.Name)
				assert.Equal(t, a.Tensor.Float32s(), got.Float32s(), a.Name)
			}
		})
	}
}

func TestTorchScriptRefused(t *testing.T) {
	for _, p := range []string{filepath.Join("testdata", "script.pt"), fixture(t, "torch/tch-rs/foo.pt")} {
		_, err := Load(p, Options{})
		var ts *TorchScriptError
		require.ErrorAs(t, err, &ts)
		assert.Contains(t, err.Error(), "torch.export.save")
		assert.True(t, IsBadInput(err))
	}
}

// TestUnsupportedLayers checks that every standard layer without a mapping
// is named at once.
func TestUnsupportedLayers(t *testing.T) {
	seq := func(children ...*Module) *Module {
		m := &Module{Class: "torch.nn.modules.container.Sequential", Attrs: map[string]any{}}
		d := types.NewOrderedDict()
		for i, c := range children {
			d.Set(fmt.Sprint(i), c)
		}
		m.Attrs["_modules"] = d
		return m
	}
	layer := func(cls string) *Module { return &Module{Class: cls, Attrs: map[string]any{}} }
	f := &File{Path: "x.pth", Root: seq(layer("torch.nn.modules.rnn.LSTMCell"), layer("torch.nn.modules.activation.ReLU"), layer("torch.nn.modules.pixelshuffle.PixelShuffle"))}
	_, err := BuildModule(f, nil, 0)
	var u *UnsupportedError
	require.ErrorAs(t, err, &u)
	require.Len(t, u.Items, 2)
	assert.Equal(t, "0", u.Items[0].Name)
	assert.Equal(t, "torch.nn.modules.rnn.LSTMCell", u.Items[0].Kind)
	assert.Equal(t, "2", u.Items[1].Name)
}

// TestTorchScriptElementwise runs TorchScript archives whose forward is
// elementwise, with inputs given by an input-only arch file: tch-rs
// foo.pt (2*x + y + self.value, value = [42]) against tch-rs's expected
// output, and script.pt (2*x + 1), in the reference and on LiteRT.
func TestTorchScriptElementwise(t *testing.T) {
	x := tensor.FromFloat32([]int{1, 5}, []float32{3, 1, 4, 1, 5})
	y := tensor.FromFloat32([]int{1, 1}, []float32{7})
	x5 := tensor.FromFloat32([]int{5}, []float32{3, 1, 4, 1, 5})
	y1 := tensor.FromFloat32([]int{1}, []float32{7})
	tests := []struct {
		file, arch string
		ins        []*tensor.Tensor
		want       []float32
	}{
		{fixture(t, "torch/tch-rs/foo.pt"), "tch_foo_inputs.yaml", []*tensor.Tensor{x, y}, []float32{55, 51, 57, 51, 59}},
		{fixture(t, "torch/tch-rs/foo.pt"), "tch_foo_unbatched.yaml", []*tensor.Tensor{x5, y1}, []float32{55, 51, 57, 51, 59}}, // x: [5], y: [1] without a batch axis
		{filepath.Join("testdata", "script.pt"), "script_inputs.yaml", []*tensor.Tensor{x}, []float32{7, 3, 9, 3, 11}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file)+"/"+tc.arch, func(t *testing.T) {
			g, err := Load(tc.file, Options{Arch: filepath.Join("testdata", "arch", tc.arch)})
			require.NoError(t, err)
			got, err := reference.Run(g, tc.ins)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got[0].Float32s())
			out := runLiteRT(t, convertGraph(t, g, false), tc.ins)
			assert.Equal(t, tc.want, out[0].Float32s())
		})
	}
	// Without the inputs the archive is refused, saying what to give.
	_, err := Load(fixture(t, "torch/tch-rs/foo.pt"), Options{Arch: filepath.Join("testdata", "arch", "in_3x9x10.yaml")})
	var ts *TorchScriptError
	require.ErrorAs(t, err, &ts)
	assert.Contains(t, err.Error(), "forward(x, y) can be read when --arch gives only its inputs")
}
