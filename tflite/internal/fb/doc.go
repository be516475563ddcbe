// Package fb is the Go code flatc generates from edgeval's TFLite schema
// subset (tflite/schema/schema.fbs): accessors, builders and the object API
// for the tables package tflite reads and writes.
//
// Everything except this file is generated (gen_*.go); regenerate with
// `go generate ./tflite`. The accessors do no bounds checking: package tflite
// verifies a buffer before it hands it to them.
package fb
