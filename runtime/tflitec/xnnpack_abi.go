//go:build tflite

package tflitec

/*
#include <tensorflow/lite/c/common.h>
#include <tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h>

static int edgeval_xnnpack_threads(void* d) {
	const TfLiteXNNPackDelegateOptions* o = TfLiteXNNPackDelegateGetOptions((TfLiteDelegate*)d);
	return o ? o->num_threads : -1;
}
*/
import "C"

import "unsafe"

// xnnpackThreads reads num_threads back from a live XNNPACK delegate, so
// newDelegate can check that the headers' TfLiteXNNPackDelegateOptions
// layout (which go-tflite fills in) matches the library's.
func xnnpackThreads(d unsafe.Pointer) int { return int(C.edgeval_xnnpack_threads(d)) }
