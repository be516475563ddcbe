package compare

import (
	"fmt"
	"math"
	"slices"
)

// Metrics compares a device output with the reference output.
type Metrics struct {
	MaxAbs  float64 `json:"max_abs"`
	MeanAbs float64 `json:"mean_abs"`
	RMSE    float64 `json:"rmse"`
	// MaxRel is max |d-r| / max(|r|, floor) where floor is 1e-3 of the
	// reference's largest magnitude, so near-zero references do not blow it
	// up.
	MaxRel float64 `json:"max_rel"`
	// Cosine is the cosine similarity of the flattened outputs (1 when both
	// are all zero).
	Cosine float64 `json:"cosine"`
	// PSNRdB is 20·log10(max|ref| / RMSE), within ±999: 999 when the outputs
	// are identical, -999 when the reference is all zero and the device
	// output is not.
	PSNRdB float64 `json:"psnr_db"`
	// RefRange is max|ref|, the scale tolerances are relative to.
	RefRange float64 `json:"ref_range"`
	// NaN and Inf counts in the device output, and in the reference.
	DeviceNaN int `json:"device_nan"`
	DeviceInf int `json:"device_inf"`
	RefNaN    int `json:"ref_nan"`
	RefInf    int `json:"ref_inf"`
	// ArgMaxAt is the flat index of the largest absolute difference.
	ArgMaxAt int `json:"argmax_at"`
	// Top1Agreement and Top5Agreement are the fractions of rows (over the
	// last axis) whose top-1 class, or top-1 class within the reference's
	// top 5, agree; nil when the output is not class scores (rank 2, [N, C]
	// with 2 to 1000 classes) and they were not asked for.
	Top1Agreement *float64 `json:"top1_agreement,omitempty"`
	Top5Agreement *float64 `json:"top5_agreement,omitempty"`
}

// psnrCap stands for an infinite PSNR in JSON, which cannot hold +Inf.
const psnrCap = 999

// Measure computes the metrics of device output d against reference r, both
// flattened in the same order. shape is used for top-k agreement, measured
// only for class scores: rank 2 ([N, C], samples first) with 2 to 1000
// classes.
func Measure(r, d []float32, shape []int) (Metrics, error) {
	return measure(r, d, shape, false)
}

// measure is Measure; anyRank measures top-k agreement along the last axis
// of an output of any rank (2 to 1000 entries).
func measure(r, d []float32, shape []int, anyRank bool) (Metrics, error) {
	if len(r) != len(d) {
		return Metrics{}, fmt.Errorf("reference has %d elements, device output %d", len(r), len(d))
	}
	var m Metrics
	var sumAbs, sumSq, dot, nr, nd float64
	finite := 0
	for _, v := range r {
		a := math.Abs(float64(v))
		switch {
		case math.IsNaN(float64(v)):
			m.RefNaN++
		case math.IsInf(float64(v), 0):
			m.RefInf++
		default:
			m.RefRange = max(m.RefRange, a)
		}
	}
	floor := max(m.RefRange*1e-3, 1e-12)
	for i := range r {
		rv, dv := float64(r[i]), float64(d[i])
		if math.IsNaN(dv) {
			m.DeviceNaN++
		} else if math.IsInf(dv, 0) {
			m.DeviceInf++
		}
		if !isFinite(rv) || !isFinite(dv) {
			continue
		}
		finite++
		diff := math.Abs(dv - rv)
		if diff > m.MaxAbs {
			m.MaxAbs, m.ArgMaxAt = diff, i
		}
		sumAbs += diff
		sumSq += diff * diff
		m.MaxRel = max(m.MaxRel, diff/max(math.Abs(rv), floor))
		dot += rv * dv
		nr += rv * rv
		nd += dv * dv
	}
	if finite > 0 {
		m.MeanAbs = sumAbs / float64(finite)
		m.RMSE = math.Sqrt(sumSq / float64(finite))
	}
	switch {
	case nr == 0 && nd == 0:
		m.Cosine = 1
	case nr == 0 || nd == 0:
		m.Cosine = 0
	default:
		m.Cosine = dot / math.Sqrt(nr*nd)
	}
	if m.RMSE == 0 {
		m.PSNRdB = psnrCap
	} else {
		// An all-zero reference gives -Inf, which JSON cannot hold.
		m.PSNRdB = max(-psnrCap, min(psnrCap, 20*math.Log10(m.RefRange/m.RMSE)))
	}
	if k := classes(shape, anyRank); k > 0 && len(r) > 0 {
		t1, t5 := topKAgreement(r, d, k)
		m.Top1Agreement, m.Top5Agreement = &t1, &t5
	}
	return m, nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// classes returns the size of the last axis when the output is class
// scores (rank 2, or any rank when anyRank; 2..1000 entries), else 0. A
// feature map [N,10,6,6] or a sequence is not ranked by its last axis.
func classes(shape []int, anyRank bool) int {
	if len(shape) == 0 || (!anyRank && len(shape) != 2) {
		return 0
	}
	k := shape[len(shape)-1]
	if k < 2 || k > 1000 {
		return 0
	}
	return k
}

func topKAgreement(r, d []float32, k int) (top1, top5 float64) {
	rows := len(r) / k
	agree1, agree5 := 0, 0
	for row := range rows {
		rr, dr := r[row*k:(row+1)*k], d[row*k:(row+1)*k]
		dTop := argmax(dr)
		if argmax(rr) == dTop {
			agree1++
		}
		if slices.Contains(topK(rr, 5), dTop) {
			agree5++
		}
	}
	return float64(agree1) / float64(rows), float64(agree5) / float64(rows)
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func topK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] > v[b]:
			return -1
		case v[a] < v[b]:
			return 1
		}
		return 0
	})
	return idx[:min(k, len(idx))]
}
