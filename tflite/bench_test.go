package tflite

import "testing"

func BenchmarkRead(b *testing.B) {
	for _, f := range []string{"keras/mlcommons-tiny/vww_96_float.tflite", "tflite/tflite-micro/person_detect.tflite"} {
		raw := fixture(b, f)
		b.Run(f, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := Read(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkExposeTensors(b *testing.B) {
	raw := fixture(b, "keras/mlcommons-tiny/vww_96_float.tflite")
	m, err := Read(raw)
	if err != nil {
		b.Fatal(err)
	}
	tensors := intermediates(m, 0)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := ExposeTensors(raw, 0, tensors); err != nil {
			b.Fatal(err)
		}
	}
}
