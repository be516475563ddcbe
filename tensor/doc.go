// Package tensor holds the project's value type: a dense, row-major array with
// a dtype and a shape, optional quantization parameters, NumPy .npy/.npz
// reading and writing, and seeded input generators.
//
// A Tensor stores its elements as little-endian bytes, the same layout the
// .npy format, TFLite buffers and the runtime pipes use, so no conversion is
// needed at the boundaries. Numeric code converts to float32 once with
// Float32s and back with FromFloat32.
//
// The package imports nothing else of the project.
package tensor
