package golden

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// digitsDir is the real labelled test set (testdata/gen/gen_digits.py):
// 360 16×16 gray PNGs of scikit-learn's digits in ImageFolder layout.
const digitsDir = "../testdata/digits"

var (
	grayNHWC = InputSpec{Name: "image", Shape: []int{1, 16, 16, 1}, DType: tensor.Float32, Layout: "NHWC"}
	rgbNCHW  = InputSpec{Name: "input", Shape: []int{1, 3, 16, 16}, DType: tensor.Float32, Layout: "NCHW"}
)

// digitsExpected is what gen_digits.py recorded about the test folder.
type digitsExpected struct {
	Classes []string `json:"classes"`
	Test    struct {
		Samples  int   `json:"samples"`
		PerClass []int `json:"per_class"`
	} `json:"test"`
}

func readDigitsExpected(t *testing.T) digitsExpected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(digitsDir, "expected.json"))
	require.NoError(t, err)
	var e digitsExpected
	require.NoError(t, json.Unmarshal(b, &e))
	return e
}

func TestOpenDatasetImageFolder(t *testing.T) {
	exp := readDigitsExpected(t)
	d, err := OpenDataset(filepath.Join(digitsDir, "test"), []InputSpec{grayNHWC}, DatasetOptions{Preprocess: Preprocess{Scale: 1.0 / 255}})
	require.NoError(t, err)
	defer d.Close()
	assert.Equal(t, exp.Test.Samples, d.Len())
	assert.Equal(t, exp.Classes, d.Classes())
	counts := make([]int, len(d.Classes()))
	for _, l := range d.Labels() {
		counts[l]++
	}
	assert.Equal(t, exp.Test.PerClass, counts)
	assert.True(t, slices.IsSorted(d.Labels()), "unshuffled: class by class")
	assert.Empty(t, d.Skipped())

	// Sample 0 is the first file of class 0, scaled by float32(1/255).
	s, err := d.Sample(0)
	require.NoError(t, err)
	require.Len(t, s, 1)
	assert.Equal(t, []int{1, 16, 16, 1}, s[0].Shape)
	p, err := decodeImage(d.Source(0), 0)
	require.NoError(t, err)
	got := s[0].Float32s()
	for i, v := range p.data {
		require.Equal(t, v*float32(1.0/255), got[i])
	}
	assert.Equal(t, filepath.Join(digitsDir, "test", "0", "0020.png"), filepath.Clean(d.Source(0)))

	t.Run("NCHW RGB model: gray replicated, channels first", func(t *testing.T) {
		d2, err := OpenDataset(filepath.Join(digitsDir, "test"), []InputSpec{rgbNCHW}, DatasetOptions{Preprocess: Preprocess{Scale: 1.0 / 255}})
		require.NoError(t, err)
		s2, err := d2.Sample(0)
		require.NoError(t, err)
		assert.Equal(t, []int{1, 3, 16, 16}, s2[0].Shape)
		v := s2[0].Float32s()
		assert.Equal(t, got, v[:256])
		assert.Equal(t, got, v[256:512])
		assert.Equal(t, got, v[512:])
	})
}

func TestDatasetShuffleAndLimit(t *testing.T) {
	dir := filepath.Join(digitsDir, "test")
	open := func(o DatasetOptions) *Dataset {
		d, err := OpenDataset(dir, []InputSpec{grayNHWC}, o)
		require.NoError(t, err)
		return d
	}
	all := open(DatasetOptions{})
	a := open(DatasetOptions{Shuffle: true, Seed: 7, Limit: 50})
	b := open(DatasetOptions{Shuffle: true, Seed: 7, Limit: 50})
	c := open(DatasetOptions{Shuffle: true, Seed: 8, Limit: 50})
	assert.Equal(t, 50, a.Len())
	assert.Equal(t, a.Labels(), b.Labels(), "same seed, same order")
	assert.NotEqual(t, a.Labels(), c.Labels())
	assert.False(t, slices.IsSorted(a.Labels()))
	assert.Greater(t, len(slices.Compact(slices.Sorted(slices.Values(a.Labels())))), 5, "a shuffled prefix spans the classes")
	// Each shuffled image keeps its label.
	for i := range a.Len() {
		cls := filepath.Base(filepath.Dir(a.Source(i)))
		assert.Equal(t, a.Classes()[a.Labels()[i]], cls)
	}
	first := open(DatasetOptions{Limit: 3})
	assert.Equal(t, all.Labels()[:3], first.Labels())
	more := open(DatasetOptions{Limit: 100000})
	assert.Equal(t, all.Len(), more.Len(), "a limit is a cap")
}

