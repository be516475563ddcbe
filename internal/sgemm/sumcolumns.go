package sgemm

import "fmt"

// SumColumnsF64 writes into out[j], for each of the cols columns of the
// rows×cols row-major matrix x, the sum of the column in float64 rounded
// to float32, divided first by div when div is not 0 (a mean). Each
// column sums from 0 in row order, every sum rounded once, so the bits
// are those of the plain float64 loop whichever way it runs (four float64
// lanes at a time in the assembly). It is a global average pooling over
// H×W rows of C channels. It panics when a slice is too short or div is
// negative: caller bugs.
func SumColumnsF64(out, x []float32, rows, cols int, div float64) {
	checkDims(rows, cols, 0)
	if div < 0 {
		panic(fmt.Sprintf("sgemm: SumColumnsF64 dividing by %v", div))
	}
	if len(out) < cols {
		panic(fmt.Sprintf("sgemm: SumColumnsF64 into %d values, want %d", len(out), cols))
	}
	if cols == 0 {
		return
	}
	checkMatrix("x", rows, cols, x, cols)
	wide := 0
	if hasAsm && cols >= 8 && rows > 0 {
		wide = cols &^ 7
		sumColumnsF64Asm(out, x, rows, cols, wide, div)
	}
	sumColumnsF64Go(out, x, rows, cols, wide, div)
}

// sumColumnsF64Go is the portable SumColumnsF64 for columns [j0, cols).
func sumColumnsF64Go(out, x []float32, rows, cols, j0 int, div float64) {
	for j := j0; j < cols; j++ {
		var a float64
		for r := range rows {
			a += float64(x[r*cols+j])
		}
		if div != 0 {
			a /= div
		}
		out[j] = float32(a)
	}
}
