package golden

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/tensor"
)

// DatasetOptions say which images of a dataset are used and how they
// become model inputs.
type DatasetOptions struct {
	Preprocess
	// Limit keeps at most the first Limit images (after shuffling); 0
	// keeps all.
	Limit int
	// Shuffle shuffles the images with a generator seeded by Seed (PCG,
	// tensor.NewPCG) before Limit applies. Without it the order is the
	// frameworks' (class by class, files sorted).
	Shuffle bool
	Seed    uint64
	// MaxPixels bounds an image's width × height (0: DefaultMaxPixels).
	MaxPixels int
}

// Dataset gives the images of a folder, an image file or the x array of an
// .npz as model inputs, one run at a time, with their labels when it has
// them. Images are decoded and preprocessed when a run is asked for, so
// memory does not grow with the number of images; the headers of every
// selected image are checked (size, format) when the dataset is opened.
// Its methods are safe for concurrent use. It is a SampleReader, of runs
// of the model's batch size (normally one image per run).
type Dataset struct {
	path    string
	t       *target
	files   []string // the images, in run order (folders and image files)
	labels  []int    // the class of each image (nil: unlabelled)
	classes []string // class names, by index
	skipped []string
	// x and rows, for an .npz: its x array read an image at a time, and
	// the row of each image.
	x    *InputStream
	rows []int
	maxP int
	// available is how many images were listed before Limit.
	available int
}

// OpenDataset opens a labelled dataset: a folder with one sub-folder per
// class (ImageFolder layout: the class index is the position of the folder
// name in sorted order, as torchvision's ImageFolder and Keras's
// image_dataset_from_directory number them; images in each class folder
// and below, in sorted order), or an .npz with an image array x ([N,H,W,C]
// or [N,C,H,W] as the model takes it) and integer labels y ([N]).
// specs are the model's inputs: there must be one, of rank 4, with a
// layout. The caller must Close the dataset.
func OpenDataset(path string, specs []InputSpec, o DatasetOptions) (*Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return openFolder(path, specs, o, true)
	}
	if strings.ToLower(filepath.Ext(path)) == ".npz" {
		return openNPZ(path, specs, o)
	}
	return nil, fmt.Errorf("%s: a labelled dataset is a folder with one sub-folder per class, or an .npz with arrays x and y", path)
}

// OpenImages opens unlabelled images: a folder of PNG, JPEG or BMP files
// (not its sub-folders), or one image file. See OpenDataset.
func OpenImages(path string, specs []InputSpec, o DatasetOptions) (*Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return openFolder(path, specs, o, false)
	}
	if !isImage(path) {
		return nil, &ImageError{File: path, Msg: "not a .png, .jpg, .jpeg or .bmp file"}
	}
	t, err := datasetTarget(path, specs, o)
	if err != nil {
		return nil, err
	}
	d := &Dataset{path: path, t: t, files: []string{path}, maxP: o.MaxPixels, available: 1}
	return d, d.check()
}

// IsImageFile reports whether path names a PNG, JPEG or BMP file by its
// extension (what OpenImages reads, rather than an .npy/.npz).
func IsImageFile(path string) bool { return isImage(path) }

func datasetTarget(path string, specs []InputSpec, o DatasetOptions) (*target, error) {
	if len(specs) != 1 {
		return nil, fmt.Errorf("%s: images feed a model of one input; this one has %d", path, len(specs))
	}
	if o.Limit < 0 {
		return nil, fmt.Errorf("--limit must be at least 0, got %d", o.Limit)
	}
	t, err := targetFor(specs[0], o.Preprocess)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// openFolder lists a folder: class sub-folders when labelled, else the
// images directly in it.
func openFolder(root string, specs []InputSpec, o DatasetOptions, labelled bool) (*Dataset, error) {
	t, err := datasetTarget(root, specs, o)
	if err != nil {
		return nil, err
	}
	d := &Dataset{path: root, t: t, maxP: o.MaxPixels}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var subdirs []string
	for _, e := range entries { // sorted by name
		p := filepath.Join(root, e.Name())
		isDir, err := dirEntryIsDir(p, e)
		if err != nil {
			return nil, err
		}
		switch {
		case isDir:
			subdirs = append(subdirs, e.Name())
		case labelled && isImage(e.Name()):
			return nil, &ImageError{File: p, Msg: "an image at the dataset's top level belongs to no class: put it in a class folder, or read unlabelled images with --inputs"}
		case !labelled:
			if err := d.add(p, e.Name(), -1); err != nil {
				return nil, err
			}
		default:
			d.skipped = append(d.skipped, p)
		}
	}
	if labelled {
		if len(subdirs) == 0 {
			return nil, fmt.Errorf("%s: no class sub-folders (a labelled dataset has one folder per class; unlabelled images go with --inputs)", root)
		}
		d.classes = subdirs
		for c, name := range subdirs {
			if err := d.walkClass(filepath.Join(root, name), c); err != nil {
				return nil, err
			}
		}
	}
	if len(d.files) == 0 {
		what := "no .png, .jpg, .jpeg or .bmp images"
		if !labelled && len(subdirs) > 0 {
			what += fmt.Sprintf(" (its %d sub-folders are not read: a labelled dataset of class folders goes with --dataset)", len(subdirs))
		}
		return nil, fmt.Errorf("%s: %s", root, what)
	}
	d.available = len(d.files)
	order := selectOrder(len(d.files), o)
	d.files, d.labels = pick(d.files, order), pick(d.labels, order)
	return d, d.check()
}

// dirEntryIsDir reports whether e is a directory, following a symbolic
// link (a class folder may be one).
func dirEntryIsDir(p string, e fs.DirEntry) (bool, error) {
	if e.Type()&fs.ModeSymlink == 0 {
		return e.IsDir(), nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return false, fmt.Errorf("%s: %w", p, err)
	}
	return st.IsDir(), nil
}

// walkClass adds the images in a class folder and below, in lexical order
// of their paths.
func (d *Dataset) walkClass(dir string, class int) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		return d.add(p, e.Name(), class)
	})
}