// writePNG writes a w×h gray PNG of value v.
func writeImage(t *testing.T, path string, w, h int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	src, err := os.ReadFile(filepath.Join(digitsDir, "test", "0", "0020.png"))
	require.NoError(t, err)
	if w == 16 && h == 16 {
		require.NoError(t, os.WriteFile(path, src, 0o644))
		return
	}
	photo, err := os.ReadFile(filepath.Join(imagesDir, "photo.png")) // 64×48
	require.NoError(t, err)
	require.Equal(t, [2]int{64, 48}, [2]int{w, h})
	require.NoError(t, os.WriteFile(path, photo, 0o644))
}

func TestOpenDatasetErrors(t *testing.T) {
	spec := []InputSpec{grayNHWC}
	tests := []struct {
		name    string
		files   map[string][2]int // path -> w,h
		extra   map[string]string // path -> content
		o       DatasetOptions
		specs   []InputSpec
		wantErr string
	}{
		{"image at the top level", map[string][2]int{"a/x.png": {16, 16}, "y.png": {16, 16}}, nil, DatasetOptions{}, spec, "belongs to no class"},
		{"no class folders", nil, map[string]string{"README": "hi"}, DatasetOptions{}, spec, "no class sub-folders"},
		{"no images", nil, map[string]string{"a/README": "hi"}, DatasetOptions{}, spec, "no .png, .jpg, .jpeg or .bmp images"},
		{"gif refused by name", map[string][2]int{"a/x.png": {16, 16}}, map[string]string{"a/y.gif": "GIF89a"}, DatasetOptions{}, spec, "a/y.gif: .gif images are not read"},
		{"size differs, no resize", map[string][2]int{"a/x.png": {64, 48}}, nil, DatasetOptions{}, spec, "image is 48×64 (H×W) but input \"image\" takes 16×16: give --resize 16,16"},
		{"resize not the model's size", map[string][2]int{"a/x.png": {16, 16}}, nil, DatasetOptions{Preprocess: Preprocess{Resize: [2]int{32, 32}}}, spec, "--resize 32,32: input \"image\" takes 16×16"},
		{"gray for an RGB model", map[string][2]int{"a/x.png": {16, 16}}, nil, DatasetOptions{Preprocess: Preprocess{Color: ColorGray}}, []InputSpec{rgbNCHW}, "--color gray: input \"input\" has 3 channels"},
		{"mean per channel count", map[string][2]int{"a/x.png": {16, 16}}, nil, DatasetOptions{Preprocess: Preprocess{Mean: []float64{1, 2}}}, []InputSpec{rgbNCHW}, "--mean: 2 values for an input of 3 channels"},
		{"zero std", map[string][2]int{"a/x.png": {16, 16}}, nil, DatasetOptions{Preprocess: Preprocess{Std: []float64{0}}}, spec, "zero standard deviation"},
		{"no layout", map[string][2]int{"a/x.png": {16, 16}}, nil, DatasetOptions{}, []InputSpec{{Name: "v", Shape: []int{1, 16, 16, 1}, DType: tensor.Float32}}, "has no image layout"},
		{"two inputs", map[string][2]int{"a/x.png": {16, 16}}, nil, DatasetOptions{}, []InputSpec{grayNHWC, grayNHWC}, "a model of one input; this one has 2"},
		{"rank 2 input", map[string][2]int{"a/x.png": {16, 16}}, nil, DatasetOptions{}, []InputSpec{{Name: "v", Shape: []int{1, 256}, DType: tensor.Float32}}, "rank 4"},
		{"batch not filled", map[string][2]int{"a/x.png": {16, 16}, "a/y.png": {16, 16}, "b/z.png": {16, 16}}, nil, DatasetOptions{},
			[]InputSpec{{Name: "image", Shape: []int{2, 16, 16, 1}, DType: tensor.Float32, Layout: "NHWC"}}, "3 images do not fill runs of the model's batch of 2: use --limit 2"},
		{"int8 input without quantization", map[string][2]int{"a/x.png": {16, 16}}, nil, DatasetOptions{Preprocess: Preprocess{Scale: 0.5}},
			[]InputSpec{{Name: "image", Shape: []int{1, 16, 16, 1}, DType: tensor.Int8, Layout: "NHWC"}}, "takes int8 without quantization parameters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, wh := range tc.files {
				writeImage(t, filepath.Join(dir, p), wh[0], wh[1])
			}
			for p, c := range tc.extra {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644))
			}
			_, err := OpenDataset(dir, tc.specs, tc.o)
			require.Error(t, err)
			assert.Contains(t, filepath.ToSlash(err.Error()), tc.wantErr)
		})
	}
}

