package torch

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/runtime"
)

// TestAttentionOnLiteRT converts every format of every attention case
// (each reads into its own graph: the SDPA op, core ATen's bmm and safe
// softmax, the library modules) at float32, float16 and dynamic range,
// runs the .tflite in the real LiteRT runtime and holds its outputs to
// PyTorch's under each precision's tolerance policy.
func TestAttentionOnLiteRT(t *testing.T) {
	if os.Getenv("EDGEVAL_SKIP_LITERT") != "" {
		t.Skip("EDGEVAL_SKIP_LITERT is set: not running the LiteRT WebAssembly runtime")
	}
	dirs, err := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "torch", "attn_*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	rt, err := runtime.Get("litert")
	require.NoError(t, err)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-16s %-21s %-8s %-7s %s\n", "case", "file", "prec", "verdict", "max abs err / range")
	for _, dir := range dirs {
		c, err := corpus.ReadCase(dir)
		require.NoError(t, err)
		names := make([]string, len(c.Outputs))
		for i, o := range c.Outputs {
			names[i] = o.Name
		}
		for _, m := range c.Models {
			for _, p := range []precision.Precision{precision.Float32, precision.Float16, precision.Dynamic} {
				t.Run(filepath.Base(dir)+"/"+m.File+"/"+p.String(), func(t *testing.T) {
					verdict, rel := "fail", math.NaN()
					defer func() {
						fmt.Fprintf(&table, "%-16s %-21s %-8s %-7s %.2g\n", filepath.Base(dir), m.File, p, verdict, rel)
					}()
					ins, want, err := c.Expected(m.Expected)
					require.NoError(t, err)
					o := Options{}
					switch {
					case m.NeedsArch:
						o.Arch = c.Path(c.Arch)
					case m.Format == "torch-full-pth":
						o.Arch = inputOnlyArch(t, c)
					}
					g, err := Load(c.Path(m.File), o)
					require.NoError(t, err)
					cg, err := passes.Canonicalize(g, passes.Options{})
					require.NoError(t, err)
					b, _, err := convtflite.Convert(cg, convtflite.Options{Batch: c.Batch(), Precision: p})
					require.NoError(t, err)
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					s, err := rt.Open(ctx, b, runtime.Options{Batch: c.Batch(), Timeout: time.Minute})
					require.NoError(t, err)
					defer s.Close()
					got, err := corpus.RunMapped(ctx, s, c.Inputs, ins, c.Outputs)
					require.NoError(t, err)
					rel, err = corpus.ComparePrecision(p, names, want, got)
					if assert.NoError(t, err, "LiteRT vs PyTorch under the %s policy", p) {
						verdict = "pass"
					}
				})
			}
		}
	}
	t.Log(table.String())
}
