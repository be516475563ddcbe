//go:build cgo

package keras

import (
	"path/filepath"
	"testing"
)

// BenchmarkLoad measures conversion of a whole .h5 file to a graph (HDF5
// reading, config parsing, weight conversion, graph building and
// validation). The target is under 100 ms for both models.
func BenchmarkLoad(b *testing.B) {
	for _, rel := range []string{"keras/mlcommons-tiny/vww_96.h5", "keras/mlcommons-tiny/pretrainedResnet.h5"} {
		p := fixture(b, rel)
		b.Run(filepath.Base(rel), func(b *testing.B) {
			for b.Loop() {
				if _, err := Load(p, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadKeras measures a Keras 3 .keras archive (zip extraction
// included).
func BenchmarkLoadKeras(b *testing.B) {
	for b.Loop() {
		if _, err := Load("testdata/k3_conv_seq.keras", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
