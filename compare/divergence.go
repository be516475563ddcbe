package compare

import (
	"fmt"
	"strings"
)

// Divergence says where a failing conversion first goes wrong (see package
// locate).
type Divergence struct {
	// Stage is "pass" (a converter pass changed the outputs) or "layer"
	// (a layer's output on the device differs from the reference).
	Stage string `json:"stage"`
	// Pass is the name of the first pass that changed the outputs.
	Pass string `json:"pass,omitempty"`
	// Node is the source layer's name (Keras layer, PyTorch module path)
	// and Op its kind, for a layer finding.
	Node string `json:"node,omitempty"`
	Op   string `json:"op,omitempty"`
	// Value is the graph value (and .tflite tensor name) that diverges;
	// for a pass finding, the model output that left the tolerance.
	Value     string    `json:"value,omitempty"`
	Metrics   Metrics   `json:"metrics"`
	Tolerance Tolerance `json:"tolerance"`
	// Compared is how many layers (or passes) were checked up to the
	// finding.
	Compared int `json:"compared"`
	// Why says how the layer exceeds what its precision explains, when
	// the bound is not Tolerance's alone (an int8 range that clips its
	// values).
	Why []string `json:"why,omitempty"`
	// Layers is every compared layer's error in topological order, before
	// and after the finding, for a layer finding (the report's per-layer
	// chart).
	Layers []LayerError `json:"layers,omitempty"`
}

// LayerError is one layer's output on the device against the reference.
type LayerError struct {
	Node string `json:"node"`
	Op   string `json:"op"`
	// Value is the graph value (and .tflite tensor name) compared.
	Value     string  `json:"value"`
	MaxAbs    float64 `json:"max_abs"`
	Tolerance float64 `json:"tolerance"`
	Cosine    float64 `json:"cosine"`
	Pass      bool    `json:"pass"`
}

// String describes d in one line.
func (d *Divergence) String() string {
	if d.Stage == "pass" {
		return fmt.Sprintf("converter pass %s changes output %q (max abs %.3g > %.3g)", d.Pass, d.Value, d.Metrics.MaxAbs, d.Tolerance.MaxAbs)
	}
	if len(d.Why) > 0 {
		return fmt.Sprintf("first diverging layer %q (%s), tensor %q: %s (%d layers compared)", d.Node, d.Op, d.Value, strings.Join(d.Why, "; "), d.Compared)
	}
	return fmt.Sprintf("first diverging layer %q (%s), tensor %q: max abs %.3g > %.3g, cosine %.6f (%d layers compared)",
		d.Node, d.Op, d.Value, d.Metrics.MaxAbs, d.Tolerance.MaxAbs, d.Metrics.Cosine, d.Compared)
}
