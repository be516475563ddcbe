//go:build amd64 && !purego

#include "textflag.h"

// Register use in both kernels:
//   R12 tiles left, R13 A tile base, R14 C tile base, CX k counter,
//   R8 A row stride, R9 A k stride, R10 B k stride, R11 C row stride (bytes),
//   DX B pointer, SI/DI/AX/BX A row pointers, Y4–Y15 accumulators.

// One k step of the 6×16 tile: rows 0–2 from SI, rows 3–5 from DI.
#define STEP6x16 \
	VMOVUPS      (DX), Y0; \
	VMOVUPS      32(DX), Y1; \
	VBROADCASTSS (SI), Y2; \
	VFMADD231PS  Y0, Y2, Y4; \
	VFMADD231PS  Y1, Y2, Y5; \
	VBROADCASTSS (SI)(R8*1), Y3; \
	VFMADD231PS  Y0, Y3, Y6; \
	VFMADD231PS  Y1, Y3, Y7; \
	VBROADCASTSS (SI)(R8*2), Y2; \
	VFMADD231PS  Y0, Y2, Y8; \
	VFMADD231PS  Y1, Y2, Y9; \
	VBROADCASTSS (DI), Y3; \
	VFMADD231PS  Y0, Y3, Y10; \
	VFMADD231PS  Y1, Y3, Y11; \
	VBROADCASTSS (DI)(R8*1), Y2; \
	VFMADD231PS  Y0, Y2, Y12; \
	VFMADD231PS  Y1, Y2, Y13; \
	VBROADCASTSS (DI)(R8*2), Y3; \
	VFMADD231PS  Y0, Y3, Y14; \
	VFMADD231PS  Y1, Y3, Y15; \
	ADDQ         R9, SI; \
	ADDQ         R9, DI; \
	ADDQ         R10, DX

// STEP6x16 with a prefetch of B at AX bytes ahead: with packed panels (B
// rows 64 bytes apart, one cache line) the same row of the next panel, so
// that it comes from memory while this one is multiplied.
#define STEP6x16PF \
	PREFETCHT0 (DX)(AX*1); \
	STEP6x16

// Epilogue steps on one 8-column half of the 6×16 tile's accumulators
// (a0–a5), the same instructions in the same operand order as
// epilogue_amd64.s: Y0 holds the half's bias, scale or shift, Y2 is a
// temporary and Y3 holds 6.
#define EPADD6(a0, a1, a2, a3, a4, a5) \
	VADDPS Y0, a0, a0; \
	VADDPS Y0, a1, a1; \
	VADDPS Y0, a2, a2; \
	VADDPS Y0, a3, a3; \
	VADDPS Y0, a4, a4; \
	VADDPS Y0, a5, a5

#define EPMUL6(a0, a1, a2, a3, a4, a5) \
	VMULPS Y0, a0, a0; \
	VMULPS Y0, a1, a1; \
	VMULPS Y0, a2, a2; \
	VMULPS Y0, a3, a3; \
	VMULPS Y0, a4, a4; \
	VMULPS Y0, a5, a5

#define EPRELU1R(a) \
	VPSRAD $31, a, Y2; \
	VPANDN a, Y2, a

#define EPRELU6R(a0, a1, a2, a3, a4, a5) \
	EPRELU1R(a0); \
	EPRELU1R(a1); \
	EPRELU1R(a2); \
	EPRELU1R(a3); \
	EPRELU1R(a4); \
	EPRELU1R(a5)

#define EPMIN6R(a0, a1, a2, a3, a4, a5) \
	VMINPS a0, Y3, a0; \
	VMINPS a1, Y3, a1; \
	VMINPS a2, Y3, a2; \
	VMINPS a3, Y3, a3; \
	VMINPS a4, Y3, a4; \
	VMINPS a5, Y3, a5

// func kern6x16(nt, kc int, a unsafe.Pointer, rsa, csa, tsa int, b unsafe.Pointer, csb int,
//	c unsafe.Pointer, ldc, tsc int, alpha, beta float32, flags int, bias, scale, shift unsafe.Pointer, runs, skip int)
TEXT ·kern6x16(SB), NOSPLIT, $8-144
	MOVQ nt+0(FP), R12
	MOVQ a+16(FP), R13
	MOVQ rsa+24(FP), R8
	MOVQ csa+32(FP), R9
	MOVQ csb+56(FP), R10
	MOVQ c+64(FP), R14
	MOVQ ldc+72(FP), R11
	MOVQ flags+96(FP), AX
	SHRQ $8, AX

