package golden

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"

	// The decoders image.DecodeConfig and image.Decode dispatch to.
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
)

// DefaultMaxPixels bounds the width × height of an image a dataset may
// decode (8192 × 4096): a file's header is read first and a larger image
// is refused before its pixels are allocated.
const DefaultMaxPixels = 1 << 25

// imageExts are the extensions decoded here (PNG, JPEG, BMP), lower case.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".bmp": true}

// otherImageExts are image formats the frameworks' folder readers list
// (Keras: .gif; torchvision: .ppm .pgm .tif .tiff .webp) that are not
// decoded here: a file with one of them is refused by name rather than
// skipped, so that no image of a dataset goes missing silently.
var otherImageExts = map[string]bool{".gif": true, ".webp": true, ".tif": true, ".tiff": true, ".ppm": true, ".pgm": true}

// isImage reports whether name has an extension decoded here.
func isImage(name string) bool { return imageExts[strings.ToLower(filepath.Ext(name))] }

// ImageError says an image file cannot be used: unreadable, not a PNG,
// JPEG or BMP, too large, or of a pixel format that is refused. Callers map
// it to a bad-input exit code.
type ImageError struct {
	File string
	Msg  string
}

func (e *ImageError) Error() string { return e.File + ": " + e.Msg }

// pixels is a decoded image: H×W×C float32 values in 0..255, row-major,
// channels last (C is 1 for gray images, 3 for color ones).
type pixels struct {
	h, w, c int
	data    []float32
}

// imageConfig reads path's header only and checks it: a regular file, a
// PNG, JPEG or BMP, at most maxPixels pixels.
func imageConfig(path string, maxPixels int) (image.Config, error) {
	f, err := openRegular(path)
	if err != nil {
		return image.Config{}, err
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return image.Config{}, &ImageError{File: path, Msg: fmt.Sprintf("not a decodable PNG, JPEG or BMP image: %v", err)}
	}
	if err := checkConfig(path, format, cfg, maxPixels); err != nil {
		return image.Config{}, err
	}
	return cfg, nil
}

// checkConfig refuses an image too large to decode or of a pixel format
// that is not 8 bits per channel.
func checkConfig(path, format string, cfg image.Config, maxPixels int) error {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return &ImageError{File: path, Msg: fmt.Sprintf("%s header declares %d×%d pixels", format, cfg.Width, cfg.Height)}
	}
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if cfg.Width > maxPixels/cfg.Height {
		return &ImageError{File: path, Msg: fmt.Sprintf("%s header declares %d×%d pixels, more than the %d allowed (refused before decoding)", format, cfg.Width, cfg.Height, maxPixels)}
	}
	switch cfg.ColorModel {
	case color.Gray16Model, color.RGBA64Model, color.NRGBA64Model:
		return &ImageError{File: path, Msg: fmt.Sprintf("16-bit %s images are not read (convert them to 8 bits per channel)", format)}
	case color.CMYKModel:
		return &ImageError{File: path, Msg: "CMYK JPEG images are not read (convert them to RGB)"}
	}
	return nil
}

// openRegular opens path for reading, refusing anything but a regular file
// (a FIFO would block, a device would never end).
func openRegular(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &ImageError{File: path, Msg: fmt.Sprintf("not a regular file (%v)", st.Mode().Type())}
	}
	return os.Open(path)
}

// decodeImage decodes path (its header checked first, as imageConfig does)
// into 0..255 values: gray images give one channel, all others three (R,
// G, B; an alpha channel is dropped, as PIL's convert("RGB") and TF's
// decode_png(channels=3) do).
func decodeImage(path string, maxPixels int) (*pixels, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return nil, &ImageError{File: path, Msg: fmt.Sprintf("not a decodable PNG, JPEG or BMP image: %v", err)}
	}
	if err := checkConfig(path, format, cfg, maxPixels); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := bufio.NewReader(f)
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, &ImageError{File: path, Msg: fmt.Sprintf("decoding: %v", err)}
	}
	return toPixels(img), nil
}

// toPixels converts a decoded 8-bit image to 0..255 float32 values.
func toPixels(img image.Image) *pixels {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	switch m := img.(type) {
	case *image.Gray:
		p := &pixels{h: h, w: w, c: 1, data: make([]float32, h*w)}
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				p.data[y*w+x] = float32(v)
			}
		}
		return p
	case *image.NRGBA:
		return rgbFrom(h, w, m.Pix, m.Stride, 4)
	case *image.RGBA:
		if m.Opaque() { // premultiplied equals straight
			return rgbFrom(h, w, m.Pix, m.Stride, 4)
		}
	case *image.YCbCr:
		// JPEG: the JFIF conversion in 8 bits (color.YCbCrToRGB), chroma
		// upsampled by replication (see the package doc on JPEG).
		p := &pixels{h: h, w: w, c: 3, data: make([]float32, h*w*3)}
		for y := range h {
			for x := range w {
				yi, ci := m.YOffset(b.Min.X+x, b.Min.Y+y), m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i := (y*w + x) * 3
				p.data[i], p.data[i+1], p.data[i+2] = float32(r), float32(g), float32(bl)
			}
		}
		return p
	}
	// Paletted PNGs, BMPs and the rest: each pixel's straight (not
	// premultiplied) color.
	p := &pixels{h: h, w: w, c: 3, data: make([]float32, h*w*3)}
	for y := range h {
		for x := range w {
			c, ok := img.At(b.Min.X+x, b.Min.Y+y).(color.NRGBA)
			if !ok {
				c = color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			}
			i := (y*w + x) * 3
			p.data[i], p.data[i+1], p.data[i+2] = float32(c.R), float32(c.G), float32(c.B)
		}
	}
	return p
}

// rgbFrom copies the R, G, B bytes of interleaved 8-bit pixels of n
// channels.
func rgbFrom(h, w int, pix []byte, stride, n int) *pixels {
	p := &pixels{h: h, w: w, c: 3, data: make([]float32, h*w*3)}
	for y := range h {
		row := pix[y*stride : y*stride+w*n]
		for x := range w {
			i := (y*w + x) * 3
			p.data[i], p.data[i+1], p.data[i+2] = float32(row[x*n]), float32(row[x*n+1]), float32(row[x*n+2])
		}
	}
	return p
}
