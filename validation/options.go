package validation

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/edgeval/edgeval/compare"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/converter/quantize"
	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/progress"
	"github.com/edgeval/edgeval/runtime"
)

// Defaults for the zero values of Options.
const (
	// DefaultSamples is the number of seeded random samples.
	DefaultSamples = 4
	// DefaultNoiseSamples bounds the samples the noise floor is measured on.
	DefaultNoiseSamples = 4
)

// DefaultRange is the range of random float inputs.
var DefaultRange = Range{Lo: -1, Hi: 1}

// Opener opens a .tflite model on the device under test. The session's
// Info names the runtime in the result; a devices.Session also gives the
// device's facts and its first inference.
type Opener func(ctx context.Context, model []byte) (runtime.Session, error)

// Local opens models on this machine in the registered runtime name
// ("litert", or "tflite" in a -tags tflite build); the runtime's package
// must be imported for its registration.
func Local(name string, o runtime.Options) Opener {
	return func(ctx context.Context, model []byte) (runtime.Session, error) {
		rt, err := runtime.Get(name)
		if err != nil {
			return nil, err
		}
		return rt.Open(ctx, model, o)
	}
}

// Range is the range of random float inputs (integer inputs span their
// type's full range).
type Range struct{ Lo, Hi float64 }

// ParseRange parses "LO,HI" with LO < HI.
func ParseRange(s string) (Range, error) {
	parts := strings.Split(s, ",")
	if len(parts) == 2 {
		lo, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
		hi, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
		if err1 == nil && err2 == nil && lo < hi {
			return Range{Lo: lo, Hi: hi}, nil
		}
	}
	return Range{}, usagef("--input-range: want LO,HI with LO < HI, got %q", s)
}

