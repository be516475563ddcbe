package tflitec

// Name is the registry name of this backend.
const Name = "tflite"

// InfoName is the runtime name sessions report in Info.
const InfoName = "tflite-c"

// rebuildHint says how to get a binary with this backend.
const rebuildHint = "rebuild with -tags tflite and libtensorflowlite_c installed (scripts/get-tflite-c.sh fetches it)"
