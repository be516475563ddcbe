package torch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

type sourceCase struct {
	Class      string `json:"class"`
	ClassArgs  string `json:"class_args"`
	InputShape []int  `json:"input_shape"`
	Key        string `json:"checkpoint_key"`
	Files      []string
	Outputs    int `json:"outputs"`
}

func readSourceCase(t *testing.T, dir string) sourceCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "case.json"))
	require.NoError(t, err)
	var c sourceCase
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

// TestSourceTutorialModels: every tutorial-style model, saved by real
// torch as a state_dict, a training checkpoint and a DataParallel
// checkpoint, is read with its own source (no YAML, no class or input
// shape given, except where the weights do not fix the input) and its Go
// reference is within 1e-5 of range of PyTorch's outputs.
func TestSourceTutorialModels(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "source", "*"))
	require.NoError(t, err)
	require.Len(t, dirs, 6)
	for _, dir := range dirs {
		c := readSourceCase(t, dir)
		arrs, err := tensor.ReadNPZ(filepath.Join(dir, "expected.npz"))
		require.NoError(t, err)
		byName := map[string]*tensor.Tensor{}
		for _, a := range arrs {
			byName[a.Name] = a.Tensor
		}
		for _, file := range []string{"state_dict.pth", "checkpoint.pth", "dataparallel.pth"} {
			t.Run(filepath.Base(dir)+"/"+file, func(t *testing.T) {
				o := Options{Batch: 2, Source: SourceOptions{Path: filepath.Join(dir, "model.py"), ClassArgs: c.ClassArgs}}
				if filepath.Base(dir) == "train_fashion" {
					o.Source.InputShape = c.InputShape // AdaptiveAvgPool2d: any size fits the weights
				}
				r, err := LoadResult(filepath.Join(dir, file), o)
				require.NoError(t, err)
				notes := strings.Join(r.Notes, "\n")
				t.Log(notes)
				assert.Contains(t, notes, "model class "+c.Class)
				assert.Contains(t, notes, "output 0 is made by layers[")
				if file != "state_dict.pth" {
					assert.Contains(t, notes, fmt.Sprintf("the weights are read from %q", c.Key))
					assert.Contains(t, notes, "optimizer")
				}
				if file == "dataparallel.pth" {
					assert.Contains(t, notes, `"module."`)
				}
				require.Len(t, r.Graph.Outputs, c.Outputs)
				got, err := reference.Run(r.Graph, []*tensor.Tensor{byName["input"]})
				require.NoError(t, err)
				for i := range got {
					name := "output"
					if c.Outputs > 1 {
						name = fmt.Sprintf("output_%d", i)
					}
					require.Equal(t, byName[name].Shape, got[i].Shape)
					e := relErr(byName[name].Float32s(), got[i].Float32s())
					t.Logf("%s: max error %.2g of range", name, e)
					assert.LessOrEqual(t, e, 1e-5, name)
				}
			})
		}
	}
}
