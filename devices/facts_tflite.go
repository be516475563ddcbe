//go:build tflite

package devices

import "github.com/edgeval/edgeval/runtime/tflitec"

// tfliteVersion is the linked TFLite C library's version.
func tfliteVersion() string { return tflitec.Version() }
