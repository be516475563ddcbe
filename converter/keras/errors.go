package keras

import (
	"fmt"
	"strings"
)

// Error is a problem with a model file: it names the file, the layer when
// one is concerned, and what is wrong. The CLI maps it to exit code 2.
type Error struct {
	File  string
	Layer string
	Err   error
}

// Error returns "keras FILE: layer "NAME": problem".
func (e *Error) Error() string {
	if e.Layer != "" {
		return fmt.Sprintf("keras %s: layer %q: %v", e.File, e.Layer, e.Err)
	}
	return fmt.Sprintf("keras %s: %v", e.File, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// UnsupportedLayer is one layer the converter cannot map.
type UnsupportedLayer struct {
	Name   string // layer name (nested layers as outer/inner)
	Class  string // Keras class name
	Reason string // what is not supported
	// Err is the cause Reason was written from: a *FieldError (or several
	// joined) for a refused field of the layer's config or entry, else
	// an error whose text is the reason (a call's reason is not prefixed
	// with the call's index).
	Err error
}

// UnsupportedError lists every unsupported layer of a model. The CLI maps it
// to exit code 2. errors.As and errors.Is look into each layer's Err.
type UnsupportedError struct {
	File   string
	Layers []UnsupportedLayer
}

// Unwrap returns the cause of every layer, so that errors.As finds, for
// instance, the *FieldError of a refused field.
func (e *UnsupportedError) Unwrap() []error {
	out := make([]error, 0, len(e.Layers))
	for _, l := range e.Layers {
		if l.Err != nil {
			out = append(out, l.Err)
		}
	}
	return out
}

// Error lists every unsupported layer, one per line.
func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "keras %s: %d unsupported layer(s):", e.File, len(e.Layers))
	for _, l := range e.Layers {
		fmt.Fprintf(&b, "\n  %s (%s): %s", l.Name, l.Class, l.Reason)
	}
	return b.String()
}
