// Package locate finds where a conversion goes wrong, and shows how far
// each layer of a .tflite is from the reference.
//
// Two questions are asked, in order:
//
//  1. Passes: does the canonical graph the converter wrote still compute
//     what the source graph computes? Each converter pass (see
//     converter/passes) leaves a graph the Go reference can run, so the
//     pipeline is replayed one pass at a time and the first pass after which
//     the reference's outputs leave the float32 tolerance is reported.
//  2. Layers (Table): every tensor of the .tflite that holds a value of the
//     graph is exposed as an output (tflite.ExposeTensors), the patched model
//     runs on the device, and each is compared with the reference, in
//     execution order, like TF's QuantizationDebugger.
//
// Tensors are paired with graph values by name: our converter names every
// tensor after the value it holds (the canonical graph); the TF converter
// names a tensor after the ops it fuses ("model/activation/Relu;
// model/batch_normalization/FusedBatchNormV3;model/conv2d/Conv2D"), whose
// first names the Keras layer of the source graph (mapTensors).
//
// Each row has two errors. The accumulated one compares the device's value
// with the reference run from the model's inputs (max abs, RMSE in steps of
// the tensor's quantization scale, cosine). The layer's own error compares
// it with the reference of this layer alone fed the device's own values of
// its inputs (dequantized with their scales and zero points), so an error
// made earlier is not blamed on it, and is judged at the tolerance of the
// tensor's precision: an int8 tensor within Int8Steps steps of its own scale
// per operator that computes it (see Int8Steps for why), after clamping the
// reference to the tensor's int8 range (saturation at the calibrated range
// is what int8 does); a float tensor at the output policy of its precision
// (dynamic for a hybrid operator's output, float16 for an operator with
// float16 weights, float32 raised to the value's float32 noise floor). The
// first layer whose own error exceeds its bound is where the .tflite goes
// wrong.
package locate
