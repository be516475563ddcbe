package budget_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/budget"
	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/reference/ref64"
)

// pipelineFootprint is what a validation of g holds at once with samples
// samples, noise of them evaluated in float64: the weights (source graph,
// converted graph, .tflite), the float32 reference for as many concurrent
// runs as RunBatch makes, the float64 reference likewise, a runtime on
// this host (about one reference run), and the samples' inputs (as read
// and as fed to the device) and outputs (the reference's on both, the
// device's).
func pipelineFootprint(g *graph.Graph, samples, noise int) (budget.Footprint, error) {
	cores := runtime.GOMAXPROCS(0)
	ref, err := reference.Footprint(g, min(cores, samples))
	if err != nil {
		return budget.Footprint{}, err
	}
	fp := ref.Plus(budget.Conversion(g)).Plus(budget.Samples(g, samples, 2, 3))
	if noise > 0 {
		f64, err := ref64.Footprint(g, min(cores, noise))
		if err != nil {
			return budget.Footprint{}, err
		}
		fp = fp.Plus(f64)
	}
	return fp, nil
}

// hostileKeras writes the corpus's one-layer ReLU .keras with its input
// declared [null, 4096, 4096, 64] (4 GiB per sample in float32): a 1 KB
// config that made a validation grow to 22 GB and be killed.
func hostileKeras(t *testing.T, dir string) string {
	src := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/act_relu/model.keras")
	zr, err := zip.OpenReader(src)
	require.NoError(t, err)
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		r, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		r.Close()
		if f.Name == "config.json" {
			n := strings.Count(string(data), "[null, 8, 7, 6]")
			require.Equal(t, 2, n, "the corpus config declares the input shape twice")
			data = []byte(strings.ReplaceAll(string(data), "[null, 8, 7, 6]", "[null, 4096, 4096, 64]"))
		}
		w, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	p := filepath.Join(dir, "hostile.keras")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

// hostileArch writes the corpus's ReLU state_dict with an --arch file
// declaring the input [1, 64, 4096, 4096].
func hostileArch(t *testing.T, dir string) (model, arch string) {
	src := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/torch/act_relu")
	arch = filepath.Join(dir, "arch.yaml")
	require.NoError(t, os.WriteFile(arch, []byte("format: edgeval-torch-arch/1\ninput: [1, 64, 4096, 4096]\nlayers: [ReLU]\n"), 0o644))
	return filepath.Join(src, "state_dict.pth"), arch
}

// loadHostile loads one of the hostile models and checks the pipeline's
// budget against limit, as the validation does before it allocates inputs.
func loadHostile(t *testing.T, which string, limit int64) error {
	dir := t.TempDir()
	var g *graph.Graph
	var err error
	switch which {
	case "keras":
		g, err = keras.Load(hostileKeras(t, dir), keras.Options{Batch: 1})
	case "torch":
		m, a := hostileArch(t, dir)
		g, err = torch.Load(m, torch.Options{Arch: a})
	default:
		t.Fatalf("unknown model %q", which)
	}
	require.NoError(t, err)
	fp, err := pipelineFootprint(g, 4, 4)
	require.NoError(t, err)
	if err := fp.Check(limit); err != nil {
		return err
	}
	// The evaluators refuse on their own too, before converting anything.
	if _, err := reference.PrepareWith(g, reference.PrepareOptions{MaxBytes: limit}); err != nil {
		return err
	}
	_, err = ref64.PrepareWith(g, ref64.PrepareOptions{MaxBytes: limit})
	return err
}

// TestHostileModelRefusedChild is the child of TestHostileModelsRefused:
// it loads one hostile model, checks the budget, and prints the error and
// its peak RSS.
func TestHostileModelRefusedChild(t *testing.T) {
	which := os.Getenv("EDGEVAL_HOSTILE_CHILD")
	if which == "" {
		t.Skip("run by TestHostileModelsRefused")
	}
	start := time.Now()
	err := loadHostile(t, which, 8<<30)
	fmt.Printf("ELAPSED %d\nVMHWM %d\nERROR %v\n", time.Since(start).Milliseconds(), testutil.PeakRSS(t), err)
}

// TestHostileModelsRefused: a 1 KB .keras declaring a [null,4096,4096,64]
// input and an --arch file declaring [1,64,4096,4096] are refused by the
// budget (8 GiB here) in well under a second, naming the input tensor,
// with a peak RSS of the child process that ran them far below one such
// tensor (4 GiB): nothing was allocated first.
func TestHostileModelsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	for _, tc := range []struct{ which, tensor string }{
		{"keras", `"in_0" [1 4096 4096 64]`},
		{"torch", `"input" [1 64 4096 4096]`},
	} {
		t.Run(tc.which, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHostileModelRefusedChild$", "-test.v")
			cmd.Env = append(os.Environ(), "EDGEVAL_HOSTILE_CHILD="+tc.which)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			var elapsed, hwm int64
			var msg string
			for _, line := range strings.Split(string(out), "\n") {
				if v, ok := strings.CutPrefix(line, "ELAPSED "); ok {
					elapsed, _ = strconv.ParseInt(v, 10, 64)
				}
				if v, ok := strings.CutPrefix(line, "VMHWM "); ok {
					hwm, _ = strconv.ParseInt(v, 10, 64)
				}
				if v, ok := strings.CutPrefix(line, "ERROR "); ok {
					msg = v
				}
			}
			t.Logf("refused in %d ms, peak RSS %s: %s", elapsed, budget.Format(hwm), msg)
			assert.Less(t, elapsed, int64(1000), "refused within a second")
			assert.Positive(t, hwm)
			assert.Less(t, hwm, int64(200<<20), "peak RSS of the child")
			assert.Contains(t, msg, "more than the 8.0 GiB limit")
			assert.Contains(t, msg, tc.tensor)
		})
	}
}

// TestRealModelWithinDefaultLimit: a real model (the corpus's Keras
// MobileNetV3Small) fits the default limit by far, and its footprint is a
// plausible size (tens to hundreds of MiB for 4 samples).
func TestRealModelWithinDefaultLimit(t *testing.T) {
	g, err := keras.Load(filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/zoo_mobilenet_v3_small/model.keras"), keras.Options{Batch: 1})
	require.NoError(t, err)
	fp, err := pipelineFootprint(g, 4, 4)
	require.NoError(t, err)
	limit, err := budget.DefaultLimit()
	require.NoError(t, err)
	assert.NoError(t, fp.Check(limit))
	t.Logf("footprint %s: %+v", budget.Format(fp.Total()), fp.Parts)
	assert.Greater(t, fp.Total(), int64(10<<20))
	assert.Less(t, fp.Total(), int64(1<<30))
}