tile6x16:
	MOVQ   runs+128(FP), CX
	MOVQ   CX, left-8(SP)
	MOVQ   R13, SI
	LEAQ   (SI)(R8*2), DI
	ADDQ   R8, DI
	MOVQ   b+48(FP), DX
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15

run6x16:
	MOVQ kc+8(FP), CX
	CMPQ CX, $4
	JLT  tail6x16
	TESTQ AX, AX
	JZ   loop6x16

looppf6x16:
	STEP6x16PF
	STEP6x16PF
	STEP6x16PF
	STEP6x16PF
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  looppf6x16
	JMP  tail6x16

loop6x16:
	STEP6x16
	STEP6x16
	STEP6x16
	STEP6x16
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop6x16

tail6x16:
	TESTQ CX, CX
	JZ    next6x16

one6x16:
	STEP6x16
	DECQ CX
	JNZ  one6x16

next6x16:
	// The next run of A's row, if any: skip bytes further.
	DECQ left-8(SP)
	JZ   done6x16
	MOVQ skip+136(FP), CX
	ADDQ CX, SI
	ADDQ CX, DI
	JMP  run6x16

done6x16:
	MOVQ         flags+96(FP), CX
	TESTQ        $2, CX
	JZ           scaled6x16
	VBROADCASTSS alpha+88(FP), Y0
	VMULPS       Y0, Y4, Y4
	VMULPS       Y0, Y5, Y5
	VMULPS       Y0, Y6, Y6
	VMULPS       Y0, Y7, Y7
	VMULPS       Y0, Y8, Y8
	VMULPS       Y0, Y9, Y9
	VMULPS       Y0, Y10, Y10
	VMULPS       Y0, Y11, Y11
	VMULPS       Y0, Y12, Y12
	VMULPS       Y0, Y13, Y13
	VMULPS       Y0, Y14, Y14
	VMULPS       Y0, Y15, Y15

scaled6x16:
	MOVQ         R14, SI
	LEAQ         (SI)(R11*2), DI
	ADDQ         R11, DI
	TESTQ        $1, CX
	JZ           epi6x16
	VBROADCASTSS beta+92(FP), Y1
	VFMADD231PS  (SI), Y1, Y4
	VFMADD231PS  32(SI), Y1, Y5
	VFMADD231PS  (SI)(R11*1), Y1, Y6
	VFMADD231PS  32(SI)(R11*1), Y1, Y7
	VFMADD231PS  (SI)(R11*2), Y1, Y8
	VFMADD231PS  32(SI)(R11*2), Y1, Y9
	VFMADD231PS  (DI), Y1, Y10
	VFMADD231PS  32(DI), Y1, Y11
	VFMADD231PS  (DI)(R11*1), Y1, Y12
	VFMADD231PS  32(DI)(R11*1), Y1, Y13
	VFMADD231PS  (DI)(R11*2), Y1, Y14
	VFMADD231PS  32(DI)(R11*2), Y1, Y15

epi6x16:
	// The epilogue (flags bits 2–7), in registers before the store.
	TESTQ        $0xfc, CX
	JZ           store6x16
	MOVL         $0x40c00000, BX
	MOVQ         BX, X3
	VBROADCASTSS X3, Y3

	// columns 0–7
	TESTQ   $4, CX
	JZ      ep6a0
	MOVQ    bias+104(FP), BX
	VMOVUPS (BX), Y0
	EPADD6(Y4, Y6, Y8, Y10, Y12, Y14)

ep6a0:
	TESTQ $8, CX
	JZ    ep6b0
	EPRELU6R(Y4, Y6, Y8, Y10, Y12, Y14)
	TESTQ $16, CX
	JZ    ep6b0
	EPMIN6R(Y4, Y6, Y8, Y10, Y12, Y14)

ep6b0:
	TESTQ   $32, CX
	JZ      ep6c0
	MOVQ    scale+112(FP), BX
	VMOVUPS (BX), Y0
	EPMUL6(Y4, Y6, Y8, Y10, Y12, Y14)
	MOVQ    shift+120(FP), BX
	VMOVUPS (BX), Y0
	EPADD6(Y4, Y6, Y8, Y10, Y12, Y14)

