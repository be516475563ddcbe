package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/edgeval/edgeval/budget"
	"github.com/edgeval/edgeval/converter/quantize"
	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/internal/cliflags"
	"github.com/edgeval/edgeval/progress"
	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
)

// modelFlags are the flags of the commands that read or run a model
// (validate, run, convert, reference, locate, arch), in groups that each
// command registers as it needs. They are set into the libraries' option
// structs where the types agree; the others are text that options parses.
type modelFlags struct {
	o   validation.Options
	dev deviceFlags
	pre golden.PreprocessText
	// The text of the options without a flag type.
	inputRange, floatLayers, maxMemory, calibrationMethod, inputShape string
	// The command's own outputs.
	json, out, history              string
	reports                         report.Paths
	timeout                         time.Duration // convert and reference
	quiet, samplesSet, precisionSet bool
}

// deviceFlags choose the device and how the model runs there; explicit
// holds the flags given on the command line: only those override a
// profile's settings.
type deviceFlags struct {
	file     string
	open     devices.Options
	explicit map[string]bool
}

func (d *deviceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.file, "devices", "", "device profiles `FILE` (default ./devices.yaml, then $XDG_CONFIG_HOME/edgeval/devices.yaml)")
	fs.BoolVar(&d.open.AcceptNewHostKey, "accept-new-host-key", false, "record a board's unknown SSH host key in known_hosts (a changed key is always refused)")
}

func (f *modelFlags) registerDevice(fs *flag.FlagSet) {
	s := &f.dev.open.Session
	fs.StringVar(&f.o.Device, "device", "host", "device profile `NAME`s to run on, comma-separated ('host' is this machine; see validate devices)")
	f.dev.register(fs)
	fs.StringVar(&f.dev.open.Runtime, "runtime", "auto", "TFLite runtime: tflite (the TFLite C library, loaded at run time), litert (LiteRT WebAssembly under Node), or auto (on this machine: tflite when libtensorflowlite_c is found, else litert; a board's profile names its own)")
	fs.StringVar(&s.Signature, "signature", "", "SignatureDef to run (default: the first)")
	fs.IntVar(&s.Threads, "threads", 0, "interpreter threads (0: runtime default)")
	fs.StringVar(&s.Delegate, "delegate", "none", "delegate: none, xnnpack or edgetpu (tflite runtime only)")
	fs.DurationVar(&s.Timeout, "timeout", time.Minute, "time limit for loading the model (plus a second per 8 MiB of model) and for each inference")
}

// registerRun registers the flags of a timed run on a device.
func (f *modelFlags) registerRun(fs *flag.FlagSet) {
	f.registerDevice(fs)
	f.registerInputs(fs, 4)
	fs.StringVar(&f.json, "json", "", "write a JSON summary to `FILE` ('-' for stdout)")
	f.registerQuiet(fs)
	fs.IntVar(&f.o.Bench.Warmup, "warmup", 1, "untimed runs of the first sample before timing")
	fs.IntVar(&f.o.Bench.Runs, "runs", 0, "time at least `N` runs, cycling the samples (0: one per sample; outputs come from the first pass)")
	fs.DurationVar(&f.o.Bench.MinTime, "min-time", 0, "keep timing, cycling the samples, until the timed runs add up to `D` (like benchmark_model's --min_secs)")
}

func (f *modelFlags) registerQuiet(fs *flag.FlagSet) {
	fs.BoolVar(&f.quiet, "quiet", false, "print no steps and no progress on stderr (warnings and errors still)")
}

// registerInputs registers the flags that choose the inputs, with samples
// seeded random samples by default.
func (f *modelFlags) registerInputs(fs *flag.FlagSet, samples int) {
	f.o.Samples = samples
	fs.Var(cliflags.Int{N: &f.o.Samples, Given: &f.samplesSet}, "samples", "number of seeded random samples when --inputs is not given")
	fs.StringVar(&f.o.Inputs, "inputs", "", "inputs `FILE` (.npy for one input, .npz keyed by input name or arr_0...); the first axis is the sample axis")
	fs.Uint64Var(&f.o.Seed, "seed", 0, "seed for random inputs")
	fs.StringVar(&f.inputRange, "input-range", "-1,1", "`LO,HI` range of random float inputs (integer inputs span their full range)")
}

