//go:build cgo

package tflitec

import (
	"fmt"
	"unsafe"
)

// Delegate names accepted in runtime.Options.Delegate.
const (
	DelegateNone    = "none"
	DelegateXNNPACK = "xnnpack"
	DelegateEdgeTPU = "edgetpu"
)

// delegate is a created TFLite delegate: p is the TfLiteOpaqueDelegate*
// and free deletes it.
type delegate struct {
	name string
	p    unsafe.Pointer
	free func()
}

func (d *delegate) ptr() unsafe.Pointer {
	if d == nil {
		return nil
	}
	return d.p
}

func (d *delegate) delete() {
	if d != nil && d.free != nil {
		d.free()
		d.free, d.p = nil, nil
	}
}

// newDelegate creates the delegate named by opts ("" or "none" gives nil).
func newDelegate(name string, threads int) (*delegate, error) {
	var (
		p    unsafe.Pointer
		free func()
		err  error
	)
	switch name {
	case "", DelegateNone:
		return nil, nil
	case DelegateXNNPACK:
		p, free, err = newXNNPACK(threads)
	case DelegateEdgeTPU:
		p, free, err = newEdgeTPU()
	default:
		return nil, fmt.Errorf("unknown delegate %q (want %q, %q or %q)", name, DelegateNone, DelegateXNNPACK, DelegateEdgeTPU)
	}
	if err != nil {
		return nil, err
	}
	return &delegate{name: name, p: p, free: free}, nil
}
