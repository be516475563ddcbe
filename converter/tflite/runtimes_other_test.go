//go:build !tflite

package tflite

// extraRuntimes is empty without -tags tflite: only LiteRT runs.
var extraRuntimes []string