// registerSource registers the flags that say how to read MODEL.
func (f *modelFlags) registerSource(fs *flag.FlagSet) {
	fs.IntVar(&f.o.Batch, "batch", 1, "static batch size of the converted model (samples per run)")
	fs.StringVar(&f.o.ModelJSON, "model-json", "", "Keras architecture `FILE` (model.to_json()) for a weights-only .h5")
	fs.StringVar(&f.o.Arch, "arch", "", "architecture `FILE` (YAML) for a PyTorch state_dict")
	fs.BoolVar(&f.o.AllowUnused, "allow-unused", false, "accept weights in the model file that the architecture never reads (reported in the result) instead of refusing the model")
	f.registerPySource(fs)
}

// registerPySource registers the flags that read a PyTorch state_dict's
// architecture from the model's own Python source.
func (f *modelFlags) registerPySource(fs *flag.FlagSet) {
	p := &f.o.PySource
	fs.StringVar(&p.Path, "source", "", "PyTorch: read a state_dict's architecture from the model's own Python `FILE.py|FILE.ipynb` (never executed; see converter/torch/SOURCE.md)")
	fs.StringVar(&p.Class, "class", "", "with --source: the nn.Module subclass `NAME` (default: the one whose parameters match the file)")
	fs.StringVar(&p.ClassArgs, "class-args", "", "with --source: the class's constructor arguments as Python literals (`'10, width=32'`)")
	fs.StringVar(&f.inputShape, "input-shape", "", "with --source: the input shape `N,C,H,W` (default: inferred where the weights fix it)")
}

// registerImages registers the flags that read images, a labelled
// --dataset or image --inputs, and say how they become the model's input;
// accuracy adds --max-accuracy-drop (the commands that run a device).
func (f *modelFlags) registerImages(fs *flag.FlagSet, accuracy bool) {
	fs.StringVar(&f.o.Dataset, "dataset", "", "labelled data `DIR|FILE.npz`: a folder with one sub-folder per class (class index = sorted folder name, as torchvision's ImageFolder and Keras's image_dataset_from_directory), or an .npz with images x and labels y; reports top-1/top-5 accuracy of the reference and the device")
	fs.StringVar(&f.pre.Resize, "resize", "", "resize images to `H,W` (bilinear, as tf.image.resize; must be the model's input size)")
	fs.StringVar(&f.pre.Scale, "scale", "", "multiply pixel values (0..255) by `S`, e.g. 1/255")
	fs.StringVar(&f.pre.Mean, "mean", "", "subtract per-channel `M[,M,M]` after --scale (e.g. 0.485,0.456,0.406)")
	fs.StringVar(&f.pre.Std, "std", "", "divide by per-channel `S[,S,S]` after --mean (e.g. 0.229,0.224,0.225)")
	fs.StringVar(&f.pre.Color, "color", "", "channel order the model takes: rgb, bgr or gray (default: from the model's channels, 1 gray, 3 rgb)")
	fs.IntVar(&f.o.Limit, "limit", 0, "use at most the first `N` images (after --shuffle; 0: all)")
	fs.Func("shuffle", "shuffle the images with `SEED` before --limit", func(s string) error {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return usagef("--shuffle: want a seed (a non-negative integer), got %q", s)
		}
		f.o.Shuffle = &v
		return nil
	})
	f.o.MaxAccuracyDrop = 1
	if accuracy {
		fs.Float64Var(&f.o.MaxAccuracyDrop, "max-accuracy-drop", 1, "with --dataset: fail when the device's top-1 accuracy is more than `P` percentage points below the reference's (negative: report only)")
	}
	fs.Lookup("inputs").Usage = "inputs `FILE|DIR|IMAGE`: .npy for one input, .npz keyed by input name or arr_0... (the first axis is the sample axis), or unlabelled images: a PNG, JPEG or BMP file or a folder of them (prepared as with --dataset)"
	fs.Lookup("samples").Usage = "number of seeded random samples without --inputs or --dataset; with them, use the first `N` samples (default: all; more than the data holds is an error)"
}

// registerConversion registers the flags of a conversion made here:
// --calibration, --calibration-method and --float-layers (int8), and
// --int8-io and --nhwc-io with the usage texts given.
func (f *modelFlags) registerConversion(fs *flag.FlagSet, int8IO, nhwcIO string, floatLayers bool) {
	fs.StringVar(&f.o.Calibration, "calibration", "", "with --precision int8: calibrate on `DIR|FILE`, a set apart from the validation data: a folder of images (class sub-folders or not; prepared as the validation images), an image, .npy/.npz inputs, or a dataset .npz (up to 256 samples, spread over images); default: the validation inputs themselves. Identical samples in both are warned about")
	fs.StringVar(&f.calibrationMethod, "calibration-method", "minmax", "how int8 activation ranges are taken from the calibration samples, `METHOD`: minmax (as the TF converter) or percentile[:P] (the (100-P)th to Pth percentile of each tensor's values, exact; P default 99.99)")
	fs.BoolVar(&f.o.Int8IO, "int8-io", false, int8IO)
	fs.BoolVar(&f.o.NHWCIO, "nhwc-io", false, nhwcIO)
	if floatLayers {
		fs.StringVar(&f.floatLayers, "float-layers", "", "with --precision int8: keep the layers `L1,L2,…` in float32 (selective quantization), to see what it recovers; names as in 'validate locate'")
	}
}

