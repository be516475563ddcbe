// Package quantize calibrates a graph for full-integer quantization: it
// runs the Go reference (reference.Program.RunAll) over a representative
// dataset and records the smallest and largest value every graph value
// takes, the ranges converter/tflite's Int8 precision derives each
// activation's scale and zero point from. TFLite's converter calibrates the
// same way (min/max over the representative dataset).
package quantize
