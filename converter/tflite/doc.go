// Package tflite converts a canonical graph (see converter/passes) into
// .tflite bytes: Convert writes one subgraph in NHWC with static shapes (the
// batch fixed by Options.Batch on every input but those marked
// graph.Value.NoBatch), TFLite's weight layouts (CONV_2D and
// TRANSPOSE_CONV filters OHWI, DEPTHWISE_CONV_2D [1, H, W, C*M],
// FULLY_CONNECTED [out, in]), the builtin options and operator versions the
// TFLite converter would write, a "serving_default" SignatureDef carrying the
// source's input and output names, the "min_runtime_version" metadata and
// the description "edgeval".
//
// Ops TFLite has no builtin for are written as small decompositions (Swish
// as LOGISTIC and MUL, SELU and ELU with alpha != 1 from EXP, LayerNorm from
// MEAN, SQUARED_DIFFERENCE, RSQRT...). Every tensor is named after the graph
// value it holds, and tensors a decomposition adds after the source node
// ("<node>/<step>"), so a divergence can be traced to a source layer; the
// returned NameMap pairs graph value names with tensor indices. A graph with
// ops that cannot be written gives an *UnsupportedError listing all of them.
//
// Options.Precision selects float32 (the default), float16 weights,
// dynamic-range (int8 weights, hybrid kernels) or full int8 (from the
// calibrated ranges in Options.Ranges; see converter/quantize). The node
// writers always write float32; the other precisions are passes over the
// collected tensors and operators before they are serialised, as the
// TFLite converter's quantization passes run after legalization
// (precision.go, float16.go, dynamic.go, int8.go).
//
// The package is named tflite like the file-format package it writes with,
// which it imports as tfl.
package tflite
