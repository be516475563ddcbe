//go:build cgo && edgetpu

package tflitec

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/mattn/go-tflite/delegates/edgetpu"
)

// EdgeTPUBuiltIn reports whether this binary links the Edge TPU delegate.
const EdgeTPUBuiltIn = true

// newEdgeTPU opens the first Edge TPU that libedgetpu lists.
func newEdgeTPU() (unsafe.Pointer, func(), error) {
	devs, err := edgetpu.DeviceList()
	if err != nil {
		return nil, nil, fmt.Errorf("listing Edge TPU devices: %w", err)
	}
	if len(devs) == 0 {
		return nil, nil, errors.New("no Edge TPU device found (check the USB/PCIe connection and that libedgetpu can access it)")
	}
	d := edgetpu.New(devs[0])
	if d == nil {
		return nil, nil, fmt.Errorf("edgetpu_create_delegate failed for %s", devs[0].Path)
	}
	return d.Ptr(), d.Delete, nil
}
