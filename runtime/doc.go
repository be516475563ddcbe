// Package runtime defines how the project drives a real TFLite runtime: a
// Runtime opens a model into a Session, and a Session runs one set of input
// tensors at a time, returning the outputs and the time the runtime itself
// spent in invoke.
//
// Backends live in sub-packages (runtime/litert: Google's LiteRT WebAssembly
// build under Node; runtime/tflitec: the TFLite C library through go-tflite)
// and register themselves by name with Register in an init function; a
// program imports the ones it offers for that side effect, and others
// (devices) reach them only through Get and this package's interfaces. A
// backend whose prerequisites are installed on the machine implements
// Configurer (a device profile's Settings) and Prober (its Status in a
// machine's facts). Every backend, and every device session, passes the
// conformance suite in runtime/runtimetest.
package runtime
