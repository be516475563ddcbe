package zz

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/runtime/litert"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

func run(t *testing.T, model []byte, sig string, seed uint64) ([]runtime.TensorInfo, []*tensor.Tensor) {
	s, err := litert.New().Open(context.Background(), model, runtime.Options{Signature: sig})
	require.NoError(t, err)
	defer s.Close()
	rng := tensor.NewRNG(seed)
	var in []*tensor.Tensor
	for _, ti := range s.Inputs() {
		in = append(in, tensor.Random(rng, ti.DType, ti.Shape, 0, 1))
	}
	res, err := s.Run(context.Background(), in)
	require.NoError(t, err)
	return s.Outputs(), res.Outputs
}

func TestLiteRT(t *testing.T) {
	files := []string{
		"keras/mlcommons-tiny/pretrainedResnet.tflite",
		"keras/mlcommons-tiny/vww_96_float.tflite",
		"keras/mlcommons-tiny/ad01_fp32.tflite",
		"tflite/tflite-micro/hello_world_float.tflite",
		"tflite/litert/rope.tflite",
		"tflite/litert/norm.tflite",
		"tflite/litert/multi_signature_model.tflite",
		"tflite/litert/simple_group_norm_op.tflite",
		"tflite/litert/k_einsum.tflite",
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("/work/shared/fixtures", f))
			require.NoError(t, err)
			m, err := tflite.Read(b)
			require.NoError(t, err)
			sig := ""
			sg := 0
			if len(m.Signatures) > 0 {
				sig = m.Signatures[0].Key
				sg = m.Signatures[0].Subgraph
			}
			var inter []int
			g := m.Subgraphs[sg]
			for _, op := range g.Operators {
				for _, o := range op.Outputs {
					if !slices.Contains(g.Outputs, o) && !slices.Contains(inter, o) {
						inter = append(inter, o)
					}
				}
			}
			patched, err := tflite.ExposeTensors(b, sg, inter)
			require.NoError(t, err)
			info0, out0 := run(t, b, sig, 7)
			info1, out1 := run(t, patched, sig, 7)
			t.Logf("%s: %d outputs -> %d outputs (%d intermediates)", f, len(out0), len(out1), len(inter))
			require.Len(t, out1, len(out0)+len(inter))
			names := map[string]*tensor.Tensor{}
			for i, ti := range info1 {
				names[ti.Name] = out1[i]
			}
			for i, ti := range info0 {
				require.Contains(t, names, ti.Name)
				assert.Equal(t, out0[i].Data, names[ti.Name].Data, ti.Name)
			}
		})
	}
	t.Run("pinned dynamic", func(t *testing.T) {
		b, _ := os.ReadFile("/work/shared/fixtures/tflite/litert/simple_add_dynamic_shape.tflite")
		p, err := tflite.PinDynamicDims(b, 1)
		require.NoError(t, err)
		info, out := run(t, p, "", 1)
		t.Log(info[0].Shape, len(out))
	})
}

func TestLiteRTExternal(t *testing.T) {
	b, _ := os.ReadFile("/work/shared/fixtures/tflite/litert/simple_group_norm_op.tflite")
	p, err := tflite.ExposeTensors(b, 0, []int{0})
	require.NoError(t, err)
	m0, _ := tflite.Read(b)
	m1, _ := tflite.Read(p)
	t.Log(len(b), len(p), m0.Buffers[2].Offset, m1.Buffers[2].Offset)
	_, out0 := run(t, b, "serving_default", 3)
	info1, out1 := run(t, p, "serving_default", 3)
	require.Len(t, out1, 2)
	t.Log(info1[0].Name, info1[1].Name, out0[0].Float32s(), out1[0].Float32s())
	assert.Equal(t, out0[0].Data, out1[0].Data)
}
