package validation

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

// calibration is the set an int8 conversion is calibrated on and what the
// result says about it.
type calibration struct {
	samples golden.Samples
	info    *compare.CalibrationInfo
	// sources name each sample for messages (a file, or "sample i of F").
	sources []string
}

// checkCalibration checks the calibration options against the rest
// (o resolved otherwise).
func (o *Options) checkCalibration() error {
	if o.Calibration == "" {
		return nil
	}
	switch {
	case o.TFLite != "":
		return usagef("--calibration %s: a --tflite file was calibrated where it was converted; give --calibration with a conversion made here", o.Calibration)
	case o.Precision.OrFloat32() != precision.Int8:
		// Dynamic range stores int8 weights from their own values and
		// quantizes activations at run time from each input's own range:
		// nothing is calibrated.
		return usagef("--calibration %s needs --precision int8: %s calibrates nothing (dynamic range quantizes weights from their own values and activations at run time)", o.Calibration, o.Precision.OrFloat32())
	}
	if _, err := os.Stat(o.Calibration); err != nil {
		return inputErr(fmt.Errorf("--calibration: %w", err))
	}
	return nil
}

// calibrationSet returns the samples an int8 conversion is calibrated
// on: up to CalibrationSamples of o.Calibration when given (spread
// evenly over a folder of images), else of the validation samples val
// (from data when they are images), as calibrationSamples picks them.
// A calibration set given apart is compared with the validation samples
// (every one: sha256 of its values after preprocessing), and the count
// of identical ones is recorded (Overlap) and warned about.
func (o *Options) calibrationSet(specs []golden.InputSpec, val golden.SampleReader, valPath string, data *golden.Dataset) (*calibration, []string, error) {
	info := &compare.CalibrationInfo{Method: o.CalibrationMethod.String(), Available: val.Len()}
	if o.Calibration == "" {
		info.Source, info.Path = compare.CalibrationValidation, valPath
		samples, err := calibrationSamples(val, data != nil)
		if err != nil {
			return nil, nil, inputErr(err)
		}
		info.Samples = len(samples)
		if valPath != "" {
			if info.SHA256, err = pathSHA256(valPath); err != nil {
				return nil, nil, inputErr(err)
			}
		}
		return &calibration{samples: samples, info: info}, nil, nil
	}
	info.Source, info.Path = compare.CalibrationSet, o.Calibration
	var err error
	if info.SHA256, err = pathSHA256(o.Calibration); err != nil {
		return nil, nil, inputErr(fmt.Errorf("--calibration: %w", err))
	}
	src, d, err := openCalibration(o.Calibration, specs, o.Preprocess)
	if err != nil {
		return nil, nil, inputErr(fmt.Errorf("--calibration: %w", err))
	}
	defer src.Close()
	info.Available = src.Len()
	c := &calibration{info: info}
	if c.samples, err = calibrationSamples(src, d != nil); err != nil {
		return nil, nil, inputErr(fmt.Errorf("--calibration: %w", err))
	}
	info.Samples = len(c.samples)
	for i := range c.samples {
		c.sources = append(c.sources, sampleSource(src, d, o.Calibration, calibrationIndex(src.Len(), len(c.samples), i, d != nil)))
	}
	warn, err := c.overlap(val, valPath, data)
	if err != nil {
		return nil, nil, inputErr(err)
	}
	return c, warn, nil
}

// calibrationIndex is the sample of n that calibrationSamples took as its
// i-th of k (spread: evenly over n).
func calibrationIndex(n, k, i int, spread bool) int {
	if !spread || k == n {
		return i
	}
	return i * n / k
}

// sampleSource names sample i of a source for messages.
func sampleSource(r golden.SampleReader, d *golden.Dataset, path string, i int) string {
	if d != nil {
		return d.Source(i * d.Batch())
	}
	return fmt.Sprintf("sample %d of %s", i, path)
}

