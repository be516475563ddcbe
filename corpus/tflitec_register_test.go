//go:build cgo && tflite

package corpus

import _ "github.com/edgeval/edgeval/runtime/tflitec" // registers "tflite" for BenchmarkAnchors