// add lists one file: an image is kept, an image of a format not decoded
// here is refused, anything else is skipped and recorded.
func (d *Dataset) add(p, name string, class int) error {
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case imageExts[ext]:
		d.files = append(d.files, p)
		if class >= 0 {
			d.labels = append(d.labels, class)
		}
	case otherImageExts[ext]:
		return &ImageError{File: p, Msg: fmt.Sprintf("%s images are not read (PNG, JPEG and BMP are): convert it, or move it out of the dataset", ext)}
	default:
		d.skipped = append(d.skipped, p)
	}
	return nil
}

// selectOrder returns the indices of n images to use, in order: all of
// them, shuffled with o.Seed when o.Shuffle, then the first o.Limit.
func selectOrder(n int, o DatasetOptions) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if o.Shuffle {
		rand.New(tensor.NewPCG(o.Seed)).Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	if o.Limit > 0 && o.Limit < n {
		order = order[:o.Limit]
	}
	return order
}

// pick returns v's elements at the indices of order (nil for nil v).
func pick[T any](v []T, order []int) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(order))
	for i, k := range order {
		out[i] = v[k]
	}
	return out
}

// check reads the header of every selected image (format, size, the
// pixel bound) and checks that the images fill whole runs.
func (d *Dataset) check() error {
	for _, f := range d.files {
		cfg, err := imageConfig(f, d.maxP)
		if err != nil {
			return err
		}
		if !d.t.resize && (cfg.Height != d.t.h || cfg.Width != d.t.w) {
			return &ImageError{File: f, Msg: fmt.Sprintf("image is %d×%d (H×W) but input %q takes %d×%d: give --resize %d,%d to resize it (bilinear, as tf.image.resize)", cfg.Height, cfg.Width, d.t.spec.Name, d.t.h, d.t.w, d.t.h, d.t.w)}
		}
	}
	return d.checkRuns(d.Images())
}

func (d *Dataset) checkRuns(n int) error {
	if n%d.t.batch != 0 {
		return fmt.Errorf("%s: %d images do not fill runs of the model's batch of %d: use --limit %d", d.path, n, d.t.batch, n-n%d.t.batch)
	}
	return nil
}

// Path returns the folder or file the dataset reads.
func (d *Dataset) Path() string { return d.path }

// Images returns the number of images (after shuffling and limiting).
func (d *Dataset) Images() int {
	if d.x != nil {
		return len(d.rows)
	}
	return len(d.files)
}

// Len returns the number of runs: Images() / the model's batch.
func (d *Dataset) Len() int { return d.Images() / d.t.batch }

// Labels returns the class index of every image, in run order (nil for
// unlabelled images). The caller must not modify it.
func (d *Dataset) Labels() []int { return d.labels }

// Classes returns the class names by index: the class folders' names, or
// "0", "1", … up to the largest label of an .npz; nil when unlabelled.
func (d *Dataset) Classes() []string { return d.classes }

// Skipped lists files of a folder that are not images and were not read
// (a README, a .DS_Store).
func (d *Dataset) Skipped() []string { return d.skipped }

// Source names image i (a file, or x[row] of an .npz) for messages.
func (d *Dataset) Source(i int) string {
	if d.x != nil {
		return fmt.Sprintf("%s: x[%d]", d.path, d.rows[i])
	}
	return d.files[i]
}

// Sample returns run i: the model's batch of images, decoded and
// preprocessed into one tensor of the input's shape, layout and dtype.
func (d *Dataset) Sample(i int) ([]*tensor.Tensor, error) {
	if i < 0 || i >= d.Len() {
		return nil, fmt.Errorf("%s: sample %d out of range [0, %d)", d.path, i, d.Len())
	}
	t := d.t
	per := t.h * t.w * t.c
	vals := make([]float32, t.batch*per)
	for b := range t.batch {
		k := i*t.batch + b
		p, err := d.pixels(k)
		if err != nil {
			return nil, err
		}
		if err := t.image(d.Source(k), p, vals[b*per:(b+1)*per]); err != nil {
			return nil, err
		}
	}
	return []*tensor.Tensor{t.tensorOf(vals)}, nil
}

// pixels decodes image k.
func (d *Dataset) pixels(k int) (*pixels, error) {
	if d.x == nil {
		return decodeImage(d.files[k], d.maxP)
	}
	s, err := d.x.Sample(d.rows[k])
	if err != nil {
		return nil, err
	}
	return d.npzPixels(s[0]), nil
}

// Close releases the .npz file, if any.
func (d *Dataset) Close() error {
	if d.x != nil {
		return d.x.Close()
	}
	return nil
}

// errNoLabels is wrapped when an .npz has no y array.
var errNoLabels = errors.New("no array y of labels")

// findArray returns the array of an .npz named name.
func findArray(arrays []*streamArray, name string) *streamArray {
	i := slices.IndexFunc(arrays, func(a *streamArray) bool { return a.name == name })
	if i < 0 {
		return nil
	}
	return arrays[i]
}

// Batch returns the images per run (the model's batch).
func (d *Dataset) Batch() int { return d.t.batch }

// Available returns how many images the dataset listed before Limit.
func (d *Dataset) Available() int { return d.available }

// Color returns the channel order the images are given in (resolved
// from the model's channels when it was not set).
func (d *Dataset) Color() Color { return d.t.color }

// Layout returns the model input's layout the images are written in
// ("NHWC" or "NCHW").
func (d *Dataset) Layout() string { return d.t.spec.Layout }
