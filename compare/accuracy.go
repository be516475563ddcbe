package compare

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/tensor"
)

// MaxConfusionClasses bounds the classes of an output whose confusion
// matrices are kept (1,000 classes would write two million counts).
const MaxConfusionClasses = 100

// DefaultMaxAccuracyDrop is the largest drop of top-1 accuracy, in
// percentage points, from the reference to the device that passes.
const DefaultMaxAccuracyDrop = 1.0

// Accuracy is how often the reference and the device name the right class
// on labelled data, and what the conversion cost.
type Accuracy struct {
	// Output is the judged output (class scores, [N, C]).
	Output string `json:"output"`
	// Samples is the number of labelled rows; Classes the output's width.
	Samples int `json:"samples"`
	Classes int `json:"classes"`
	// ClassNames are the dataset's class names by index (folder names).
	ClassNames []string `json:"class_names,omitempty"`
	Reference  TopK     `json:"reference"`
	Device     TopK     `json:"device"`
	// DropPoints is the reference's top-1 accuracy minus the device's, in
	// percentage points (negative when the device is right more often).
	DropPoints float64 `json:"drop_points"`
	// MaxDropPoints is the largest drop that passes.
	MaxDropPoints float64 `json:"max_drop_points"`
	Pass          bool    `json:"pass"`
	// Why says why it failed.
	Why []string `json:"why,omitempty"`
	// PerClass is the top-1 accuracy of each class (by label).
	PerClass []ClassAccuracy `json:"per_class"`
	// Confusion[i][j] counts the rows of true class i the device gave
	// class j as top-1; ReferenceConfusion the same for the reference.
	// Both are left out above MaxConfusionClasses classes.
	Confusion          [][]int `json:"confusion,omitempty"`
	ReferenceConfusion [][]int `json:"reference_confusion,omitempty"`
}

// TopK is one side's accuracy.
type TopK struct {
	// Top1 is the fraction of rows whose largest score is the label's.
	Top1        float64 `json:"top1"`
	Top1Correct int     `json:"top1_correct"`
	// Top5 is the fraction whose label is among the five largest scores,
	// when there are more than five classes.
	Top5        *float64 `json:"top5,omitempty"`
	Top5Correct *int     `json:"top5_correct,omitempty"`
}

// ClassAccuracy is the top-1 accuracy of one class.
type ClassAccuracy struct {
	Class     int     `json:"class"`
	Name      string  `json:"name,omitempty"`
	Samples   int     `json:"samples"`
	Reference float64 `json:"reference"`
	Device    float64 `json:"device"`
}

// AccuracyOptions say how accuracy is judged.
type AccuracyOptions struct {
	// MaxDrop is the largest top-1 drop, in percentage points, that passes
	// (0: DefaultMaxAccuracyDrop; negative: accuracy is reported, never
	// judged).
	MaxDrop float64
	// ClassNames name the classes by index.
	ClassNames []string
	// AnyRank measures an output of any rank, rows along its last axis;
	// without it the output must be class scores of rank 2 ([N, C]).
	AnyRank bool
}

