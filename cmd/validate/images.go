package main

import (
	"flag"
	"strconv"

	"github.com/edgeval/edgeval/converter/quantize"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/validation"
)

// imageFlags are the flags that read images, a labelled --dataset or
// image --inputs, and say how they become the model's input.
type imageFlags struct {
	dataset         string
	resize          string
	scale           string
	mean            string
	std             string
	color           string
	limit           int
	shuffle         *uint64
	maxAccuracyDrop float64
	// calibration and calibrationMethod are --calibration and
	// --calibration-method.
	calibration       string
	calibrationMethod string
}

// register registers the flags; accuracy adds --max-accuracy-drop (for
// the commands that run a device).
func (f *imageFlags) register(fs *flag.FlagSet, accuracy bool) {
	fs.StringVar(&f.dataset, "dataset", "", "labelled data `DIR|FILE.npz`: a folder with one sub-folder per class (class index = sorted folder name, as torchvision's ImageFolder and Keras's image_dataset_from_directory), or an .npz with images x and labels y; reports top-1/top-5 accuracy of the reference and the device")
	fs.StringVar(&f.resize, "resize", "", "resize images to `H,W` (bilinear, as tf.image.resize; must be the model's input size)")
	fs.StringVar(&f.scale, "scale", "", "multiply pixel values (0..255) by `S`, e.g. 1/255")
	fs.StringVar(&f.mean, "mean", "", "subtract per-channel `M[,M,M]` after --scale (e.g. 0.485,0.456,0.406)")
	fs.StringVar(&f.std, "std", "", "divide by per-channel `S[,S,S]` after --mean (e.g. 0.229,0.224,0.225)")
	fs.StringVar(&f.color, "color", "", "channel order the model takes: rgb, bgr or gray (default: from the model's channels, 1 gray, 3 rgb)")
	fs.IntVar(&f.limit, "limit", 0, "use at most the first `N` images (after --shuffle; 0: all)")
	fs.Func("shuffle", "shuffle the images with `SEED` before --limit", func(s string) error {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return usagef("--shuffle: want a seed (a non-negative integer), got %q", s)
		}
		f.shuffle = &v
		return nil
	})
	f.maxAccuracyDrop = 1
	if !accuracy {
		return
	}
	fs.Float64Var(&f.maxAccuracyDrop, "max-accuracy-drop", 1, "with --dataset: fail when the device's top-1 accuracy is more than `P` percentage points below the reference's (negative: report only)")
}

// registerCalibration registers --calibration and --calibration-method
// (the commands that make an int8 conversion).
func (f *imageFlags) registerCalibration(fs *flag.FlagSet) {
	fs.StringVar(&f.calibration, "calibration", "", "with --precision int8: calibrate on `DIR|FILE`, a set apart from the validation data: a folder of images (class sub-folders or not; prepared as the validation images), an image, .npy/.npz inputs, or a dataset .npz (up to 256 samples, spread over images); default: the validation inputs themselves. Identical samples in both are warned about")
	fs.StringVar(&f.calibrationMethod, "calibration-method", "minmax", "how int8 activation ranges are taken from the calibration samples, `METHOD`: minmax (as the TF converter) or percentile[:P] (the (100-P)th to Pth percentile of each tensor's values, exact; P default 99.99)")
}

// apply parses the flags into o.
func (f *imageFlags) apply(o *validation.Options) error {
	o.Dataset, o.Limit, o.Shuffle = f.dataset, f.limit, f.shuffle
	o.Calibration = f.calibration
	if f.calibrationMethod != "" {
		m, err := quantize.ParseMethod(f.calibrationMethod)
		if err != nil {
			return usagef("--calibration-method: %v", err)
		}
		o.CalibrationMethod = m
	}
	o.MaxAccuracyDrop = f.maxAccuracyDrop
	if f.maxAccuracyDrop == 0 {
		o.MaxAccuracyDrop = 1e-12 // zero points means no drop at all, not the default
	}
	pre := &o.Preprocess
	var err error
	if f.resize != "" {
		if pre.Resize, err = golden.ParseResize(f.resize); err != nil {
			return usagef("%v", err)
		}
	}
	if f.scale != "" {
		if pre.Scale, err = golden.ParseScale(f.scale); err != nil {
			return usagef("%v", err)
		}
	}
	if f.mean != "" {
		if pre.Mean, err = golden.ParseFloats("--mean", f.mean); err != nil {
			return usagef("%v", err)
		}
	}
	if f.std != "" {
		if pre.Std, err = golden.ParseFloats("--std", f.std); err != nil {
			return usagef("%v", err)
		}
	}
	if pre.Color, err = golden.ParseColor(f.color); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// samplesValue is the --samples flag: an int that remembers whether it was
// given, since without it --inputs and --dataset use all their samples.
type samplesValue struct {
	n   *int
	set *bool
}

func (v samplesValue) String() string {
	if v.n == nil {
		return ""
	}
	return strconv.Itoa(*v.n)
}

func (v samplesValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	*v.n, *v.set = n, true
	return nil
}
