package tflite

import (
	"fmt"

	"github.com/edgeval/edgeval/tflite/internal/fb"
)

// quantDetailsName names a QuantizationDetails union member.
func quantDetailsName(t byte) string {
	if n, ok := fb.EnumNamesQuantizationDetails[fb.QuantizationDetails(t)]; ok {
		return n
	}
	if t == 3 { // not in the schema subset
		return "MultiAxisQuantization"
	}
	return fmt.Sprintf("QuantizationDetails(%d)", t)
}