ep6c0:
	TESTQ $64, CX
	JZ    ep6d0
	EPRELU6R(Y4, Y6, Y8, Y10, Y12, Y14)
	TESTQ $128, CX
	JZ    ep6d0
	EPMIN6R(Y4, Y6, Y8, Y10, Y12, Y14)

ep6d0:
	// columns 8–15
	TESTQ   $4, CX
	JZ      ep6a1
	MOVQ    bias+104(FP), BX
	VMOVUPS 32(BX), Y0
	EPADD6(Y5, Y7, Y9, Y11, Y13, Y15)

ep6a1:
	TESTQ $8, CX
	JZ    ep6b1
	EPRELU6R(Y5, Y7, Y9, Y11, Y13, Y15)
	TESTQ $16, CX
	JZ    ep6b1
	EPMIN6R(Y5, Y7, Y9, Y11, Y13, Y15)

ep6b1:
	TESTQ   $32, CX
	JZ      ep6c1
	MOVQ    scale+112(FP), BX
	VMOVUPS 32(BX), Y0
	EPMUL6(Y5, Y7, Y9, Y11, Y13, Y15)
	MOVQ    shift+120(FP), BX
	VMOVUPS 32(BX), Y0
	EPADD6(Y5, Y7, Y9, Y11, Y13, Y15)

ep6c1:
	TESTQ $64, CX
	JZ    ep6d1
	EPRELU6R(Y5, Y7, Y9, Y11, Y13, Y15)
	TESTQ $128, CX
	JZ    ep6d1
	EPMIN6R(Y5, Y7, Y9, Y11, Y13, Y15)

ep6d1:

store6x16:
	VMOVUPS Y4, (SI)
	VMOVUPS Y5, 32(SI)
	VMOVUPS Y6, (SI)(R11*1)
	VMOVUPS Y7, 32(SI)(R11*1)
	VMOVUPS Y8, (SI)(R11*2)
	VMOVUPS Y9, 32(SI)(R11*2)
	VMOVUPS Y10, (DI)
	VMOVUPS Y11, 32(DI)
	VMOVUPS Y12, (DI)(R11*1)
	VMOVUPS Y13, 32(DI)(R11*1)
	VMOVUPS Y14, (DI)(R11*2)
	VMOVUPS Y15, 32(DI)(R11*2)

	ADDQ tsa+40(FP), R13
	ADDQ tsc+80(FP), R14
	DECQ R12
	JNZ  tile6x16
	VZEROUPPER
	RET

// One k step of the 4×16 tile: rows 0–2 from SI, row 3 from DI.
#define STEP4x16 \
	VMOVUPS      (DX), Y0; \
	VMOVUPS      32(DX), Y1; \
	VBROADCASTSS (SI), Y2; \
	VFMADD231PS  Y0, Y2, Y4; \
	VFMADD231PS  Y1, Y2, Y5; \
	VBROADCASTSS (SI)(R8*1), Y3; \
	VFMADD231PS  Y0, Y3, Y6; \
	VFMADD231PS  Y1, Y3, Y7; \
	VBROADCASTSS (SI)(R8*2), Y2; \
	VFMADD231PS  Y0, Y2, Y8; \
	VFMADD231PS  Y1, Y2, Y9; \
	VBROADCASTSS (DI), Y3; \
	VFMADD231PS  Y0, Y3, Y10; \
	VFMADD231PS  Y1, Y3, Y11; \
	ADDQ         R9, SI; \
	ADDQ         R9, DI; \
	ADDQ         R10, DX

// func kern4x16(nt, kc int, a unsafe.Pointer, rsa, csa, tsa int, b unsafe.Pointer, csb int,
//	c unsafe.Pointer, ldc, tsc int, alpha, beta float32, flags, runs, skip int)
TEXT ·kern4x16(SB), NOSPLIT, $8-120
	MOVQ nt+0(FP), R12
	MOVQ a+16(FP), R13
	MOVQ rsa+24(FP), R8
	MOVQ csa+32(FP), R9
	MOVQ csb+56(FP), R10
	MOVQ c+64(FP), R14
	MOVQ ldc+72(FP), R11

tile4x16:
	MOVQ   runs+104(FP), CX
	MOVQ   CX, left-8(SP)
	MOVQ   R13, SI
	LEAQ   (SI)(R8*2), DI
	ADDQ   R8, DI
	MOVQ   b+48(FP), DX
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

run4x16:
	MOVQ kc+8(FP), CX
	CMPQ CX, $4
	JLT  tail4x16

