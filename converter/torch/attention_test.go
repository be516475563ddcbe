package torch

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
)

// attnRefused are the attention case files refused on purpose, with a
// part of the refusal.
var attnRefused = map[string]string{}

// TestAttentionModels reads every format of the attention cases
// (testdata/gen/gen_torch_attention.py: a tiny torchvision ViT,
// nn.TransformerEncoder post-norm and pre-norm, nn.MultiheadAttention with
// kdim/vdim and its weights, scaled_dot_product_attention with float,
// boolean and causal masks) and checks the Go reference against PyTorch's
// own outputs, within 1e-5 of each output's range.
func TestAttentionModels(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "torch", "attn_*"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(dirs), 5, "the attention cases of the corpus")
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-20s %-22s %-8s %s\n", "case", "file", "verdict", "max abs err / range")
	for _, dir := range dirs {
		c, err := corpus.ReadCase(dir)
		require.NoError(t, err)
		for _, m := range c.Models {
			id := filepath.Base(dir) + "/" + m.File
			t.Run(id, func(t *testing.T) {
				verdict, rel := "fail", math.NaN()
				defer func() { fmt.Fprintf(&table, "%-20s %-22s %-8s %.2g\n", filepath.Base(dir), m.File, verdict, rel) }()
				ins, want, err := c.Expected(m.Expected)
				require.NoError(t, err)
				o := Options{}
				switch {
				case m.NeedsArch:
					o.Arch = c.Path(c.Arch)
				case m.Format == "torch-full-pth":
					// A library module does not record its input's length:
					// an input-only --arch, as a user gives it.
					o.Arch = inputOnlyArch(t, c)
				}
				g, err := Load(c.Path(m.File), o)
				if why, ok := attnRefused[id]; ok {
					require.Error(t, err)
					assert.Contains(t, err.Error(), why)
					verdict = "refused"
					return
				}
				require.NoError(t, err)
				got, err := reference.Run(g, ins)
				require.NoError(t, err)
				require.Len(t, got, len(want))
				rel = 0
				for i := range want {
					require.Equal(t, want[i].Shape, got[i].Shape, "output %d", i)
					rel = max(rel, relErr(want[i].Float32s(), got[i].Float32s()))
				}
				if assert.Less(t, rel, 1e-5, "Go reference vs PyTorch, max abs error / range") {
					verdict = "pass"
				}
			})
		}
	}
	t.Log(table.String())
}

// TestAttentionBatch loads the batch-first attention cases (saved with
// batch 2) with --batch 3 and 1: the library modules' shapes follow the
// new batch and each sample's output is PyTorch's. The .pt2 programs move
// the batch off axis 0 (nn.MultiheadAttention works sequence-first; the
// heads are split from the batch-carrying axis; ViT expands its class
// token to the literal batch), which the --batch rewrite does not follow:
// each is refused by node.
func TestAttentionBatch(t *testing.T) {
	for _, name := range []string{"attn_vit", "attn_encoder", "attn_mha", "attn_sdpa_masks"} {
		c, err := corpus.ReadCase(filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "torch", name))
		require.NoError(t, err)
		for _, m := range c.Models {
			for _, idx := range [][]int{{0, 1, 0}, {1}} {
				t.Run(fmt.Sprintf("%s/%s/batch%d", name, m.File, len(idx)), func(t *testing.T) {
					ins, want, err := c.Expected(m.Expected)
					require.NoError(t, err)
					o := Options{Batch: len(idx)}
					switch {
					case m.NeedsArch:
						o.Arch = c.Path(c.Arch)
					case m.Format == "torch-full-pth":
						o.Arch = inputOnlyArch(t, c)
					}
					g, err := Load(c.Path(m.File), o)
					if strings.HasPrefix(m.Format, "torch-export-pt2") {
						require.Error(t, err)
						assert.Contains(t, err.Error(), "--batch cannot rewrite it")
						assert.Contains(t, err.Error(), fmt.Sprintf("give --batch %d, the batch the program was exported with", c.Batch()),
							"the refusal names the batch that validates the program as exported")
						return
					}
					require.NoError(t, err)
					for i := range ins {
						ins[i] = repeatBatch(ins[i], idx)
					}
					got, err := reference.Run(g, ins)
					require.NoError(t, err)
					for i := range want {
						w := repeatBatch(want[i], idx)
						require.Equal(t, w.Shape, got[i].Shape)
						assert.Less(t, relErr(w.Float32s(), got[i].Float32s()), 1e-5, "output %d", i)
					}
				})
			}
		}
	}
}