// MeasureAccuracy measures the top-1 and top-5 accuracy of the reference
// (ref) and the device (dev) outputs against labels, one per row, and
// judges the drop. ref and dev hold the same number of values; ref's shape
// is used. Ties go to the lower class index, as numpy's argmax.
func MeasureAccuracy(name string, ref, dev *tensor.Tensor, labels []int, o AccuracyOptions) (*Accuracy, error) {
	shape := ref.Shape
	if len(shape) == 0 || (!o.AnyRank && len(shape) != 2) {
		return nil, fmt.Errorf("output %q has shape %v: accuracy needs class scores of rank 2 ([N, C])", name, shape)
	}
	c := shape[len(shape)-1]
	if c < 2 {
		return nil, fmt.Errorf("output %q has shape %v: accuracy needs at least 2 class scores per row", name, shape)
	}
	if dev.NumElements() != ref.NumElements() {
		return nil, fmt.Errorf("output %q: the device gave %d values (shape %v), the reference %d (shape %v)", name, dev.NumElements(), dev.Shape, ref.NumElements(), shape)
	}
	r, d := Floats(ref), Floats(dev)
	rows := len(r) / c
	if len(labels) != rows {
		return nil, fmt.Errorf("output %q: %d rows of class scores but %d labels", name, rows, len(labels))
	}
	if len(o.ClassNames) > c {
		return nil, fmt.Errorf("output %q gives %d class scores but the dataset has %d classes (%v…)", name, c, len(o.ClassNames), o.ClassNames[:min(len(o.ClassNames), 12)])
	}
	maxDrop := o.MaxDrop
	if maxDrop == 0 {
		maxDrop = DefaultMaxAccuracyDrop
	}
	a := &Accuracy{
		Output: name, Samples: rows, Classes: c, ClassNames: o.ClassNames, MaxDropPoints: math.Max(maxDrop, 0),
	}
	refConf, devConf := square(c), square(c)
	perRef, perDev, perN := make([]int, c), make([]int, c), make([]int, c)
	var ref5, dev5 int
	for i, l := range labels {
		if l < 0 || l >= c {
			return nil, fmt.Errorf("output %q: label %d of row %d is not one of its %d classes", name, l, i, c)
		}
		rr, dr := r[i*c:(i+1)*c], d[i*c:(i+1)*c]
		rt, dt := argmax(rr), argmax(dr)
		if refConf != nil {
			refConf[l][rt]++
			devConf[l][dt]++
		}
		perN[l]++
		if rt == l {
			a.Reference.Top1Correct++
			perRef[l]++
		}
		if dt == l {
			a.Device.Top1Correct++
			perDev[l]++
		}
		if c > 5 {
			if slices.Contains(topK(rr, 5), l) {
				ref5++
			}
			if slices.Contains(topK(dr, 5), l) {
				dev5++
			}
		}
	}
	frac := func(k, n int) float64 {
		if n == 0 {
			return 0
		}
		return float64(k) / float64(n)
	}
	a.Reference.Top1 = frac(a.Reference.Top1Correct, rows)
	a.Device.Top1 = frac(a.Device.Top1Correct, rows)
	if c > 5 {
		r5, d5 := frac(ref5, rows), frac(dev5, rows)
		a.Reference.Top5, a.Reference.Top5Correct = &r5, &ref5
		a.Device.Top5, a.Device.Top5Correct = &d5, &dev5
	}
	// In points, from the counts: exact for equal counts.
	a.DropPoints = 100 * float64(a.Reference.Top1Correct-a.Device.Top1Correct) / float64(max(rows, 1))
	for k := range c {
		ca := ClassAccuracy{Class: k, Samples: perN[k], Reference: frac(perRef[k], perN[k]), Device: frac(perDev[k], perN[k])}
		if k < len(o.ClassNames) {
			ca.Name = o.ClassNames[k]
		}
		a.PerClass = append(a.PerClass, ca)
	}
	if c <= MaxConfusionClasses {
		a.Confusion, a.ReferenceConfusion = devConf, refConf
	}
	a.Pass = true
	if o.MaxDrop >= 0 && a.DropPoints > maxDrop+1e-9 {
		a.Pass = false
		a.Why = append(a.Why, fmt.Sprintf("top-1 accuracy drops by %.2f points (reference %.2f%%, device %.2f%%) > %.2f allowed", a.DropPoints, 100*a.Reference.Top1, 100*a.Device.Top1, maxDrop))
	}
	return a, nil
}

// square returns an n×n matrix of zeros, or nil above
// MaxConfusionClasses (nothing is counted in a nil row).
func square(n int) [][]int {
	if n > MaxConfusionClasses {
		return nil
	}
	m := make([][]int, n)
	for i := range m {
		m[i] = make([]int, n)
	}
	return m
}
