// Package quantize calibrates a graph for full-integer quantization: it
// runs the Go reference (reference.Program.RunAll) over a representative
// dataset and records the range every graph value takes, the ranges
// converter/tflite's Int8 precision derives each activation's scale and
// zero point from (per tensor; weights are quantized per channel from
// their own values there). The default method, min/max over the
// representative dataset, is what TFLite's converter does; the percentile
// method (Method, ParseMethod) takes the (100−P)-th and P-th percentiles
// instead, exactly (nearest rank over every element of every sample, kept
// in bounded heaps of the tails: no histogram), so that rare outliers do
// not widen the scale of every other value.
package quantize
