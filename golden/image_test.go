package golden

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"

	"github.com/edgeval/edgeval/tensor"
)

// imagesDir holds a real photograph's crop and what TensorFlow and PIL
// make of it (testdata/gen/gen_images.py).
const imagesDir = "testdata/images"

func referenceArrays(t *testing.T) map[string]*tensor.Tensor {
	t.Helper()
	arrays, err := tensor.ReadNPZ(filepath.Join(imagesDir, "reference.npz"))
	require.NoError(t, err)
	out := map[string]*tensor.Tensor{}
	for _, a := range arrays {
		out[a.Name] = a.Tensor
	}
	return out
}

// diff returns the largest and mean absolute difference of got and want
// (want as float64 values).
func diff(t *testing.T, got []float32, want *tensor.Tensor) (maxAbs, meanAbs float64) {
	t.Helper()
	w := want.Float64s()
	require.Len(t, got, len(w))
	for i, v := range got {
		d := math.Abs(float64(v) - w[i])
		maxAbs = max(maxAbs, d)
		meanAbs += d
	}
	return maxAbs, meanAbs / float64(len(w))
}

func TestResizeMatchesTensorFlow(t *testing.T) {
	ref := referenceArrays(t)
	photo, err := decodeImage(filepath.Join(imagesDir, "photo.png"), 0)
	require.NoError(t, err)
	require.Equal(t, [3]int{48, 64, 3}, [3]int{photo.h, photo.w, photo.c})
	gray, err := decodeImage(filepath.Join(imagesDir, "gray.png"), 0)
	require.NoError(t, err)
	require.Equal(t, 1, gray.c)
	sizes := [][2]int{{48, 64}, {20, 27}, {113, 90}, {7, 150}, {1, 1}}
	for _, s := range sizes {
		for _, src := range []struct {
			name string
			p    *pixels
		}{{"resize", photo}, {"resize_gray", gray}} {
			key := fmt.Sprintf("%s_%dx%d", src.name, s[0], s[1])
			t.Run(key, func(t *testing.T) {
				got := resizeBilinear(src.p, s[0], s[1])
				want := ref[key]
				require.NotNil(t, want, key)
				assert.Equal(t, []int{s[0], s[1], src.p.c}, want.Shape)
				maxAbs, _ := diff(t, got.data, want)
				// float32 arithmetic in TF's order: equal to the bit.
				assert.Zero(t, maxAbs, "tf.image.resize(bilinear) differs")
			})
		}
	}
	t.Run("upscaling equals PIL's bilinear up to its uint8 rounding", func(t *testing.T) {
		// PIL blends in fixed point and rounds to uint8: one level at most.
		got := resizeBilinear(photo, 113, 90)
		maxAbs, meanAbs := diff(t, got.data, ref["pil_up_113x90"])
		t.Logf("vs PIL's Image.resize(BILINEAR): max abs %.3f, mean abs %.3f levels", maxAbs, meanAbs)
		assert.LessOrEqual(t, maxAbs, 1.0)
		assert.LessOrEqual(t, meanAbs, 0.3)
	})
	t.Run("digits 8x8 to 16x16", func(t *testing.T) {
		d := ref["digits"]
		up := ref["digits_up"]
		for i := range d.Shape[0] {
			p := &pixels{h: 8, w: 8, c: 1, data: d.Float32s()[i*64 : (i+1)*64]}
			got := resizeBilinear(p, 16, 16)
			w := tensor.FromFloat32([]int{16 * 16}, up.Float32s()[i*256:(i+1)*256])
			maxAbs, _ := diff(t, got.data, w)
			assert.LessOrEqual(t, maxAbs, 3e-5)
		}
	})
}

func TestGrayMatchesTensorFlow(t *testing.T) {
	ref := referenceArrays(t)
	photo, err := decodeImage(filepath.Join(imagesDir, "photo.png"), 0)
	require.NoError(t, err)
	tg := &target{c: 1}
	got := tg.channels(photo)
	maxAbs, _ := diff(t, got.data, ref["gray_tf"])
	assert.LessOrEqual(t, maxAbs, 1e-4, "tf.image.rgb_to_grayscale differs")
}

