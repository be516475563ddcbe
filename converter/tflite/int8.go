package tflite

import (
	"errors"

	tfl "github.com/edgeval/edgeval/tflite"
)

func (w *writer) int8Model(ins, outs []int, sigIn, sigOut []tfl.SignatureTensor) ([]int, []int, []tfl.SignatureTensor, []tfl.SignatureTensor) {
	w.fail(errors.New("int8 is not implemented yet"))
	return ins, outs, sigIn, sigOut
}