// Options are one validation's settings. Only Model and Open are required:
// every zero value means the validate command's default.
type Options struct {
	// Model is the source model file: .h5, .hdf5, .keras, .pth, .pt or .pt2.
	Model string
	// ModelJSON is the Keras architecture (model.to_json()) of a
	// weights-only .h5 (--model-json).
	ModelJSON string
	// Arch is the architecture YAML of a PyTorch state_dict (--arch).
	Arch string
	// PySource reads a PyTorch state_dict's architecture from its model
	// source (--source, --class, --class-args, --input-shape).
	PySource torch.SourceOptions
	// AllowUnused accepts weights the architecture never reads; they are
	// listed in the result (--allow-unused). Without it they fail the run.
	AllowUnused bool

	// Inputs is the inputs file (.npy for one input, .npz keyed by input
	// name; the first axis is the sample axis), or unlabelled images: an
	// image file (PNG, JPEG, BMP) or a folder of them, prepared by
	// Preprocess. Without it (and without Dataset), Samples seeded random
	// samples over Range are drawn.
	Inputs string
	// Dataset is a labelled dataset (--dataset): a folder with one
	// sub-folder per class (ImageFolder layout: class index = sorted
	// folder name) or an .npz with images x and labels y. Its images are
	// the samples, prepared by Preprocess, and the result reports the
	// reference's and the device's accuracy (Result.Accuracy), judged by
	// MaxAccuracyDrop.
	Dataset string
	// Preprocess turns images (Dataset, or image Inputs) into the model's
	// input: resize, scale, per-channel mean and std, channel order. The
	// layout (NHWC, NCHW) and an integer input's quantization come from
	// the model.
	Preprocess golden.Preprocess
	// Limit keeps at most the first Limit images of Dataset or image
	// Inputs (after shuffling; 0: all).
	Limit int
	// Shuffle, when set, shuffles the images of Dataset or image Inputs
	// with this seed before Limit applies.
	Shuffle *uint64
	// MaxAccuracyDrop is the largest drop of top-1 accuracy from the
	// reference to the device, in percentage points, that passes (0:
	// compare.DefaultMaxAccuracyDrop, 1 point; negative: reported, never
	// judged).
	MaxAccuracyDrop float64
	// AccuracyOutput names the output whose class scores are judged
	// against Dataset's labels ("": the model's only output of rank 2).
	AccuracyOutput string
	// Samples is the number of random samples (0: DefaultSamples). With
	// Inputs or Dataset it takes the first Samples of the data (0: all of
	// them), and more than the data holds is an error.
	Samples int
	// Seed seeds the random samples.
	Seed uint64
	// Range is the range of random float inputs (zero: DefaultRange).
	Range Range
	// Expected is the framework's own outputs on Inputs (.npy or .npz keyed
	// by output name): the Go reference must agree with them, or the run
	// fails as a misread model (--expected).
	Expected string
	// NoiseSamples bounds the samples the model's float32 noise floor is
	// measured on (0: DefaultNoiseSamples; negative: not measured).
	NoiseSamples int

	// TFLite is a .tflite converted elsewhere, checked instead of
	// converting Model (--tflite).
	TFLite string
	// Batch is the converted model's static batch size (0: 1).
	Batch int
	// Precision is the conversion's precision ("": float32); the tolerance
	// follows it. With TFLite, the precision is read from the file
	// (tflite.DetectPrecision) and a Precision that contradicts it is a
	// *PrecisionMismatchError; "" takes the file's.
	Precision precision.Precision
	// Int8IO gives an int8 conversion int8 inputs and outputs.
	Int8IO bool
	// NHWCIO gives a PyTorch model's conversion channels-last inputs and
	// outputs.
	NHWCIO bool
	// FloatLayers keeps these layers float32 in an int8 conversion
	// (selective quantization; see ConvertOptions.FloatLayers).
	FloatLayers []string
	// Calibration is the set an int8 conversion is calibrated on, apart
	// from the validation data (--calibration): a folder of images (one
	// sub-folder per class, or the images directly in it) or an image
	// file, prepared by Preprocess as the validation images are, or an
	// .npy/.npz of inputs (as Inputs; an .npz of images x and labels y is
	// read as a Dataset). Up to CalibrationSamples of it are used, spread
	// evenly over images. Every validation sample is compared with it and
	// identical ones are warned about (Result.Calibration.Overlap). ""
	// calibrates on the validation samples themselves. Only for an int8
	// conversion made here.
	Calibration string
	// CalibrationMethod is how each activation's range is taken from the
	// calibration samples (zero: min/max, as the TF converter).
	CalibrationMethod quantize.Method

	// Open opens the .tflite on the device (required).
	Open Opener
	// FarmJob names the board-farm job that runs the model when a farm
	// (LAVA) runs it rather than Open's device: every result carries it,
	// a run that failed to open included.
	FarmJob *compare.FarmJob
	// Device names the device in the result and in messages.
	Device string
	// Bench is the timed loop (warm-up, runs, minimum time) on the device.
	// Its zero value times each sample once, without a warm-up.
	Bench bench.Options

	// OutDir, when set, receives model.tflite, inputs.npz, reference.npz,
	// device.npz and result.json (and layers.json, the per-layer table,
	// when a failed run was located layer by layer), and the repro bundle
	// as OutDir/repro (else ./edgeval-repro/MODEL-TIME).
	OutDir string
	// Progress receives one line per step ("validate: ..."); nil is quiet.
	Progress io.Writer
	// Meter follows the samples of the long stages (the reference, the
	// device); nil shows nothing.
	Meter progress.Meter
	// Tool names the tool and its version in the result and the repro
	// bundle (default "edgeval").
	Tool string
	// MaxMemory bounds the memory the validation may hold on this machine,
	// checked from the graph's shapes before anything big is allocated
	// (0: budget.DefaultLimit, half the physical memory; negative: no
	// limit). A model beyond it is refused with a *budget.Error naming its
	// largest tensors.
	MaxMemory int64
	// ReadHDF5 reads HDF5 files for the Keras front-end; nil reads them in
	// this process. The validate command reads them in a child process, so
	// that a corrupt file crashes the child and not the command.
	ReadHDF5 func(path string, opts hdf5.SnapshotOptions) (*hdf5.Snapshot, error)

	// precisionGiven records, once resolved, that Precision was set rather
	// than defaulted (a --tflite file's own precision then must agree).
	precisionGiven bool
}

