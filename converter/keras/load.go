package keras

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/hdf5"
)

// Options controls Load.
type Options struct {
	// ConfigJSON is the path of a model.to_json() file, needed for a
	// weights-only .h5 (save_weights) and used instead of the file's own
	// configuration when set.
	ConfigJSON string
	// Batch is the static batch size of the graph's inputs (0 means 1).
	Batch int
	// Snapshot, when set, reads each HDF5 file (the .h5, or the weights
	// of a .keras archive) through the snapshot it returns instead of
	// opening the file in this process. hdf5.TakeSnapshot gives the same
	// graph in-process; a Child's Snapshot takes it in a child process, so
	// that libhdf5 crashing on a corrupt file kills the child, not the
	// caller. It is called with the options Load needs (SnapshotOptions).
	Snapshot func(path string, opts hdf5.SnapshotOptions) (*hdf5.Snapshot, error)
	// AllowUnused accepts weights in the file that no layer reads, which
	// otherwise fail the load with an *UnusedWeightsError. LoadWithReport
	// returns their names.
	AllowUnused bool
}

// SnapshotOptions are the snapshot options Load asks for: the optimizer's
// state, which the converter never reads, is left out.
func SnapshotOptions() hdf5.SnapshotOptions {
	return hdf5.SnapshotOptions{Skip: []string{"optimizer_weights", "optimizer"}}
}

// openH5 opens an HDF5 file live, or through opts.Snapshot.
func openH5(path string, opts Options) (hdf5.Reader, error) {
	if opts.Snapshot == nil {
		return hdf5.Open(path)
	}
	s, err := opts.Snapshot(path, SnapshotOptions())
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Format is a Keras file format recognised by content.
type Format int

// The formats Load reads.
const (
	FormatUnknown Format = iota
	FormatH5             // HDF5: full model (Keras 2 or 3) or weights only
	FormatKeras          // Keras 3 .keras zip archive
)

var hdf5Magic = []byte("\x89HDF\r\n\x1a\n")

// DetectFormat recognises a file by its first bytes: the HDF5 signature (at
// offset 0 or a power-of-two user-block offset) or a zip local header.
func DetectFormat(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return FormatUnknown, err
	}
	defer f.Close()
	head := make([]byte, 8)
	if _, err := io.ReadFull(f, head); err != nil {
		return FormatUnknown, nil
	}
	switch {
	case bytes.Equal(head, hdf5Magic):
		return FormatH5, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return FormatKeras, nil
	}
	for off := int64(512); off <= 1<<20; off *= 2 {
		if _, err := f.ReadAt(head, off); err != nil {
			break
		}
		if bytes.Equal(head, hdf5Magic) {
			return FormatH5, nil
		}
	}
	return FormatUnknown, nil
}

// Load reads a Keras model file and returns its graph in Keras semantics.
// Errors name the file and, where one is concerned, the layer: *Error for a
// bad or unreadable file, *UnsupportedError listing every layer that cannot
// be mapped, *UnusedWeightsError for weights no layer reads (unless
// opts.AllowUnused).
func Load(path string, opts Options) (*graph.Graph, error) {
	g, _, err := LoadWithReport(path, opts)
	return g, err
}

// LoadWithReport is Load that also returns what the load found besides the
// graph: the unused weights accepted by opts.AllowUnused. The report is
// never nil; on an *UnusedWeightsError it lists the same names.
func LoadWithReport(path string, opts Options) (*graph.Graph, *LoadReport, error) {
	rep := &LoadReport{}
	wrap := func(err error) error {
		var ke *Error
		var ue *UnsupportedError
		var we *UnusedWeightsError
		if errors.As(err, &ke) || errors.As(err, &ue) || errors.As(err, &we) {
			return err
		}
		return &Error{File: path, Err: err}
	}
	format, err := DetectFormat(path)
	if err != nil {
		return nil, rep, wrap(err)
	}
	var g *graph.Graph
	switch format {
	case FormatH5:
		g, err = loadH5(path, opts, rep)
	case FormatKeras:
		g, err = loadKeras(path, opts, rep)
	default:
		err = errors.New("not a Keras model: neither HDF5 (.h5) nor a zip archive (.keras)")
	}
	if err != nil {
		return nil, rep, wrap(err)
	}
	return g, rep, nil
}

func readConfigJSON(p string) (*Model, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	m, err := ParseConfig(b)
	if err != nil {
		return nil, &Error{File: p, Err: err}
	}
	return m, nil
}