loop4x16:
	STEP4x16
	STEP4x16
	STEP4x16
	STEP4x16
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop4x16

tail4x16:
	TESTQ CX, CX
	JZ    next4x16

one4x16:
	STEP4x16
	DECQ CX
	JNZ  one4x16

next4x16:
	DECQ left-8(SP)
	JZ   done4x16
	MOVQ skip+112(FP), CX
	ADDQ CX, SI
	ADDQ CX, DI
	JMP  run4x16

done4x16:
	MOVQ         flags+96(FP), CX
	TESTQ        $2, CX
	JZ           scaled4x16
	VBROADCASTSS alpha+88(FP), Y0
	VMULPS       Y0, Y4, Y4
	VMULPS       Y0, Y5, Y5
	VMULPS       Y0, Y6, Y6
	VMULPS       Y0, Y7, Y7
	VMULPS       Y0, Y8, Y8
	VMULPS       Y0, Y9, Y9
	VMULPS       Y0, Y10, Y10
	VMULPS       Y0, Y11, Y11

scaled4x16:
	MOVQ         R14, SI
	LEAQ         (SI)(R11*2), DI
	ADDQ         R11, DI
	TESTQ        $1, CX
	JZ           store4x16
	VBROADCASTSS beta+92(FP), Y1
	VFMADD231PS  (SI), Y1, Y4
	VFMADD231PS  32(SI), Y1, Y5
	VFMADD231PS  (SI)(R11*1), Y1, Y6
	VFMADD231PS  32(SI)(R11*1), Y1, Y7
	VFMADD231PS  (SI)(R11*2), Y1, Y8
	VFMADD231PS  32(SI)(R11*2), Y1, Y9
	VFMADD231PS  (DI), Y1, Y10
	VFMADD231PS  32(DI), Y1, Y11

store4x16:
	VMOVUPS Y4, (SI)
	VMOVUPS Y5, 32(SI)
	VMOVUPS Y6, (SI)(R11*1)
	VMOVUPS Y7, 32(SI)(R11*1)
	VMOVUPS Y8, (SI)(R11*2)
	VMOVUPS Y9, 32(SI)(R11*2)
	VMOVUPS Y10, (DI)
	VMOVUPS Y11, 32(DI)

	ADDQ tsa+40(FP), R13
	ADDQ tsc+80(FP), R14
	DECQ R12
	JNZ  tile4x16
	VZEROUPPER
	RET

// One k step of the 12×8 tile: rows 0–2 from SI, 3–5 from DI, 6–8 from AX,
// 9–11 from BX.
#define STEP12x8 \
	VMOVUPS      (DX), Y0; \
	VBROADCASTSS (SI), Y1; \
	VFMADD231PS  Y0, Y1, Y4; \
	VBROADCASTSS (SI)(R8*1), Y2; \
	VFMADD231PS  Y0, Y2, Y5; \
	VBROADCASTSS (SI)(R8*2), Y3; \
	VFMADD231PS  Y0, Y3, Y6; \
	VBROADCASTSS (DI), Y1; \
	VFMADD231PS  Y0, Y1, Y7; \
	VBROADCASTSS (DI)(R8*1), Y2; \
	VFMADD231PS  Y0, Y2, Y8; \
	VBROADCASTSS (DI)(R8*2), Y3; \
	VFMADD231PS  Y0, Y3, Y9; \
	VBROADCASTSS (AX), Y1; \
	VFMADD231PS  Y0, Y1, Y10; \
	VBROADCASTSS (AX)(R8*1), Y2; \
	VFMADD231PS  Y0, Y2, Y11; \
	VBROADCASTSS (AX)(R8*2), Y3; \
	VFMADD231PS  Y0, Y3, Y12; \
	VBROADCASTSS (BX), Y1; \
	VFMADD231PS  Y0, Y1, Y13; \
	VBROADCASTSS (BX)(R8*1), Y2; \
	VFMADD231PS  Y0, Y2, Y14; \
	VBROADCASTSS (BX)(R8*2), Y3; \
	VFMADD231PS  Y0, Y3, Y15; \
	ADDQ         R9, SI; \
	ADDQ         R9, DI; \
	ADDQ         R9, AX; \
	ADDQ         R9, BX; \
	ADDQ         R10, DX

