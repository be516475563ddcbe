// Package runtimetest is the conformance suite every runtime backend
// passes: RunAll opens real .tflite fixtures (from ../shared/fixtures next
// to the repository) and checks outputs against the upstream tests'
// expectations (hello_world's sin tolerance, person_detect's ordering,
// exact arithmetic of single-op models), every element type the project
// exchanges (float32, int8, int16, int32, bool, and uint8 through a one-op
// model the project's tflite.Builder makes, as no fixture has uint8 I/O),
// several inputs and outputs, dynamic batch, signature selection, and the
// typed errors of runtime: *runtime.Error for an unresolved custom op, a
// time-out or a cancelled context, *runtime.ModelError for bytes that are
// not a model or an unknown signature, *runtime.InputError for inputs that
// do not fit.
//
// A backend's test calls it with its Runtime, and the devices tests with a
// device seen as one (devices.AsRuntime: an isolated child process, an
// agent over SSH):
//
//	func TestConformance(t *testing.T) { runtimetest.RunAll(t, litert.New()) }
package runtimetest
