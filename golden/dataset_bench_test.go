//go:build unix

package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// benchFolder writes 1,000 copies of the real images in srcs into an
// ImageFolder tree of 10 classes.
func benchFolder(b *testing.B, srcs []string) string {
	b.Helper()
	dir := b.TempDir()
	for i := range 1000 {
		data, err := os.ReadFile(srcs[i%len(srcs)])
		require.NoError(b, err)
		p := filepath.Join(dir, fmt.Sprint(i%10), fmt.Sprintf("%04d.png", i))
		require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(b, os.WriteFile(p, data, 0o644))
	}
	return dir
}

// cpuTime is the CPU time this process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDataset1000PNG opens a folder of 1,000 PNGs (every header
// checked) and decodes and preprocesses every image into model inputs,
// as a validation reads them: the digits (16×16 gray, scaled), and a
// real photograph's 48×64 RGB crop resized to 96×96 with ImageNet's mean
// and std. images/s is the throughput (one goroutine), images/cpu-s per
// second of CPU.
func BenchmarkDataset1000PNG(b *testing.B) {
	digits, err := filepath.Glob(filepath.Join(digitsDir, "test", "*", "*.png"))
	require.NoError(b, err)
	require.NotEmpty(b, digits)
	cases := []struct {
		name string
		srcs []string
		spec InputSpec
		pre  Preprocess
	}{
		{"digits_16x16_gray", digits, grayNHWC, Preprocess{Scale: 1.0 / 255}},
		{"photo_48x64_to_96x96_rgb_normalized", []string{filepath.Join(imagesDir, "photo.png")},
			InputSpec{Name: "image", Shape: []int{1, 96, 96, 3}, DType: tensor.Float32, Layout: "NHWC"},
			Preprocess{Resize: [2]int{96, 96}, Scale: 1.0 / 255, Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			dir := benchFolder(b, c.srcs)
			b.ResetTimer()
			t0, c0 := time.Now(), cpuTime()
			for range b.N {
				d, err := OpenDataset(dir, []InputSpec{c.spec}, DatasetOptions{Preprocess: c.pre})
				if err != nil {
					b.Fatal(err)
				}
				for i := range d.Len() {
					if _, err := d.Sample(i); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(1000*b.N)/time.Since(t0).Seconds(), "images/s")
			// Per second of this process's CPU: steadier than wall time on
			// a shared machine.
			b.ReportMetric(float64(1000*b.N)/(cpuTime()-c0).Seconds(), "images/cpu-s")
		})
	}
}
