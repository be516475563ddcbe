package tflite

import (
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/internal/testutil"
)

// zooModels are the zoo's largest members by weight bytes (and ResNet50,
// issue 16's yardstick), as testdata/gen/zoo.py writes them.
var zooModels = []string{"resnet50", "resnet_rs50", "convnext_tiny", "inception_v3", "mobilenet_v2"}

// zooDir is $EDGEVAL_ZOO, else /tmp/edgeval-zoo when it exists.
func zooDir(b testing.TB) string {
	dir := os.Getenv("EDGEVAL_ZOO")
	if dir == "" {
		dir = "/tmp/edgeval-zoo"
	}
	if _, err := os.Stat(filepath.Join(dir, "keras")); err != nil {
		b.Skipf("no zoo at %s (make it with testdata/gen/zoo.py DIR and set EDGEVAL_ZOO)", dir)
	}
	return dir
}

// weightBytes is the size of the graph's constants.
func weightBytes(g *graph.Graph) int64 {
	var n int64
	for _, v := range g.Values() {
		if v.IsConst() {
			n += int64(len(v.Const.Data))
		}
	}
	return n
}

// BenchmarkConvertZoo measures the conversion of zoo models from a loaded
// .h5 graph to .tflite bytes (Canonicalize + Convert, what validate times
// as "convert"); the throughput is of the model's weight bytes, so
// benchstat prints MB/s (issue 16: >= 500 MB/s; ResNet50 < 250 ms), and
// cpu-ms/op is the CPU time, which a loaded machine inflates less.
func BenchmarkConvertZoo(b *testing.B) { benchmarkConvertZoo(b, false) }

// BenchmarkConvertZooFresh is BenchmarkConvertZoo with the heap's free
// memory returned to the system before each conversion (timer stopped), as
// validate does before it converts: the conversion then pays for the fresh
// pages it writes (page faults: ~0.45 ms per MB on the reference machine,
// half of a ResNet50 conversion), which a warm benchmark loop reusing its
// own freed memory does not show.
func BenchmarkConvertZooFresh(b *testing.B) { benchmarkConvertZoo(b, true) }

func benchmarkConvertZoo(b *testing.B, fresh bool) {
	dir := zooDir(b)
	for _, name := range zooModels {
		b.Run(name, func(b *testing.B) {
			g, err := keras.Load(filepath.Join(dir, "keras", name, "model_k2.h5"), keras.Options{})
			if errors.Is(err, hdf5.ErrNotBuilt) {
				b.Skip("needs cgo")
			}
			require.NoError(b, err)
			b.SetBytes(weightBytes(g))
			cpu := testutil.CPUTime(b)
			for b.Loop() {
				if fresh {
					b.StopTimer()
					cpuStopped := testutil.CPUTime(b)
					debug.FreeOSMemory()
					cpu += testutil.CPUTime(b) - cpuStopped
					b.StartTimer()
				}
				c, err := passes.Canonicalize(g, passes.Options{})
				require.NoError(b, err)
				_, _, err = Convert(c, Options{})
				require.NoError(b, err)
			}
			testutil.ReportCPU(b, cpu)
		})
	}
}