// resolved returns o with its defaults filled in, or a *UsageError.
func (o Options) resolved() (Options, error) {
	if o.Open == nil {
		return o, usagef("validation: no Opener: Options.Open says how to open the model on the device")
	}
	return o.resolvedOffline()
}

// resolvedOffline is resolved for work that opens no device (ConvertModel,
// Reference): Open may be nil.
func (o Options) resolvedOffline() (Options, error) {
	if err := o.resolveData(); err != nil {
		return o, err
	}
	if o.NoiseSamples == 0 {
		o.NoiseSamples = DefaultNoiseSamples
	}
	if o.Batch == 0 {
		o.Batch = 1
	}
	if o.Batch < 1 {
		return o, usagef("--batch must be at least 1, got %d", o.Batch)
	}
	o.precisionGiven = o.Precision != ""
	p, err := precision.Parse(string(o.Precision))
	if err != nil {
		return o, usagef("--precision %q: want float32, float16, dynamic or int8", o.Precision)
	}
	o.Precision = p
	if o.Int8IO && (p != precision.Int8 || o.TFLite != "") {
		return o, usagef("--int8-io needs --precision int8 and a conversion made here (not --tflite)")
	}
	if len(o.FloatLayers) > 0 && (p != precision.Int8 || o.TFLite != "") {
		return o, usagef("--float-layers needs --precision int8 and a conversion made here (not --tflite)")
	}
	if err := o.checkCalibration(); err != nil {
		return o, err
	}
	if o.Expected != "" && o.Inputs == "" && o.Dataset == "" {
		return o, usagef("--expected %s needs --inputs: the framework's outputs belong to specific inputs", o.Expected)
	}
	if o.Tool == "" {
		o.Tool = "edgeval"
	}
	return o, nil
}

// resolveData checks the settings that choose the samples and fills in
// their defaults.
func (o *Options) resolveData() error {
	if o.Dataset != "" && o.Inputs != "" {
		return usagef("--dataset %s and --inputs %s: give one (the dataset's images are the inputs)", o.Dataset, o.Inputs)
	}
	if o.Dataset == "" && o.Inputs == "" {
		if err := sampleDefaults(&o.Samples, &o.Range); err != nil {
			return err
		}
	} else if o.Samples < 0 {
		return usagef("--samples must be at least 1, got %d", o.Samples)
	}
	if o.Limit < 0 {
		return usagef("--limit must be at least 0, got %d", o.Limit)
	}
	if math.IsNaN(o.MaxAccuracyDrop) || math.IsInf(o.MaxAccuracyDrop, 0) {
		return usagef("--max-accuracy-drop: want a number of percentage points, got %v", o.MaxAccuracyDrop)
	}
	images := o.Dataset != "" || isImageInput(o.Inputs)
	if !images {
		pre := o.Preprocess
		var set []string
		if isImageInput(o.Calibration) {
			// The preprocessing flags prepare the calibration images.
			pre = golden.Preprocess{}
		}
		if pre.Resize != [2]int{} {
			set = append(set, "--resize")
		}
		if pre.Scale != 0 {
			set = append(set, "--scale")
		}
		if len(pre.Mean) > 0 {
			set = append(set, "--mean")
		}
		if len(pre.Std) > 0 {
			set = append(set, "--std")
		}
		if pre.Color != golden.ColorAuto {
			set = append(set, "--color")
		}
		if o.Limit > 0 {
			set = append(set, "--limit")
		}
		if o.Shuffle != nil {
			set = append(set, "--shuffle")
		}
		if len(set) > 0 {
			return usagef("%s apply to images: give --dataset DIR|FILE.npz, or --inputs with an image file or a folder of images", strings.Join(set, ", "))
		}
	}
	return nil
}

// isImageInput reports whether an --inputs path names images: a folder,
// or a PNG, JPEG or BMP file.
func isImageInput(path string) bool {
	if path == "" {
		return false
	}
	if golden.IsImageFile(path) {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func (o *Options) step(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "validate: "+format+"\n", args...)
	}
}

// meter is o.Meter, or progress.None.
func (o *Options) meter() progress.Meter {
	if o.Meter == nil {
		return progress.None
	}
	return o.Meter
}
