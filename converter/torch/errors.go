package torch

import (
	"errors"
	"fmt"
	"strings"
)

// ErrFormat marks a file that is not a readable PyTorch file (corrupt,
// truncated, inconsistent sizes, an unknown container).
var ErrFormat = errors.New("not a readable PyTorch file")

// ErrNeedArch marks a file that holds weights but no recoverable
// architecture (a state_dict or a custom root module): give Options.Arch.
var ErrNeedArch = errors.New("the file holds no architecture that can be recovered: give --arch FILE (see converter/torch/ARCH.md)")

// Error is a problem with a model file: it names the file, and the layer,
// key or step concerned when there is one. The CLI maps it to exit code 2.
type Error struct {
	File  string
	Where string // layer, state_dict key, ATen node or arch step; may be empty
	Err   error
}

func (e *Error) Error() string {
	if e.Where != "" {
		return fmt.Sprintf("pytorch %s: %s: %v", e.File, e.Where, e.Err)
	}
	return fmt.Sprintf("pytorch %s: %v", e.File, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// UnsafeClassError is a pickle that names a global outside the allow-list
// (for example os.system or builtins.eval), or uses an allowed one in a way
// the allow-list does not permit (calls a module class, which would run its
// constructor, or instantiates a function). Nothing it names is ever
// resolved or called.
type UnsafeClassError struct {
	Module, Name string
	// Use is how the pickle used an allowed global ("calls", "calls an
	// instance of", ...); empty when the global itself is not allowed.
	Use string
}

func (e *UnsafeClassError) Error() string {
	if e.Use != "" {
		return fmt.Sprintf("the pickle %s %s.%s, which the allow-list of PyTorch classes does not permit (refused; nothing was executed)", e.Use, e.Module, e.Name)
	}
	return fmt.Sprintf("the pickle references %s.%s, which is not on the allow-list of PyTorch classes (refused; nothing was executed)", e.Module, e.Name)
}

// TorchScriptError is a TorchScript archive (torch.jit.save), whose program
// is TorchScript code rather than a module tree or an ATen graph.
type TorchScriptError struct {
	File   string
	Reason string // why its code could not be read, when that was tried
}

func (e *TorchScriptError) Error() string {
	why := ""
	if e.Reason != "" {
		why = " (" + e.Reason + ")"
	}
	return fmt.Sprintf("pytorch %s: a TorchScript archive (torch.jit.save / ScriptModule.save) is not supported%s; "+
		"instead export the model with torch.export.save(torch.export.export(model, example_inputs), 'model.pt2'), "+
		"or save the module with torch.save(model) (standard layers) or its state_dict with torch.save(model.state_dict()) plus --arch FILE (see converter/torch/ARCH.md)", e.File, why)
}

// UnsupportedItem is one layer, ATen op or arch step the converter cannot map.
type UnsupportedItem struct {
	Name   string // module path, ATen node name or arch step
	Kind   string // module class, ATen target or op name
	Reason string
}

// UnsupportedError lists every unsupported layer of a model at once. The CLI
// maps it to exit code 2.
type UnsupportedError struct {
	File  string
	Items []UnsupportedItem
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pytorch %s: %d unsupported layer(s):", e.File, len(e.Items))
	for _, l := range e.Items {
		fmt.Fprintf(&b, "\n  %s (%s): %s", l.Name, l.Kind, l.Reason)
	}
	return b.String()
}
