package torch

import (
	"errors"
	"fmt"
	"path/filepath"
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
}

// Load reads a PyTorch model file (.pth/.pt: torch.save zip or legacy;
// .pt2: torch.export) into a graph with PyTorch's semantics (NCHW).
func Load(path string, o Options) (*graph.Graph, error) {
	var arch *Arch
	if o.Arch != "" {
		a, err := ReadArch(o.Arch)
		if err != nil {
			return nil, &Error{File: path, Err: err}
		}
		arch = a
	}
	if strings.EqualFold(filepath.Ext(path), ".pt2") || isExportArchive(path) {
		return LoadExport(path, o.Batch)
	}
	if isTorchScript(path) {
		if arch != nil && len(arch.Steps) == 0 {
			return LoadTorchScript(path, arch)
		}
		return nil, &TorchScriptError{File: path}
	}
	f, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if arch != nil && len(arch.Steps) > 0 {
		return BuildWithArch(f, arch, o.Batch)
	}
	if f.Root != nil {
		return BuildModule(f, arch, o.Batch)
	}
	return nil, &Error{File: path, Err: fmt.Errorf("%w; the file is a state_dict with %d tensors:%s", ErrNeedArch, len(f.Tensors), describeTensors(f))}
}

// IsBadInput reports whether err is the model's or the user's fault (exit
// code 2) rather than a failure of the tool.
func IsBadInput(err error) bool {
	var (
		e  *Error
		ts *TorchScriptError
		us *UnsafeClassError
		un *UnsupportedError
	)
	return errors.As(err, &e) || errors.As(err, &ts) || errors.As(err, &us) || errors.As(err, &un)
}