// func kern12x8(nt, kc int, a unsafe.Pointer, rsa, csa, tsa int, b unsafe.Pointer, csb int,
//	c unsafe.Pointer, ldc, tsc int, alpha, beta float32, flags, runs, skip int)
TEXT ·kern12x8(SB), NOSPLIT, $8-120
	MOVQ nt+0(FP), R12
	MOVQ a+16(FP), R13
	MOVQ rsa+24(FP), R8
	MOVQ csa+32(FP), R9
	MOVQ csb+56(FP), R10
	MOVQ c+64(FP), R14
	MOVQ ldc+72(FP), R11

tile12x8:
	MOVQ   runs+104(FP), CX
	MOVQ   CX, left-8(SP)
	MOVQ   R13, SI
	LEAQ   (SI)(R8*2), DI
	ADDQ   R8, DI
	LEAQ   (DI)(R8*2), AX
	ADDQ   R8, AX
	LEAQ   (AX)(R8*2), BX
	ADDQ   R8, BX
	MOVQ   b+48(FP), DX
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15

run12x8:
	MOVQ kc+8(FP), CX
	CMPQ CX, $4
	JLT  tail12x8

loop12x8:
	STEP12x8
	STEP12x8
	STEP12x8
	STEP12x8
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop12x8

tail12x8:
	TESTQ CX, CX
	JZ    next12x8

one12x8:
	STEP12x8
	DECQ CX
	JNZ  one12x8

next12x8:
	DECQ left-8(SP)
	JZ   done12x8
	MOVQ skip+112(FP), CX
	ADDQ CX, SI
	ADDQ CX, DI
	ADDQ CX, AX
	ADDQ CX, BX
	JMP  run12x8

done12x8:
	MOVQ         flags+96(FP), CX
	TESTQ        $2, CX
	JZ           scaled12x8
	VBROADCASTSS alpha+88(FP), Y0
	VMULPS       Y0, Y4, Y4
	VMULPS       Y0, Y5, Y5
	VMULPS       Y0, Y6, Y6
	VMULPS       Y0, Y7, Y7
	VMULPS       Y0, Y8, Y8
	VMULPS       Y0, Y9, Y9
	VMULPS       Y0, Y10, Y10
	VMULPS       Y0, Y11, Y11
	VMULPS       Y0, Y12, Y12
	VMULPS       Y0, Y13, Y13
	VMULPS       Y0, Y14, Y14
	VMULPS       Y0, Y15, Y15

scaled12x8:
	MOVQ         R14, SI
	LEAQ         (SI)(R11*2), DI
	ADDQ         R11, DI
	LEAQ         (DI)(R11*2), AX
	ADDQ         R11, AX
	LEAQ         (AX)(R11*2), BX
	ADDQ         R11, BX
	TESTQ        $1, CX
	JZ           store12x8
	VBROADCASTSS beta+92(FP), Y1
	VFMADD231PS  (SI), Y1, Y4
	VFMADD231PS  (SI)(R11*1), Y1, Y5
	VFMADD231PS  (SI)(R11*2), Y1, Y6
	VFMADD231PS  (DI), Y1, Y7
	VFMADD231PS  (DI)(R11*1), Y1, Y8
	VFMADD231PS  (DI)(R11*2), Y1, Y9
	VFMADD231PS  (AX), Y1, Y10
	VFMADD231PS  (AX)(R11*1), Y1, Y11
	VFMADD231PS  (AX)(R11*2), Y1, Y12
	VFMADD231PS  (BX), Y1, Y13
	VFMADD231PS  (BX)(R11*1), Y1, Y14
	VFMADD231PS  (BX)(R11*2), Y1, Y15

store12x8:
	VMOVUPS Y4, (SI)
	VMOVUPS Y5, (SI)(R11*1)
	VMOVUPS Y6, (SI)(R11*2)
	VMOVUPS Y7, (DI)
	VMOVUPS Y8, (DI)(R11*1)
	VMOVUPS Y9, (DI)(R11*2)
	VMOVUPS Y10, (AX)
	VMOVUPS Y11, (AX)(R11*1)
	VMOVUPS Y12, (AX)(R11*2)
	VMOVUPS Y13, (BX)
	VMOVUPS Y14, (BX)(R11*1)
	VMOVUPS Y15, (BX)(R11*2)

	ADDQ tsa+40(FP), R13
	ADDQ tsc+80(FP), R14
	DECQ R12
	JNZ  tile12x8
	VZEROUPPER
	RET
