package main

// The runtime backends register themselves by name; importing them here
// makes them available to --runtime.
import (
	_ "github.com/edgeval/edgeval/runtime/litert"
	_ "github.com/edgeval/edgeval/runtime/tflitec"
)