// registerPrecision registers --precision.
func (f *modelFlags) registerPrecision(fs *flag.FlagSet, usage string) {
	fs.StringVar((*string)(&f.o.Precision), "precision", "float32", usage)
}

// noteGiven records which flags fs saw: a --tflite file's own precision is
// used unless --precision was given, and only given device flags override
// a profile.
func (f *modelFlags) noteGiven(fs *flag.FlagSet) {
	f.dev.noteExplicit(fs)
	f.precisionSet = f.dev.explicit["precision"]
}

func (d *deviceFlags) noteExplicit(fs *flag.FlagSet) { d.explicit = cliflags.Given(fs) }

// checkSamples checks --input-range and --samples before any work.
func (f *modelFlags) checkSamples() (validation.Range, error) {
	r, err := validation.ParseRange(f.inputRange)
	if err != nil {
		return r, usagef("%v", err)
	}
	if f.o.Samples < 1 {
		return r, usagef("--samples must be at least 1, got %d", f.o.Samples)
	}
	return r, nil
}

// options gives the library's options for MODEL; log receives the steps
// and the device's notices. The flags' own checks come first, with the
// flag's name in the message.
func (f *modelFlags) options(model string, log io.Writer) (validation.Options, error) {
	o := f.o
	var err error
	if o.Range, err = f.checkSamples(); err != nil {
		return o, err
	}
	if o.Batch < 1 {
		return o, usagef("--batch must be at least 1, got %d", o.Batch)
	}
	if o.Precision == "" {
		return o, usagef("--precision \"\": want float32, float16, dynamic or int8")
	}
	if o.NoiseSamples <= 0 {
		o.NoiseSamples = -1 // --noise-samples 0: not measured
	}
	if f.maxMemory != "" {
		if o.MaxMemory, err = budget.ParseLimit(f.maxMemory); errors.Is(err, budget.ErrNoLimit) {
			o.MaxMemory = -1
		} else if err != nil {
			return o, usagef("--max-memory: %v", err)
		}
	}
	if f.floatLayers != "" {
		o.FloatLayers = strings.Split(f.floatLayers, ",")
	}
	if !f.precisionSet && o.TFLite != "" {
		o.Precision = "" // read from the file
	}
	if p := o.PySource; p.Path == "" && (p.Class != "" || p.ClassArgs != "" || f.inputShape != "") {
		return o, usagef("--class, --class-args and --input-shape go with --source")
	}
	if o.PySource.InputShape, err = torch.ParseInputShape(f.inputShape); err != nil {
		return o, usagef("%v", err)
	}
	if !f.samplesSet {
		o.Samples = 0 // a file or a dataset gives all its samples, seeded samples their default count
	}
	o.Model, o.Tool, o.ReadHDF5 = model, versionString(), snapshotInChild
	o.Open = func(ctx context.Context, b []byte) (runtime.Session, error) { return f.openDevice(ctx, b, log) }
	o.Progress, o.Meter = f.steps(log), f.meter(log)
	if f.calibrationMethod != "" {
		if o.CalibrationMethod, err = quantize.ParseMethod(f.calibrationMethod); err != nil {
			return o, usagef("--calibration-method: %v", err)
		}
	}
	if o.MaxAccuracyDrop == 0 {
		o.MaxAccuracyDrop = 1e-12 // zero points means no drop at all, not the default
	}
	if o.Preprocess, err = f.pre.Parse(); err != nil {
		return o, usagef("%v", err)
	}
	return o, nil
}

// steps is where the steps of the work are written: log, or nowhere with
// --quiet.
func (f *modelFlags) steps(log io.Writer) io.Writer {
	if f.quiet {
		return nil
	}
	return log
}

// meter shows the progress of long work on log: a bar with an ETA on a
// terminal, a line every few seconds otherwise (CI logs), nothing with
// --quiet.
func (f *modelFlags) meter(log io.Writer) progress.Meter {
	if f.quiet || log == nil {
		return progress.None
	}
	return progress.New(log, progress.Auto)
}
