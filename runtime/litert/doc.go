// Package litert runs .tflite models in Google's LiteRT kernels, compiled to
// WebAssembly and published on npm as @litertjs/core (pinned at 2.5.3 in the
// repository's package.json; install with `npm ci` at the repository root).
//
// Each session starts one Node process running bridge.mjs (embedded in the
// binary and written to the user cache directory), which loads the WASM
// module, compiles the model for the CPU (XNNPACK), and then serves requests
// on stdin/stdout as binary frames: a little-endian u32 header length, a u32
// data length, a small JSON header (names, dtypes, shapes, timings), and the
// raw little-endian tensor bytes. Invoke time is measured inside Node with
// process.hrtime around the compiled model's run call.
//
// # Processes
//
// Node is found through $EDGEVAL_NODE or PATH, and node_modules through
// $EDGEVAL_NODE_MODULES or by walking up from the working directory and from
// the executable's directory (FindNodeModules); when it is missing the
// error says to run `npm ci`. A session owns its process while open; Close
// unloads the model and keeps up to two idle processes for 30 s for the next
// Open. Sessions are single-threaded: the WASM build uses one thread, so
// Options.Threads is not honoured and Info reports Threads 1.
// EDGEVAL_LITERT_DEBUG=1 echoes everything the bridge prints to stderr.
//
// # Data types
//
// LiteRT.js's JavaScript Tensor class maps only float32, int32 and uint8, and
// its CompiledModel wrapper refuses to even describe an int8 model ("Element
// type INT8 is not supported"). The restriction lives only in that
// JavaScript: the WASM bindings beneath it (LiteRtTensorBuffer.createManaged
// with any element type, lock/unlock giving a pointer into WASM memory)
// handle every type the kernels do. The bridge therefore bypasses the
// wrapper: it calls loadModel/compileModel itself, creates host tensor
// buffers with the model's own element type and shape, and copies raw bytes
// into and out of WASM memory. int8, int16, bool (and float32, int32,
// uint8, int64) inputs and outputs run on the real LiteRT 2.5.3 kernels with
// no change to the model. The alternatives were rejected: a model patch
// adding CAST ops at the boundary changes the graph under test, and
// @tensorflow/tfjs-tflite is an older runtime that rejects newer builtins.
//
// # Failures
//
// LiteRT prints some errors (an unresolved custom op, a failed tensor
// allocation) with "ERROR" and still returns garbage outputs; the bridge
// captures everything LiteRT prints and fails the request on any such line.
// An Emscripten abort (blockwise_quantized.tflite crashes the WASM build)
// fails the run and retires the process, so later runs fail too.
// Runs fail with a *runtime.Error, never partial outputs, when that happens,
// when the process dies, when a frame is malformed, or at the time-out or
// cancellation of the context (which also kill the process). Bytes that are
// not a .tflite model give a *runtime.ModelError.
//
// # Model repairs
//
// Before loading, the model is read with package tflite (malformed bytes
// give a *runtime.ModelError without starting Node) and, if needed, changed
// in place in a copy in two ways that keep every computation: dynamic
// dimensions are pinned (below), and quantized_dimension fields that lie
// outside their tensor's rank, which TOCO-era converters wrote into rank-1
// bias tensors (person_detect.tflite) and LiteRT 2.5.3 rejects, are set to 0
// (tflite.FixQuantAxes).
//
// # Dynamic shapes
//
// LiteRT's CompiledModel only resizes inputs whose dims_signature allows it,
// and silently ignores a larger batch on some models, so the session always
// passes input buffers of the model's static shape; dynamic (-1) dimensions
// are pinned in the flatbuffer to the session's batch size before loading.
//
// # Shapes computed at run time, outputs that are inputs
//
// The JavaScript-facing run call of LiteRT 2.5.3 creates the output
// TensorBuffers itself, sized from the model, and binds them to the
// interpreter's output tensors as custom allocations before the invoke. Two
// kinds of output defeat that binding, and LiteRT then returns a buffer
// nothing wrote, with success:
//
//   - an output TFLite allocates dynamically during the invoke because the
//     operator computing it takes its shape from a tensor computed at run
//     time: the real TF converter's RESHAPE and TRANSPOSE_CONV (Keras
//     Reshape, Conv2DTranspose) read their target shape from a SHAPE →
//     STRIDED_SLICE → PACK chain. The first run returns garbage; later runs
//     fail with "Failed to set custom allocation for output tensor" (TFLite
//     refuses a custom allocation for a kTfLiteDynamic tensor);
//   - an output computed by SHAPE or RANK, which TFLite evaluates while
//     preparing the model into read-only memory;
//   - an output tensor that is also an input tensor (an op-less model such
//     as a Keras Activation('linear')): binding the output buffer replaces
//     the input's, so the input data never reaches the graph, and every
//     operator reading that input computes on garbage too.
//
// The bridge cannot pass buffers of its own or read the interpreter's
// tensors (the WASM bindings expose only run(signature, inputs) →
// outputs), so Open rewrites the model instead, keeping every computation
// of the data path (rewrite, analyzeShapes, rebuildModel):
//
//   - shape computations whose value depends only on the (pinned) input
//     shapes and constants, and that feed the shape input of an operator
//     computing an output, are folded into constant tensors. Their values
//     come from LiteRT itself: a probe copy of the model with those tensors
//     as extra outputs runs once on zero inputs. A second probe of the
//     folded model returns the SHAPE of every output (copied through an
//     ADD of zero, since LiteRT cannot return SHAPE's read-only result
//     either) so that the outputs declare their real shapes, which LiteRT
//     sizes its buffers by. SHAPE results that feed an operator directly
//     need no folding (TFLite evaluates SHAPE while preparing the model),
//     but an output computed by SHAPE or RANK is folded into a constant
//     output, which LiteRT returns correctly;
//   - outputs that are inputs are removed from the model LiteRT loads, and
//     the session returns a copy of the input for them.
//
// The model is rebuilt with tflite.Builder for this; a model it cannot
// write again faithfully (options outside the project's schema subset,
// sparse or block-wise quantized tensors) fails to open with a
// *runtime.Error. An output whose shape depends on input values (WHERE,
// UNIQUE, NON_MAX_SUPPRESSION, a shape input read from a model input)
// cannot be folded: Open fails with a *runtime.Error wrapping
// ErrDynamicOutput rather than return garbage. Outputs further down the
// graph from a dynamic tensor are correct as they are (TFLite prepares the
// operators after it again) and are left alone.
package litert