func TestDatasetResizeAndBatch(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "cat", "a.png"), 64, 48)
	writeImage(t, filepath.Join(dir, "cat", "b.png"), 16, 16)
	writeImage(t, filepath.Join(dir, "dog", "c.png"), 16, 16)
	writeImage(t, filepath.Join(dir, "dog", "d.png"), 16, 16)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dog", "notes.txt"), []byte("x"), 0o644))
	spec := InputSpec{Name: "image", Shape: []int{2, 3, 16, 16}, DType: tensor.Float32, Layout: "NCHW"}
	d, err := OpenDataset(dir, []InputSpec{spec}, DatasetOptions{Preprocess: Preprocess{Resize: [2]int{16, 16}, Scale: 1.0 / 255, Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}, Color: ColorBGR}})
	require.NoError(t, err)
	assert.Equal(t, 2, d.Len(), "4 images, batch 2")
	assert.Equal(t, 4, d.Images())
	assert.Equal(t, []int{0, 0, 1, 1}, d.Labels())
	assert.Equal(t, []string{"cat", "dog"}, d.Classes())
	assert.Equal(t, []string{filepath.Join(dir, "dog", "notes.txt")}, d.Skipped())
	s, err := d.Sample(0)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3, 16, 16}, s[0].Shape)

	// The first image by hand: resized, BGR, normalized, channels first.
	p, err := decodeImage(filepath.Join(dir, "cat", "a.png"), 0)
	require.NoError(t, err)
	r := resizeBilinear(p, 16, 16)
	v := s[0].Float32s()
	mean, std := []float32{0.485, 0.456, 0.406}, []float32{0.229, 0.224, 0.225}
	for k := range 3 {
		for i := range 256 {
			want := (float32(r.data[i*3+(2-k)]*float32(1.0/255)) - mean[k]) / std[k]
			require.Equal(t, want, v[k*256+i], "channel %d pixel %d", k, i)
		}
	}
	_, err = d.Sample(2)
	assert.ErrorContains(t, err, "out of range")
}

