package validation

import (
	"fmt"

	"github.com/edgeval/edgeval/tflite"
)

// FilePrecision reads the precision of a .tflite (tflite.DetectPrecision);
// path names the file in errors.
func FilePrecision(path string, model []byte) (tflite.PrecisionInfo, error) {
	m, err := tflite.Read(model)
	if err != nil {
		return tflite.PrecisionInfo{}, inputErr(fmt.Errorf("%s: %w", path, err))
	}
	info, err := tflite.DetectPrecision(m)
	if err != nil {
		return info, inputErr(fmt.Errorf("%s: %w", path, err))
	}
	return info, nil
}

// filePrecision sets o.Precision to the precision of the .tflite given
// with TFLite (its bytes: model), or fails with a *PrecisionMismatchError
// when a Precision was given that contradicts it.
func (o *Options) filePrecision(model []byte) error {
	info, err := FilePrecision(o.TFLite, model)
	if err != nil {
		return err
	}
	if o.precisionGiven && o.Precision != info.Precision {
		return &PrecisionMismatchError{Given: o.Precision, File: info, Path: o.TFLite}
	}
	o.step("%s is %s; judged at the %s tolerance", o.TFLite, info, info.Precision)
	o.Precision = info.Precision
	return nil
}
