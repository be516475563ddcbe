// Package tflitec runs .tflite models in the TensorFlow Lite C library
// (libtensorflowlite_c) and registers itself as the "tflite" runtime.
//
// # Building
//
// The backend needs cgo, the TFLite C headers and the library, so it is only
// compiled with the build tag tflite:
//
//	eval "$(scripts/get-tflite-c.sh)"   # TFLite 2.17.1 from PyPI + headers from Maven Central
//	go test -tags tflite ./runtime/tflitec/
//
// Without the tag (and with CGO_ENABLED=0) the package still registers
// "tflite", but runtime.Get returns an error wrapping runtime.ErrNotBuiltIn
// that says how to rebuild. On a board, install libtensorflowlite_c and its
// headers (or use the script on x86-64/aarch64 Linux with glibc >= 2.35) and
// point CGO_CFLAGS/CGO_LDFLAGS at them.
//
// # Delegates
//
// Options.Delegate selects "none" (the built-in CPU kernels; TFLite 2.17
// applies no delegate unless asked), "xnnpack" (github.com/mattn/go-tflite's
// delegates/xnnpack, with Options.Threads threads), or "edgetpu"
// (go-tflite's delegates/edgetpu, only compiled with the extra build tag
// edgetpu because it links libedgetpu: -tags tflite,edgetpu). A binary built
// without edgetpu, or a machine with no Edge TPU attached, gets a
// *runtime.Error naming the cause, never a crash.
//
// # How it uses the C library
//
// The delegates come from github.com/mattn/go-tflite v1.0.4. Models,
// interpreters, signature runners and tensors are driven through a small cgo
// layer of this package (capi.go) over the stable C API (c_api.h), because
// go-tflite v1.0.4's core package cannot be used safely for them: NewModel
// copies the model with C.CBytes and never frees it (a leak per session); its
// error reporter passes a va_list to asprintf, which misformats and can read
// wild pointers; it has no TfLiteVersion, no signature runners and no
// cancellation; and its handles are unexported.
//
// A session runs the model's SignatureDef selected by Options.Signature (the
// first one when empty) through TfLiteSignatureRunner, so a signature in any
// subgraph works and inputs/outputs carry the signature's names, in the
// runner's order (sorted by name). A model without SignatureDefs runs its
// primary subgraph with the tensors' own names. Dynamic batch dimensions (-1
// in shape_signature) are resized to Options.Batch before AllocateTensors.
// Inputs and outputs of every fixed-size type (float32, float16, float64,
// int8, uint8, int16, int32, int64, bool) are exchanged by copying raw bytes.
//
// Run measures Invoke time with CLOCK_MONOTONIC around
// TfLiteInterpreterInvoke (or TfLiteSignatureRunnerInvoke) alone. Each
// session has a small watchdog thread in C that cancels an invoke through
// TFLite's cancellation API when Options.Timeout (default one minute) or the
// context's deadline passes; a context cancelled from another goroutine
// cancels it too. TFLite checks for cancellation between ops, so a single
// long op runs to its end.
//
// # Limits
//
// The library runs in this process: a model that makes TFLite abort (LiteRT's
// blockwise_quantized.tflite fixture hits an abort in AllocateTensors in
// 2.17.1) ends the process. package devices runs this runtime in a child
// "validate agent" process on the host (profile field isolate, on by default
// for tflite), so such an abort is a runtime error (exit 3), not a crash.
package tflitec
