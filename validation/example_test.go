package validation_test

import (
	"context"
	"fmt"

	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert" // registers the "litert" runtime
	"github.com/edgeval/edgeval/validation"
)

// A Go program validates a Keras model on this machine's LiteRT runtime:
// the model is converted to float32 .tflite, run on seeded random inputs
// and compared with the Go reference of the .h5.
func Example() {
	res, err := validation.Run(context.Background(), validation.Options{
		Model:  "../testdata/corpus/keras/dense_relu/model_k2.h5",
		Open:   validation.Local("litert", runtime.Options{}),
		Device: "host",
	})
	if err != nil {
		fmt.Println("could not validate:", err)
		return
	}
	fmt.Println(res.Verdict, res.Runtime.Name, len(res.Outputs), "output(s)")
	// Output: pass litert-wasm 1 output(s)
}