// TestJPEGAgainstLibjpeg measures Go's JPEG decoder against libjpeg-turbo
// as TensorFlow and PIL call it, on a real photograph's 4:2:0 JPEG. They
// differ: libjpeg upsamples chroma with a triangle filter ("fancy
// upsampling"), Go replicates it. The bounds pin the measured difference.
func TestJPEGAgainstLibjpeg(t *testing.T) {
	ref := referenceArrays(t)
	p, err := decodeImage(filepath.Join(imagesDir, "photo.jpg"), 0)
	require.NoError(t, err)
	for _, key := range []string{"jpeg_tf", "jpeg_pil"} {
		maxAbs, meanAbs := diff(t, p.data, ref[key])
		t.Logf("Go image/jpeg vs %s: max abs %.0f, mean abs %.3f levels (of 255)", key, maxAbs, meanAbs)
		assert.LessOrEqual(t, meanAbs, 2.0)
		assert.LessOrEqual(t, maxAbs, 40.0)
	}
}

func TestDecodeFormats(t *testing.T) {
	photo, err := decodeImage(filepath.Join(imagesDir, "photo.png"), 0)
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(imagesDir, "photo.png"))
	require.NoError(t, err)
	img, err := png.Decode(f)
	f.Close()
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name string, enc func(*bytes.Buffer) error) string {
		var b bytes.Buffer
		require.NoError(t, enc(&b))
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
		return p
	}
	// The same pixels in other containers and pixel formats.
	nrgba := image.NewNRGBA(img.Bounds())
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.NRGBA{10, 20, 30, 128}, color.RGBA{40, 50, 60, 255}})
	pal.Pix = []uint8{0, 1}
	for y := range 48 {
		for x := range 64 {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			c.A = uint8(x * 4) // any alpha: dropped, the straight color kept
			nrgba.SetNRGBA(x, y, c)
		}
	}
	tests := []struct {
		name string
		file string
		want []float32
	}{
		{"bmp", write("a.bmp", func(b *bytes.Buffer) error { return bmp.Encode(b, img) }), photo.data},
		{"png with alpha", write("a.png", func(b *bytes.Buffer) error { return png.Encode(b, nrgba) }), photo.data},
		{"paletted png with transparency", write("p.png", func(b *bytes.Buffer) error { return png.Encode(b, pal) }), []float32{10, 20, 30, 40, 50, 60}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeImage(tc.file, 0)
			require.NoError(t, err)
			assert.Equal(t, 3, p.c)
			assert.Equal(t, tc.want, p.data)
		})
	}
}

// pngHeader returns a PNG signature and IHDR chunk declaring w×h 8-bit RGB
// pixels, and nothing else.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // bit depth, color type RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestHostileImagesRefusedBeforeAllocating(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.png")
	require.NoError(t, os.WriteFile(huge, pngHeader(100000, 100000), 0o644))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := decodeImage(huge, 0)
	runtime.ReadMemStats(&after)
	var ie *ImageError
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, err.Error(), "100000×100000 pixels, more than the 33554432 allowed")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "no pixel buffer may be allocated")

	_, err = imageConfig(huge, 0)
	assert.ErrorAs(t, err, &ie)

	fifo := filepath.Join(dir, "fifo.png")
	if syscall.Mkfifo(fifo, 0o644) == nil {
		_, err = decodeImage(fifo, 0)
		assert.ErrorContains(t, err, "not a regular file")
	}
	junk := filepath.Join(dir, "junk.png")
	require.NoError(t, os.WriteFile(junk, []byte("not an image"), 0o644))
	_, err = decodeImage(junk, 0)
	assert.ErrorContains(t, err, "not a decodable PNG, JPEG or BMP image")
	truncated := filepath.Join(dir, "truncated.png")
	whole, err := os.ReadFile(filepath.Join(imagesDir, "photo.png"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, whole[:len(whole)/2], 0o644))
	_, err = decodeImage(truncated, 0)
	assert.ErrorContains(t, err, "decoding")
	var b16 bytes.Buffer
	require.NoError(t, png.Encode(&b16, image.NewGray16(image.Rect(0, 0, 4, 4))))
	g16 := filepath.Join(dir, "g16.png")
	require.NoError(t, os.WriteFile(g16, b16.Bytes(), 0o644))
	_, err = decodeImage(g16, 0)
	assert.ErrorContains(t, err, "16-bit")
}
