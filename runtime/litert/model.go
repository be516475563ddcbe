package litert

import (
	"errors"
	"fmt"

	"github.com/edgeval/edgeval/tensor"
)

// modelMeta is what the Go side knows about a model before LiteRT loads it.
// quant maps a signature input/output name to its quantization parameters.
type modelMeta struct {
	inQuant, outQuant map[string]*tensor.Quant
}

// tfliteIdentifier is the FlatBuffers file identifier of a .tflite model.
const tfliteIdentifier = "TFL3"

// prepareModel checks that b looks like a .tflite flatbuffer (a
// *runtime.ModelError names what is wrong otherwise) and pins dynamic
// dimensions to batch.
func prepareModel(b []byte, batch int, signature string) ([]byte, *modelMeta, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("%d bytes is too short for a .tflite flatbuffer", len(b))
	}
	if string(b[4:8]) != tfliteIdentifier {
		return nil, nil, fmt.Errorf("no %q file identifier at offset 4 (got %q): not a .tflite flatbuffer", tfliteIdentifier, b[4:8])
	}
	return b, &modelMeta{}, nil
}

// errNeedPin is returned when a session asks for a batch other than 1 on a
// model whose batch dimension is dynamic and no pinning is available.
var errNeedPin = errors.New("the model's batch dimension is dynamic and pinning it to a batch other than 1 needs the tflite package's PinDynamicDims")
