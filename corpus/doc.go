// Package corpus enumerates the generated layer-coverage corpus in
// testdata/corpus (small Keras and PyTorch models made by the real
// frameworks, their seeded inputs and outputs, and the real TFLite
// converter's conversions; see testdata/gen/README.md) and holds the helpers
// its tests use: reading a case's expected tensors, comparing outputs under
// the float32 policy of package golden, and the known-failures list.
//
// The tests of this package (go test ./corpus/) walk every case without
// Python: the Go reference against the framework's outputs, our .tflite on
// LiteRT against the framework's outputs, and our .tflite against the real
// converter's on LiteRT; with -tags tflite also on the TFLite C runtime.
package corpus
