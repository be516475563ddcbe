package tflite

//go:generate sh schema/generate.sh
