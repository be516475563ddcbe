// Package tflite is the TensorFlow Lite file format: the project's own
// FlatBuffers schema subset, the code generated from it, a safe reader,
// patches that rewrite a model in place, and a builder for writing models.
//
// # Reading
//
// Read decodes a .tflite file into a plain-Go Model: operator codes (with
// the real code of TOCO-era files, max(deprecated_builtin_code,
// builtin_code)), subgraphs with their tensors (shape, shape signature,
// element type, per-tensor and per-axis quantization) and operators,
// buffers (inline, or stored after the flatbuffer in models larger than
// 2 GB), SignatureDefs and metadata such as min_runtime_version. Operators
// carry their decoded builtin options (*Conv2DOptions, ...) when the options
// type is in the schema subset.
//
// Read checks every offset and length before use: hostile bytes give a
// *FormatError, never a panic, and never an allocation larger than the bytes
// can hold (shared sub-objects are charged each time they are visited, so
// the work stays proportional to the file size). FuzzRead exercises this,
// with the shared fixtures as seeds:
//
//	go test ./tflite -run '^$' -fuzz FuzzRead -fuzztime 3m -fuzzminimizetime 0s
//
// (without -fuzzminimizetime 0s, minimising a new input of several hundred
// KB stalls the fuzzer for minutes).
//
// # Patching
//
// PinDynamicDims replaces the -1 dimensions of shape signatures by a fixed
// size (runtimes such as LiteRT.js reject dynamic shapes) and ExposeTensors
// adds intermediate tensors to a subgraph's outputs and its SignatureDefs so
// a runtime returns them. FixQuantAxes repairs the out-of-range
// quantized_dimension of TOCO-era biases that LiteRT rejects. Both keep every other byte of the model: they
// rewrite scalars in place or append new vectors and redirect one offset.
//
// # Writing
//
// Builder assembles a model from buffers, tensors, operators (with options
// such as *Conv2DOptions) and SignatureDefs, and Finish serialises it with
// the "TFL3" file identifier and schema version 3.
//
// # Schema and generated code
//
// schema/schema.fbs is a subset of the TFLite schema that keeps the
// format's numbers: enum values and union members carry their real values
// and every table field sits in its real slot (unused fields are kept as
// deprecated placeholders). The Go code under internal/fb (gen_*.go) and the
// files gen_enums.go and gen_options.go of this package are generated from
// it by flatc 2.0.8 (Debian package flatbuffers-compiler) and
// schema/generate.sh. After editing the schema, regenerate with
//
//	go generate ./tflite
//
// from the repository root, and run the tests: they read every shared
// fixture with both the generated code and Read and compare the results.
package tflite