func TestOpenImages(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "b.png"), 16, 16)
	writeImage(t, filepath.Join(dir, "a.png"), 16, 16)
	writeImage(t, filepath.Join(dir, "sub", "c.png"), 16, 16)
	d, err := OpenImages(dir, []InputSpec{grayNHWC}, DatasetOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, d.Len(), "sub-folders are not read")
	assert.Nil(t, d.Labels())
	assert.Nil(t, d.Classes())
	assert.Equal(t, filepath.Join(dir, "a.png"), d.Source(0))
	one, err := OpenImages(filepath.Join(dir, "b.png"), []InputSpec{grayNHWC}, DatasetOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, one.Len())
	s, err := one.Sample(0)
	require.NoError(t, err)
	assert.InDelta(t, 0, s[0].Float32s()[0], 255)

	_, err = OpenImages(filepath.Join(dir, "sub"), []InputSpec{grayNHWC}, DatasetOptions{})
	require.NoError(t, err)
	_, err = OpenImages(t.TempDir(), []InputSpec{grayNHWC}, DatasetOptions{})
	assert.ErrorContains(t, err, "no .png")
	_, err = OpenImages(filepath.Join(dir, "x.npy"), []InputSpec{grayNHWC}, DatasetOptions{})
	assert.ErrorContains(t, err, "no such file")
	assert.True(t, IsImageFile("A.JPEG"))
	assert.False(t, IsImageFile("a.npz"))
}

func TestQuantizedInput(t *testing.T) {
	spec := InputSpec{Name: "image", Shape: []int{1, 16, 16, 1}, DType: tensor.Int8, Layout: "NHWC",
		Quant: &tensor.Quant{Scale: []float32{1.0 / 255}, ZeroPoint: []int64{-128}}}
	d, err := OpenDataset(filepath.Join(digitsDir, "test"), []InputSpec{spec}, DatasetOptions{Preprocess: Preprocess{Scale: 1.0 / 255}})
	require.NoError(t, err)
	s, err := d.Sample(0)
	require.NoError(t, err)
	assert.Equal(t, tensor.Int8, s[0].DType)
	p, err := decodeImage(d.Source(0), 0)
	require.NoError(t, err)
	for i, v := range s[0].Float64s() {
		assert.Equal(t, p.data[i]-128, float32(v), "x/255 quantized at scale 1/255, zero point -128 is the pixel - 128")
	}
}

