// Package locate finds where a conversion goes wrong when the device's
// outputs differ from the reference.
//
// Two questions are asked, in order:
//
//  1. Passes: does the canonical graph the converter wrote still compute
//     what the source graph computes? Each converter pass (see
//     converter/passes) leaves a graph the Go reference can run, so the
//     pipeline is replayed one pass at a time and the first pass after which
//     the reference's outputs leave the float32 tolerance is reported.
//  2. Layers: if every pass keeps the outputs, the difference is in the
//     .tflite or the runtime. Every tensor the converter wrote is named after
//     the graph value it holds (converter/tflite's NameMap), so the model is
//     patched to expose them all as outputs (tflite.ExposeTensors), run on the
//     device, and each is compared with the reference's value of the
//     canonical graph. The first node, in topological order, whose output
//     diverges is reported with its source layer name.
package locate