func loadH5(path string, opts Options, rep *LoadReport) (*graph.Graph, error) {
	f, err := openH5(path, opts)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m *Model
	if opts.ConfigJSON != "" {
		if m, err = readConfigJSON(opts.ConfigJSON); err != nil {
			return nil, err
		}
	}
	root := "model_weights"
	version, _ := f.AttrString("/", "keras_version")
	switch {
	case f.HasAttr("/", "model_config"):
		if m == nil {
			cfg, err := f.AttrString("/", "model_config")
			if err != nil {
				return nil, err
			}
			if m, err = ParseConfig([]byte(cfg)); err != nil {
				return nil, err
			}
		}
		if !f.Exists(root) {
			return nil, errors.New("the file has a model_config but no model_weights group")
		}
	case f.HasAttr("/", "layer_names"):
		root = "/"
		if m == nil {
			return nil, errors.New("weights-only file (save_weights): the model's to_json() file must be given (Options.ConfigJSON)")
		}
	case f.Exists("layers") || f.Exists("vars"):
		if m == nil {
			return nil, errors.New("a Keras 3 weights-only file needs the model's to_json() file (--model-json, Options.ConfigJSON)")
		}
		store, err := newK3Store(f, m)
		if err != nil {
			return nil, err
		}
		return convert(path, m, store, opts, rep, true, false)
	default:
		return nil, errors.New("HDF5 file is not a Keras model (no model_config, layer_names or Keras 3 weights)")
	}
	if version == "" {
		version = m.KerasVersion // a to_json file's keras_version
	}
	keras3 := strings.HasPrefix(version, "3.") || m.Keras3
	legacyBilinear := version != "" && !strings.Contains(version, "tf") && versionBefore(version, 2, 4)
	return convert(path, m, &legacyStore{f: f, root: root}, opts, rep, keras3, legacyBilinear)
}

// versionBefore reports whether a "major.minor.patch" version is before
// major.minor.
func versionBefore(v string, major, minor int) bool {
	var a, b int
	if n, _ := fmt.Sscanf(v, "%d.%d", &a, &b); n < 2 {
		return false
	}
	return a < major || a == major && b < minor
}

func loadKeras(path string, opts Options, rep *LoadReport) (*graph.Graph, error) {
	dir, err := os.MkdirTemp("", "edgeval-keras-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	a, err := openArchive(path, dir)
	if err != nil {
		return nil, err
	}
	var m *Model
	if opts.ConfigJSON != "" {
		m, err = readConfigJSON(opts.ConfigJSON)
	} else {
		m, err = ParseConfig(a.config)
	}
	if err != nil {
		return nil, err
	}
	f, err := openH5(a.weightsPath, opts)
	if err != nil {
		return nil, fmt.Errorf("model.weights.h5: %w", err)
	}
	defer f.Close()
	store, err := newK3Store(f, m)
	if err != nil {
		return nil, err
	}
	return convert(path, m, store, opts, rep, true, false)
}

// convert checks every layer, then maps the model, then lists the weights
// of the file that no layer read into rep (an *UnusedWeightsError unless
// opts.AllowUnused).
func convert(path string, m *Model, store weightStore, opts Options, rep *LoadReport, keras3, legacyBilinear bool) (*graph.Graph, error) {
	c := &converter{file: path, b: graph.NewBuilder(), store: store, batch: max(opts.Batch, 1),
		keras3: keras3, legacyBilinear: legacyBilinear}
	c.check(m, "")
	if len(c.unsupported) > 0 {
		return nil, &UnsupportedError{File: path, Layers: c.unsupported}
	}
	outs := c.buildModel(m, nil, nil, 0)
	if len(c.unsupported) > 0 {
		return nil, &UnsupportedError{File: path, Layers: c.unsupported}
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	if outs == nil {
		return nil, errors.New("model has no computable outputs")
	}
	g, err := c.b.Build(outs...)
	if err != nil {
		return nil, fmt.Errorf("building the graph: %w", err)
	}
	unused, err := store.unused()
	if err != nil {
		return nil, fmt.Errorf("listing the file's weights: %w", err)
	}
	rep.Unused, rep.Notes = unused, c.notes
	if len(unused) > 0 && !opts.AllowUnused {
		return nil, &UnusedWeightsError{File: path, Names: unused}
	}
	return g, nil
}
