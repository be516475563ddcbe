//go:build !tflite

package devices

// tfliteVersion is empty: the TFLite C runtime is not built in.
func tfliteVersion() string { return "" }
