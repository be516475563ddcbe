// Package passes holds the graph → graph rewrites that bring a front-end's
// graph into the canonical form converter/tflite writes: Dropout and
// Identity removed, constant subgraphs folded, NHWC layout (a PyTorch NCHW
// graph moved to NHWC by transposing weights, not activations), BatchNorm
// folded into the preceding convolution or dense layer, and activations fused
// into the op before them.
//
// Every pass takes a graph and returns a new one, leaving its argument
// untouched, and every result is a valid graph that package reference can
// evaluate: a mismatch found on a device can therefore be bisected pass by
// pass (Options.StopAfter). Passes keep node names (the source layer's name)
// on every node they create, so each tensor the converter writes stays
// named after the source node it comes from.
//
// Canonicalize runs the pipeline (Pipeline lists it); each pass is also
// exported on its own. Every pass checks its contract: its input must be a
// valid graph (a plain error otherwise), and on a valid input it must not
// fail and must return a valid graph with the same signature; a violation is
// an internal error (*bug.Error from internal/bug), our bug and never the
// user's bad input.
package passes
