//go:build tflite

package tflitec

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/mattn/go-tflite/delegates"
	"github.com/mattn/go-tflite/delegates/xnnpack"
)

// Delegate names accepted in runtime.Options.Delegate.
const (
	DelegateNone    = "none"
	DelegateXNNPACK = "xnnpack"
	DelegateEdgeTPU = "edgetpu"
)

// delegate is a created TFLite delegate; ptr is the TfLiteDelegate*.
type delegate struct {
	name string
	d    delegates.Delegater
}

func (d *delegate) ptr() unsafe.Pointer {
	if d == nil || d.d == nil {
		return nil
	}
	return d.d.Ptr()
}

func (d *delegate) delete() {
	if d != nil && d.d != nil {
		d.d.Delete()
		d.d = nil
	}
}

// newDelegate creates the delegate named by opts ("" or "none" gives nil).
func newDelegate(name string, threads int) (*delegate, error) {
	switch name {
	case "", DelegateNone:
		return nil, nil
	case DelegateXNNPACK:
		d := xnnpack.New(xnnpack.DelegateOptions{NumThreads: int32(threads)})
		if d == nil {
			return nil, errors.New("TfLiteXNNPackDelegateCreate failed")
		}
		if got := xnnpackThreads(d.Ptr()); got != threads {
			d.Delete()
			return nil, fmt.Errorf("XNNPACK delegate reports %d threads, asked for %d: the xnnpack_delegate.h used at build time does not match the library", got, threads)
		}
		return &delegate{name: name, d: d}, nil
	case DelegateEdgeTPU:
		d, err := newEdgeTPU()
		if err != nil {
			return nil, err
		}
		return &delegate{name: name, d: d}, nil
	}
	return nil, fmt.Errorf("unknown delegate %q (want %q, %q or %q)", name, DelegateNone, DelegateXNNPACK, DelegateEdgeTPU)
}
