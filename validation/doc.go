// Package validation is the validation pipeline as a library: Options in,
// a compare.Result out. Run reads the source model into a graph (Keras or
// PyTorch), evaluates it with the Go float reference, checks that reference
// against the framework's own outputs and measures the model's float32 noise
// floor (the witnesses), converts the graph to .tflite (or takes one made
// elsewhere), runs it on a device through the caller's Opener, compares
// every output at the conversion's precision, and on a failure locates the
// first diverging pass or layer and writes a repro bundle.
//
// The validate command (internal/cli) parses flags into Options and prints
// the result; `validate suite` builds Options from a suite file; a Go
// program needs only a model path and an Opener (see the example). Opening
// devices (profiles, SSH, the local agent) is not this package's business:
// Local opens a runtime from the registry on this machine, and the command
// passes an Opener that goes through device profiles.
//
// Errors a caller must tell apart are typed: *UsageError (options that
// make no sense), *InputError (an unreadable or unusable input file), and
// everything else is a device, runtime or internal failure (an internal
// error stays a *bug.Error inside the chain, whatever wrapped it).
//
// Memory is flat in the number of samples but for their outputs: every
// step reads the samples it needs from the inputs file (or draws the seeded
// ones again) a core's worth at a time, and only the outputs of every
// sample, which the metrics need together, are held.
//
// Files: options.go (Options, Opener, Local), errors.go, run.go (Run and
// its steps), source.go (LoadSource, Convert), inputs.go (the samples, read as needed), memory.go (--max-memory),
// witness.go (framework outputs, noise floor), device.go (matching and
// quantizing device tensors, --nhwc-io layouts), locate.go, artifacts.go
// (--out files and the repro bundle).
package validation
