package compare

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// scores makes [rows, c] class scores whose top-1 is top[i] (score 1;
// then class (top[i]+1)%c at 0.5 and the rest 0).
func scores(c int, top ...int) *tensor.Tensor {
	v := make([]float32, len(top)*c)
	for i, k := range top {
		v[i*c+k] = 1
		v[i*c+(k+1)%c] = 0.5
	}
	return tensor.FromFloat32([]int{len(top), c}, v)
}

func TestMeasureAccuracy(t *testing.T) {
	labels := []int{0, 1, 2, 2}
	tests := []struct {
		name       string
		c          int
		ref, dev   []int
		o          AccuracyOptions
		refCorrect int
		devCorrect int
		drop       float64
		pass       bool
		top5       bool
	}{
		{"same answers", 3, []int{0, 1, 2, 0}, []int{0, 1, 2, 0}, AccuracyOptions{}, 3, 3, 0, true, false},
		{"one more wrong: 25 points", 3, []int{0, 1, 2, 2}, []int{0, 1, 2, 0}, AccuracyOptions{}, 4, 3, 25, false, false},
		{"within a loose bound", 3, []int{0, 1, 2, 2}, []int{0, 1, 2, 0}, AccuracyOptions{MaxDrop: 30}, 4, 3, 25, true, false},
		{"not judged", 3, []int{0, 1, 2, 2}, []int{1, 1, 1, 1}, AccuracyOptions{MaxDrop: -1}, 4, 1, 75, true, false},
		{"device better", 3, []int{1, 1, 2, 2}, []int{0, 1, 2, 2}, AccuracyOptions{}, 3, 4, -25, true, false},
		{"top-5 beyond five classes", 7, []int{0, 1, 2, 2}, []int{6, 1, 2, 0}, AccuracyOptions{}, 4, 2, 50, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := MeasureAccuracy("probs", scores(tc.c, tc.ref...), scores(tc.c, tc.dev...), labels, tc.o)
			require.NoError(t, err)
			assert.Equal(t, 4, a.Samples)
			assert.Equal(t, tc.c, a.Classes)
			assert.Equal(t, tc.refCorrect, a.Reference.Top1Correct)
			assert.Equal(t, tc.devCorrect, a.Device.Top1Correct)
			assert.InDelta(t, float64(tc.refCorrect)/4, a.Reference.Top1, 1e-12)
			assert.InDelta(t, tc.drop, a.DropPoints, 1e-9)
			assert.Equal(t, tc.pass, a.Pass, "%v", a.Why)
			assert.Equal(t, tc.pass, len(a.Why) == 0)
			assert.Equal(t, tc.top5, a.Device.Top5 != nil)
			// The confusion matrices hold every row, on the diagonal when right.
			sum, diag := 0, 0
			for i, row := range a.Confusion {
				for j, n := range row {
					sum += n
					if i == j {
						diag += n
					}
				}
			}
			assert.Equal(t, 4, sum)
			assert.Equal(t, tc.devCorrect, diag)
			require.Len(t, a.PerClass, tc.c)
			assert.Equal(t, 2, a.PerClass[2].Samples)
		})
	}

	t.Run("per class and top-5 by hand", func(t *testing.T) {
		// Class 2's rows: the device says 2 then 0; top-5 of the second
		// row (score 1 for 0, 0.5 for 1, then ties in index order 2..6)
		// holds 2.
		a, err := MeasureAccuracy("p", scores(7, 0, 1, 2, 2), scores(7, 0, 1, 2, 0), labels, AccuracyOptions{ClassNames: []string{"a", "b", "c"}, MaxDrop: 50})
		require.NoError(t, err)
		assert.Equal(t, ClassAccuracy{Class: 2, Name: "c", Samples: 2, Reference: 1, Device: 0.5}, a.PerClass[2])
		assert.Equal(t, ClassAccuracy{Class: 5, Samples: 0}, a.PerClass[5])
		require.NotNil(t, a.Device.Top5Correct)
		assert.Equal(t, 4, *a.Device.Top5Correct)
		assert.Equal(t, 1, a.Confusion[2][0])
		assert.Equal(t, 2, a.ReferenceConfusion[2][2])
		assert.True(t, a.Pass)
	})

	errs := []struct {
		name     string
		ref, dev *tensor.Tensor
		labels   []int
		o        AccuracyOptions
		want     string
	}{
		{"feature map", tensor.New(tensor.Float32, []int{4, 3, 2, 2}), tensor.New(tensor.Float32, []int{4, 3, 2, 2}), labels, AccuracyOptions{}, "accuracy needs class scores of rank 2"},
		{"label out of range", scores(3, 0, 1, 2, 2), scores(3, 0, 1, 2, 2), []int{0, 1, 3, 2}, AccuracyOptions{}, "label 3 of row 2 is not one of its 3 classes"},
		{"labels count", scores(3, 0, 1, 2, 2), scores(3, 0, 1, 2, 2), []int{0, 1}, AccuracyOptions{}, "4 rows of class scores but 2 labels"},
		{"more classes than scores", scores(3, 0, 1, 2, 2), scores(3, 0, 1, 2, 2), labels, AccuracyOptions{ClassNames: []string{"a", "b", "c", "d"}}, "gives 3 class scores but the dataset has 4 classes"},
		{"sizes differ", scores(3, 0, 1, 2, 2), scores(3, 0, 1, 2), labels, AccuracyOptions{}, "the device gave 9 values"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MeasureAccuracy("p", tc.ref, tc.dev, tc.labels, tc.o)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("any rank when asked", func(t *testing.T) {
		fm := tensor.FromFloat32([]int{2, 1, 2}, []float32{1, 0, 0, 1})
		a, err := MeasureAccuracy("fm", fm, fm, []int{0, 1}, AccuracyOptions{AnyRank: true})
		require.NoError(t, err)
		assert.Equal(t, 2, a.Reference.Top1Correct)
	})
	t.Run("confusion left out for many classes", func(t *testing.T) {
		s := scores(MaxConfusionClasses+1, 0, 1, 2, 2)
		a, err := MeasureAccuracy("p", s, s, labels, AccuracyOptions{})
		require.NoError(t, err)
		assert.Nil(t, a.Confusion)
		assert.Nil(t, a.ReferenceConfusion)
		assert.Equal(t, 4, a.Device.Top1Correct)
	})
}

func TestOutputsPassCountsAccuracy(t *testing.T) {
	r := &Result{Verdict: VerdictPass, Outputs: []OutputResult{{Name: "p", Pass: true}}}
	assert.True(t, r.Passed())
	r.Accuracy = &Accuracy{Pass: true}
	assert.True(t, r.Passed())
	r.Accuracy.Pass = false
	assert.False(t, r.OutputsPass(), "an accuracy drop beyond its bound fails the run")
}