func TestOpenDatasetNPZ(t *testing.T) {
	dir := t.TempDir()
	// 5 images [5,3,2,2] (NCHW) and their labels.
	x := make([]float32, 5*12)
	for i := range x {
		x[i] = float32(i)
	}
	spec := InputSpec{Name: "input", Shape: []int{1, 3, 2, 2}, DType: tensor.Float32, Layout: "NCHW"}
	write := func(arrays ...tensor.Named) string {
		p := filepath.Join(dir, "d.npz")
		require.NoError(t, tensor.WriteNPZ(p, arrays))
		return p
	}
	xs := tensor.Named{Name: "x", Tensor: tensor.FromFloat32([]int{5, 3, 2, 2}, x)}
	p := write(xs, tensor.Named{Name: "y", Tensor: tensor.FromFloat64s(tensor.Int64, []int{5}, []float64{2, 0, 1, 2, 4})})
	d, err := OpenDataset(p, []InputSpec{spec}, DatasetOptions{Preprocess: Preprocess{Scale: 2, Mean: []float64{1}}, Shuffle: true, Seed: 3, Limit: 4})
	require.NoError(t, err)
	defer d.Close()
	assert.Equal(t, 4, d.Len())
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, d.Classes())
	all := []int{2, 0, 1, 2, 4}
	for i := range d.Len() {
		s, err := d.Sample(i)
		require.NoError(t, err)
		v := s[0].Float32s()
		row := int(v[0]+1) / 2 / 12 // x[row][0] = 12·row, scaled by 2 minus 1
		assert.Equal(t, all[row], d.Labels()[i])
		for j := range 12 {
			assert.Equal(t, float32(12*row+j)*2-1, v[j])
		}
	}

	tests := []struct {
		name    string
		arrays  []tensor.Named
		o       DatasetOptions
		wantErr string
	}{
		{"no y", []tensor.Named{xs}, DatasetOptions{}, "no array y of labels"},
		{"no x", []tensor.Named{{Name: "images", Tensor: xs.Tensor}, {Name: "y", Tensor: tensor.FromFloat64s(tensor.Int64, []int{5}, make([]float64, 5))}}, DatasetOptions{}, "an array named x"},
		{"y of another length", []tensor.Named{xs, {Name: "y", Tensor: tensor.FromFloat64s(tensor.Int64, []int{4}, make([]float64, 4))}}, DatasetOptions{}, "y has shape [4]; want one class index per image of x: [5]"},
		{"y not whole", []tensor.Named{xs, {Name: "y", Tensor: tensor.FromFloat64s(tensor.Float32, []int{5}, []float64{0, 1, 0.5, 0, 0})}}, DatasetOptions{}, "y[2] = 0.5 is not a class index"},
		{"negative label", []tensor.Named{xs, {Name: "y", Tensor: tensor.FromFloat64s(tensor.Int32, []int{5}, []float64{0, -1, 0, 0, 0})}}, DatasetOptions{}, "y[1] = -1"},
		{"x in another layout", []tensor.Named{{Name: "x", Tensor: tensor.FromFloat32([]int{5, 2, 2, 3}, x)}, {Name: "y", Tensor: tensor.FromFloat64s(tensor.Int64, []int{5}, make([]float64, 5))}}, DatasetOptions{}, "model takes [1 3 2 2] per run"},
		{"resize on npz", []tensor.Named{xs}, DatasetOptions{Preprocess: Preprocess{Resize: [2]int{2, 2}}}, "--resize and --color apply to image files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenDataset(write(tc.arrays...), []InputSpec{spec}, tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestParsePreprocessFlags(t *testing.T) {
	s, err := ParseScale("1/255")
	require.NoError(t, err)
	assert.Equal(t, 1.0/255, s)
	s, err = ParseScale("0.5")
	require.NoError(t, err)
	assert.Equal(t, 0.5, s)
	for _, bad := range []string{"", "1/0", "0", "x", "1/x", "NaN"} {
		_, err := ParseScale(bad)
		assert.Error(t, err, bad)
	}
	r, err := ParseResize("224, 160")
	require.NoError(t, err)
	assert.Equal(t, [2]int{224, 160}, r)
	for _, bad := range []string{"224", "0,3", "a,b", "1,2,3"} {
		_, err := ParseResize(bad)
		assert.Error(t, err, bad)
	}
	f, err := ParseFloats("--mean", "0.485,0.456, 0.406")
	require.NoError(t, err)
	assert.Equal(t, []float64{0.485, 0.456, 0.406}, f)
	_, err = ParseFloats("--std", "1,,2")
	assert.ErrorContains(t, err, "--std")
	c, err := ParseColor("BGR")
	require.NoError(t, err)
	assert.Equal(t, ColorBGR, c)
	_, err = ParseColor("hsv")
	assert.Error(t, err)
}

func TestPreprocessTextParse(t *testing.T) {
	p, err := PreprocessText{}.Parse()
	require.NoError(t, err)
	assert.Equal(t, Preprocess{Color: ColorAuto}, p, "nothing set: the defaults")
	p, err = PreprocessText{Resize: "16,16", Scale: "1/255", Mean: "0.5", Std: "0.25,0.5,1", Color: "gray"}.Parse()
	require.NoError(t, err)
	assert.Equal(t, Preprocess{Resize: [2]int{16, 16}, Scale: 1.0 / 255, Mean: []float64{0.5}, Std: []float64{0.25, 0.5, 1}, Color: ColorGray}, p)
	for _, tc := range []struct {
		text PreprocessText
		want string
	}{
		{PreprocessText{Resize: "16"}, "--resize"},
		{PreprocessText{Scale: "0"}, "--scale"},
		{PreprocessText{Mean: "a"}, "--mean"},
		{PreprocessText{Std: "1,,2"}, "--std"},
		{PreprocessText{Color: "hsv"}, "--color"},
	} {
		_, err := tc.text.Parse()
		assert.ErrorContains(t, err, tc.want+": want", tc.text)
	}
}
