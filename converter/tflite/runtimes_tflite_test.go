//go:build tflite

package tflite

import _ "github.com/edgeval/edgeval/runtime/tflitec"

// extraRuntimes adds the TFLite C runtime (built with -tags tflite).
var extraRuntimes = []string{"tflite"}