// overlap counts the calibration samples identical to a validation
// sample, and warns when there are any.
func (c *calibration) overlap(val golden.SampleReader, valPath string, data *golden.Dataset) ([]string, error) {
	seen := make(map[[32]byte]int, len(c.samples))
	for i, s := range c.samples {
		if _, dup := seen[sampleHash(s)]; !dup {
			seen[sampleHash(s)] = i
		}
	}
	hit := map[int]bool{}
	var first string
	for j := range val.Len() {
		s, err := val.Sample(j)
		if err != nil {
			return nil, err
		}
		i, ok := seen[sampleHash(s)]
		if !ok {
			continue
		}
		if first == "" {
			first = fmt.Sprintf("%s = %s", c.sources[i], sampleSource(val, data, validationName(valPath), j))
		}
		hit[i] = true
	}
	// Duplicates inside the calibration set count as often as they occur.
	n := 0
	for _, s := range c.samples {
		if hit[seen[sampleHash(s)]] {
			n++
		}
	}
	c.info.Overlap = n
	if n == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("--calibration %s overlaps the validation data: %d of its %d calibration samples are identical to validation samples (e.g. %s); a model calibrated on the data it is judged on looks better than it will on new data", c.info.Path, n, len(c.samples), first)}, nil
}

// validationName names the validation samples in messages.
func validationName(path string) string {
	if path == "" {
		return "the seeded samples"
	}
	return path
}

// sampleHash is the sha256 of a sample's tensors: dtype, shape and values.
func sampleHash(s []*tensor.Tensor) [32]byte {
	h := sha256.New()
	var b [8]byte
	for _, t := range s {
		h.Write([]byte(t.DType.String()))
		for _, d := range t.Shape {
			binary.LittleEndian.PutUint64(b[:], uint64(d))
			h.Write(b[:])
		}
		h.Write(t.Data)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// openCalibration opens a calibration set: a folder of images (with one
// sub-folder per class, as a --dataset, or the images directly in it), an
// image file, an .npy or .npz of inputs (keyed as --inputs), or an .npz
// with images x (and labels y, not used) as a --dataset. Images are
// prepared with pre, as the validation images are.
func openCalibration(path string, specs []golden.InputSpec, pre golden.Preprocess) (inputSource, *golden.Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	do := golden.DatasetOptions{Preprocess: pre}
	var d *golden.Dataset
	switch {
	case st.IsDir():
		labelled, err := hasSubfolders(path)
		if err != nil {
			return nil, nil, err
		}
		if labelled {
			d, err = golden.OpenDataset(path, specs, do)
		} else {
			d, err = golden.OpenImages(path, specs, do)
		}
		if err != nil {
			return nil, nil, err
		}
	case golden.IsImageFile(path):
		if d, err = golden.OpenImages(path, specs, do); err != nil {
			return nil, nil, err
		}
	default:
		s, err := golden.OpenInputs(path, specs)
		if err == nil {
			ns, err := nonEmpty(s, path)
			return ns, nil, err
		}
		if strings.ToLower(filepath.Ext(path)) != ".npz" {
			return nil, nil, err
		}
		// An .npz of images and labels, as a --dataset takes it.
		var derr error
		if d, derr = golden.OpenDataset(path, specs, do); derr != nil {
			return nil, nil, fmt.Errorf("%w (nor is it a dataset .npz: %v)", err, derr)
		}
	}
	s, err := nonEmpty(d, path)
	return s, d, err
}

// nonEmpty refuses a source without samples; it closes s then.
func nonEmpty(s inputSource, path string) (inputSource, error) {
	if s.Len() == 0 {
		s.Close()
		return nil, fmt.Errorf("%s: holds no samples", path)
	}
	return s, nil
}

// hasSubfolders reports whether the folder holds folders (a labelled
// layout) rather than images only.
func hasSubfolders(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.IsDir() {
			return true, nil
		}
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && st.IsDir() {
				return true, nil
			}
		}
	}
	return false, nil
}
