// Package graph is edgeval's neutral intermediate representation of a model:
// a Graph of Nodes in topological order, connected by Values that carry a
// dtype, a static shape and an explicit data layout (NHWC, NCHW or none).
//
// Every op kind has its own typed struct (Conv2D, Pool2D, Dense, Add, Relu,
// Softmax, Reshape, ...) implementing Op, whose InferShapes is a pure
// function from input types to output types. Tensor parameters (weights,
// biases, BatchNorm statistics, PReLU slopes, embedding tables) are inputs of
// the node that hold a constant (Value.Const); scalar parameters (strides,
// epsilon, axis) are fields of the op struct.
//
// Front-ends build graphs with a Builder, which infers shapes as nodes are
// added and collects every error. Passes rewrite a Clone of a graph with
// NewNode, ReplaceAllUses and Prune, and check the result with Validate.
// Every Node keeps the name of the source layer (Keras layer name, PyTorch
// module path, ATen node) so a divergence found later can be located.
//
// Conventions:
//   - Shapes are static; the batch is fixed by the front-end (usually 1).
//     SetBatch re-infers every shape for another batch size.
//   - Spatial ops carry the layout they compute in (Keras: NHWC, PyTorch:
//     NCHW) and the layout of their weights (Keras HWIO, PyTorch OIHW, TFLite
//     OHWI, ...), so a graph evaluates with its source framework's semantics
//     and a layout pass can change either explicitly.
//   - Axes in op fields may be negative (counted from the end) unless the
//     field's doc says otherwise.
//
// The package depends only on tensor and knows no file format.
package graph
