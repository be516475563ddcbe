package quantize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultPercentile is the percentile "percentile" alone means: TF's
// histogram-percentile calibration keeps 99.999 % by default over both
// tails together (0.001 to 99.999); 99.99 here on each side is the same
// order of outliers dropped, per tail.
const DefaultPercentile = 99.99

// ppm is the resolution of a percentile: parts per million of the values
// (P in percent with at most four decimals).
const ppm = 1_000_000

// Method is how a value's calibrated range is taken from the values it
// takes over the calibration set. The zero value is min/max, what the TF
// converter does with a representative dataset.
type Method struct {
	// PercentilePPM, when nonzero, takes the range from the P-th and the
	// (100−P)-th percentile of the values instead of their extremes, P =
	// PercentilePPM / 10⁴ percent: the values beyond are clipped by the
	// int8 model, for a finer scale over the rest. Set by ParseMethod.
	PercentilePPM int64
}

// MinMax is the min/max method (the zero Method).
var MinMax = Method{}

// Percentile returns the percentile method keeping p percent (50 < p ≤
// 100, at most four decimals).
func Percentile(p float64) (Method, error) {
	v := math.Round(p * 1e4)
	if math.IsNaN(p) || !(v > ppm/2 && v <= ppm) || math.Abs(v-p*1e4) > 1e-6 {
		return Method{}, fmt.Errorf("calibration percentile %v: want a percentage above 50 and at most 100, with at most four decimals (e.g. 99.99)", p)
	}
	return Method{PercentilePPM: int64(v)}, nil
}

// ParseMethod parses "minmax", "percentile" (DefaultPercentile) or
// "percentile:P" (e.g. percentile:99.9).
func ParseMethod(s string) (Method, error) {
	name, arg, hasArg := strings.Cut(s, ":")
	switch {
	case s == "minmax" || s == "":
		return MinMax, nil
	case name == "percentile" && !hasArg:
		return Percentile(DefaultPercentile)
	case name == "percentile":
		p, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			return Method{}, fmt.Errorf("calibration method %q: %q is not a number", s, arg)
		}
		return Percentile(p)
	}
	return Method{}, fmt.Errorf("calibration method %q: want minmax, percentile or percentile:P (e.g. percentile:99.99)", s)
}

// IsMinMax reports whether m takes the extremes.
func (m Method) IsMinMax() bool { return m.PercentilePPM == 0 || m.PercentilePPM == ppm }

// String is the method as ParseMethod reads it: "minmax" or
// "percentile:P".
func (m Method) String() string {
	if m.PercentilePPM == 0 {
		return "minmax"
	}
	return "percentile:" + strconv.FormatFloat(float64(m.PercentilePPM)/1e4, 'f', -1, 64)
}

// rank is the 1-based rank, in ascending order, of the P-th percentile of
// n values (the nearest-rank definition: the smallest value with at least
// P percent of the values at or below it), computed in integers so that
// it never depends on float rounding.
func (m Method) rank(n int64) int64 {
	r := (m.PercentilePPM*n + ppm - 1) / ppm
	return max(r, 1)
}

// tail is how many of the n largest (and of the n smallest) values decide
// the percentile: the P-th percentile is the tail-th largest value.
func (m Method) tail(n int64) int64 {
	return n - m.rank(n) + 1
}
