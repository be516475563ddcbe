package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
)

// TestValidateZooInceptionV3 runs the deep model whose float32 noise a fixed
// tolerance misjudges (InceptionV3 at 96 px, seeded weights, BatchNorm
// calibrated; testdata/gen/zoo.py) through the CLI: our conversion and the
// real TF converter's file pass against the reference, which agrees with
// tf_keras within the noise floor; the twin with one BatchNorm epsilon
// changed (1e-3 -> 1e-1) fails as a misread model against tf_keras's
// outputs of the original. It runs when EDGEVAL_ZOO names the zoo.
func TestValidateZooInceptionV3(t *testing.T) {
	zoo := os.Getenv("EDGEVAL_ZOO")
	if zoo == "" {
		t.Skip("EDGEVAL_ZOO is not set: the zoo (1.4 GB) is made by testdata/gen/zoo.py DIR, with the real frameworks")
	}
	d := filepath.Join(zoo, "keras", "inception_v3")
	witness := []string{"--inputs", filepath.Join(d, "inputs.npy"), "--expected", filepath.Join(d, "expected.npy")}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"ours", append(witness, filepath.Join(d, "model_k2.h5")), 0},
		{"real converter", append(witness, "--tflite", filepath.Join(d, "tf_float32.tflite"), filepath.Join(d, "model_k2.h5")), 0},
		{"one BatchNorm epsilon changed", append(witness, filepath.Join(d, "perturbed_bn_eps", "model_k2.h5")), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, stderr, code := validateJSON(t, append([]string{"--out", t.TempDir()}, tc.args...)...)
			require.Equal(t, tc.code, code, stderr)
			require.NotNil(t, res.Framework)
			assert.Equal(t, tc.code == 0, res.Framework.Pass)
			for _, o := range res.Outputs {
				assert.Positive(t, o.Tolerance.NoiseFloor, "the noise floor is measured and reported")
				t.Logf("%s: max abs %.3g, noise floor %.3g, tolerance %.3g (fixed policy %.3g)", o.Name, o.Metrics.MaxAbs,
					o.Tolerance.NoiseFloor, o.Tolerance.MaxAbs, 1e-4*o.Metrics.RefRange+1e-6)
			}
			if tc.code == 0 {
				assert.Equal(t, compare.VerdictPass, res.Verdict)
			}
		})
	}
}
