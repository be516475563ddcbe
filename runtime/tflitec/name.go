package tflitec

// Name is the registry name of this backend.
const Name = "tflite"

// InfoName is the runtime name sessions report in Info.
const InfoName = "tflite-c"
