package torch

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
)

// Options controls Load.
type Options struct {
	// Arch is the path of an --arch YAML file (see ARCH.md): required for a
	// state_dict or a custom root module; for a full module tree of
	// standard layers it may give only the input.
	Arch string
	// Batch is the static batch size of the inputs (0 keeps the arch file's
	// or 1).
	Batch int
	// AllowUnused accepts a file holding parameters or buffers that the
	// built graph never reads. By default such a file fails the load with
	// an *UnusedWeightsError naming every unused key, because an unread
	// weight almost always means the architecture was misread (a block
	// left out of an --arch file). With AllowUnused the load succeeds and
	// LoadResult reports the keys in Result.Unused.
	AllowUnused bool
	// Source reads the architecture of a state_dict (or training
	// checkpoint) from the user's own model source, .py or .ipynb, never
	// executed (see SOURCE.md); Source.Path "" means none. It cannot be
	// combined with Arch.
	Source SourceOptions
}

// Load reads a PyTorch model file (.pth/.pt: torch.save zip or legacy;
// .pt2: torch.export) into a graph with PyTorch's semantics (NCHW). It is
// LoadResult without the list of unused tensors.
func Load(path string, o Options) (*graph.Graph, error) {
	r, err := LoadResult(path, o)
	if err != nil {
		return nil, err
	}
	return r.Graph, nil
}

// LoadResult reads a PyTorch model file like Load and also returns the
// file's tensors that the graph does not read: Result.Unused (only with
// Options.AllowUnused; otherwise they are an *UnusedWeightsError) and
// Result.Ignored (harmless by rule: num_batches_tracked, empty tensors).
// TorchScript archives, whose forward is read from the file itself, give
// no lists.
func LoadResult(path string, o Options) (*Result, error) {
	if o.Source.Path != "" {
		return loadWithSource(path, o)
	}
	var arch *Arch
	if o.Arch != "" {
		a, err := ReadArch(o.Arch)
		if err != nil {
			return nil, &Error{File: path, Err: err}
		}
		arch = a
	}
	if strings.EqualFold(filepath.Ext(path), ".pt2") || isExportArchive(path) {
		if arch != nil {
			// A torch.export program states its whole graph: an --arch
			// file would be silently ignored, which hides a mistake.
			return nil, &Error{File: path, Err: fmt.Errorf("--arch %s given for a torch.export program, which holds its own graph: drop --arch", o.Arch)}
		}
		return loadExportChecked(path, o.Batch, o.AllowUnused)
	}
	if isTorchScript(path) {
		if arch != nil && len(arch.Steps) == 0 {
			g, err := LoadTorchScript(path, arch)
			if err != nil {
				return nil, err
			}
			return &Result{Graph: g}, nil
		}
		return nil, &TorchScriptError{File: path}
	}
	f, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if arch != nil && len(arch.Steps) > 0 {
		return buildWithArchChecked(f, arch, o.Batch, o.AllowUnused)
	}
	if f.Root != nil {
		r, err := buildModuleChecked(f, arch, o.Batch, o.AllowUnused)
		if err == nil {
			r.Notes = append(f.Checkpoint.Notes(), r.Notes...)
		}
		return r, err
	}
	found := ""
	if n := f.Checkpoint.Notes(); len(n) > 0 {
		found = "\n" + strings.Join(n, "\n")
	}
	return nil, &Error{File: path, Err: fmt.Errorf("%w (or --source MODEL.py, the model's own Python); the file is a state_dict with %d tensors:%s%s", ErrNeedArch, len(f.Tensors), describeTensors(f), found)}
}

// loadWithSource reads a state_dict or checkpoint with the architecture of
// its model source.
func loadWithSource(path string, o Options) (*Result, error) {
	switch {
	case o.Arch != "":
		return nil, &Error{File: path, Err: fmt.Errorf("give --arch %s or --source %s, not both", o.Arch, o.Source.Path)}
	case strings.EqualFold(filepath.Ext(path), ".pt2") || isExportArchive(path):
		return nil, &Error{File: path, Err: fmt.Errorf("--source %s given for a torch.export program, which holds its own graph: drop --source", o.Source.Path)}
	case isTorchScript(path):
		return nil, &TorchScriptError{File: path, Reason: "--source reads the architecture of a state_dict, not of a TorchScript archive"}
	}
	f, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	sa, err := ArchFromSource(f, o.Source, o.Batch)
	if err != nil {
		return nil, &Error{File: path, Where: "--source " + o.Source.Path, Err: err}
	}
	r, err := buildWithArchChecked(f, sa.Arch, o.Batch, o.AllowUnused)
	if err != nil {
		return nil, err
	}
	r.Notes = append(slices.Clone(sa.Notes), r.Notes...)
	return r, nil
}

// IsBadInput reports whether err is the model's or the user's fault (exit
// code 2) rather than a failure of the tool.
func IsBadInput(err error) bool {
	var (
		e  *Error
		ts *TorchScriptError
		us *UnsafeClassError
		un *UnsupportedError
		uw *UnusedWeightsError
	)
	return errors.As(err, &e) || errors.As(err, &ts) || errors.As(err, &us) || errors.As(err, &un) || errors.As(err, &uw)
}
