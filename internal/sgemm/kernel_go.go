package sgemm

// kern6x16Go is the portable 6×16 kernel (see kernelFunc).
func kern6x16Go(nt, kc int, a []float32, rsa, csa, tsa int, b []float32, csb int,
	c []float32, ldc, tsc int, alpha, beta float32, loadc bool, _, runs, skip int) {
	for t := 0; t < nt; t++ {
		tileGo(6, 16, kc, runs, skip, a[t*tsa:], rsa, csa, b, csb, c[t*tsc:], ldc, alpha, beta, loadc)
	}
}

// kern4x16Go is the portable 4×16 kernel (see kernelFunc).
func kern4x16Go(nt, kc int, a []float32, rsa, csa, tsa int, b []float32, csb int,
	c []float32, ldc, tsc int, alpha, beta float32, loadc bool, _, runs, skip int) {
	for t := 0; t < nt; t++ {
		tileGo(4, 16, kc, runs, skip, a[t*tsa:], rsa, csa, b, csb, c[t*tsc:], ldc, alpha, beta, loadc)
	}
}

// kern12x8Go is the portable 12×8 kernel (see kernelFunc).
func kern12x8Go(nt, kc int, a []float32, rsa, csa, tsa int, b []float32, csb int,
	c []float32, ldc, tsc int, alpha, beta float32, loadc bool, _, runs, skip int) {
	for t := 0; t < nt; t++ {
		tileGo(12, 8, kc, runs, skip, a[t*tsa:], rsa, csa, b, csb, c[t*tsc:], ldc, alpha, beta, loadc)
	}
}

// tileGo computes one mr×nr tile (mr even, nr a multiple of 4) of runs
// runs of kc terms (see kernelFunc) in 2×4 register blocks: eight
// accumulators the compiler keeps in registers.
func tileGo(mr, nr, kc, runs, skip int, a []float32, rsa, csa int, b []float32, csb int,
	c []float32, ldc int, alpha, beta float32, loadc bool) {
	for i := 0; i < mr; i += 2 {
		a0 := a[i*rsa:]
		a1 := a[(i+1)*rsa:]
		for j := 0; j < nr; j += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			pa := 0
			pb := j
			for range runs {
				for p := 0; p < kc; p++ {
					bb := b[pb : pb+4 : pb+4]
					x0, x1 := a0[pa], a1[pa]
					s00 += x0 * bb[0]
					s01 += x0 * bb[1]
					s02 += x0 * bb[2]
					s03 += x0 * bb[3]
					s10 += x1 * bb[0]
					s11 += x1 * bb[1]
					s12 += x1 * bb[2]
					s13 += x1 * bb[3]
					pa += csa
					pb += csb
				}
				pa += skip
			}
			r0 := c[i*ldc+j : i*ldc+j+4 : i*ldc+j+4]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4 : (i+1)*ldc+j+4]
			if loadc {
				r0[0] = alpha*s00 + beta*r0[0]
				r0[1] = alpha*s01 + beta*r0[1]
				r0[2] = alpha*s02 + beta*r0[2]
				r0[3] = alpha*s03 + beta*r0[3]
				r1[0] = alpha*s10 + beta*r1[0]
				r1[1] = alpha*s11 + beta*r1[1]
				r1[2] = alpha*s12 + beta*r1[2]
				r1[3] = alpha*s13 + beta*r1[3]
			} else {
				r0[0], r0[1], r0[2], r0[3] = alpha*s00, alpha*s01, alpha*s02, alpha*s03
				r1[0], r1[1], r1[2], r1[3] = alpha*s10, alpha*s11, alpha*s12, alpha*s13
			}
		}
	}
}
