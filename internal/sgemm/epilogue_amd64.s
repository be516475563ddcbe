//go:build amd64 && !purego

#include "textflag.h"

// func epilogueKernel(dst, src unsafe.Pointer, rows, ld, wide int, bias, scale, shift unsafe.Pointer, flags int)
//
// DI dst row, SI src row, R8 rows left, R9 row stride (bytes), R10 columns
// per row (multiple of 8), R11 bias, R12 scale, R13 shift, R14 flags,
// CX column, Y15 = 6.
TEXT ·epilogueKernel(SB), NOSPLIT, $0-72
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         rows+16(FP), R8
	MOVQ         ld+24(FP), R9
	MOVQ         wide+32(FP), R10
	MOVQ         bias+40(FP), R11
	MOVQ         scale+48(FP), R12
	MOVQ         shift+56(FP), R13
	MOVQ         flags+64(FP), R14
	MOVL         $0x40c00000, AX
	MOVQ         AX, X15
	VBROADCASTSS X15, Y15

eprow:
	XORQ CX, CX

epcol:
	VMOVUPS (SI)(CX*4), Y0
	TESTQ   $1, R14
	JZ      epact1
	VADDPS  (R11)(CX*4), Y0, Y0

epact1:
	TESTQ  $2, R14
	JZ     epscale
	VPSRAD $31, Y0, Y1
	VPANDN Y0, Y1, Y0
	TESTQ  $4, R14
	JZ     epscale
	VMINPS Y0, Y15, Y0

epscale:
	TESTQ  $8, R14
	JZ     epact2
	VMULPS (R12)(CX*4), Y0, Y0
	VADDPS (R13)(CX*4), Y0, Y0

epact2:
	TESTQ  $16, R14
	JZ     epstore
	VPSRAD $31, Y0, Y1
	VPANDN Y0, Y1, Y0
	TESTQ  $32, R14
	JZ     epstore
	VMINPS Y0, Y15, Y0

epstore:
	VMOVUPS Y0, (DI)(CX*4)
	ADDQ    $8, CX
	CMPQ    CX, R10
	JLT     epcol

	ADDQ R9, SI
	ADDQ R9, DI
	DECQ R8
	JNZ  eprow
	VZEROUPPER
	RET

// Depthwise rows: AX points at the pixel's first tap in input row 0, R14
// walks rows 1 and 2 (R8 bytes apart), DX is the tap distance. Row 0
// accumulates onto the bias in Y10; rows 1 and 2 are summed in Y11 and Y12
// and added.
#define DWROW0 \
	VMOVUPS     Y9, Y10; \
	VFMADD231PS (AX), Y0, Y10; \
	VFMADD231PS (AX)(DX*1), Y1, Y10; \
	VFMADD231PS (AX)(DX*2), Y2, Y10

#define DWROW1 \
	LEAQ        (AX)(R8*1), R14; \
	VMULPS      (R14), Y3, Y11; \
	VFMADD231PS (R14)(DX*1), Y4, Y11; \
	VFMADD231PS (R14)(DX*2), Y5, Y11; \
	VADDPS      Y11, Y10, Y10

#define DWROW2 \
	ADDQ        R8, R14; \
	VMULPS      (R14), Y6, Y12; \
	VFMADD231PS (R14)(DX*1), Y7, Y12; \
	VFMADD231PS (R14)(DX*2), Y8, Y12; \
	VADDPS      Y12, Y10, Y10

#define DWNEXT \
	VMOVUPS Y10, (BX); \
	ADDQ    R9, AX; \
	ADDQ    CX, BX; \
	DECQ    R13

// func depthwise3Kernel(dst, x unsafe.Pointer, ldr, step, dx int, w, bias unsafe.Pointer, rows, n, blocks int)
//
// DI dst and SI x at the channel block, R8 ldr, R9 step, DX dx, CX channel
// stride (bytes), R10 w and R11 bias at the block, R12 blocks left, R13
// pixels left, AX/BX pixel pointers, Y0–Y8 the block's taps, Y9 its bias.
TEXT ·depthwise3Kernel(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ ldr+16(FP), R8
	MOVQ step+24(FP), R9
	MOVQ dx+32(FP), DX
	MOVQ w+40(FP), R10
	MOVQ bias+48(FP), R11
	MOVQ blocks+72(FP), R12
	MOVQ R12, CX
	SHLQ $5, CX

dwblock:
	VMOVUPS (R11), Y9
	VMOVUPS (R10), Y0
	VMOVUPS (R10)(CX*1), Y1
	VMOVUPS (R10)(CX*2), Y2
	MOVQ    SI, AX
	MOVQ    DI, BX
	MOVQ    n+64(FP), R13
	MOVQ    rows+56(FP), R14
	CMPQ    R14, $2
	JLT     dw1
	LEAQ    (R10)(CX*2), R14
	ADDQ    CX, R14
	VMOVUPS (R14), Y3
	VMOVUPS (R14)(CX*1), Y4
	VMOVUPS (R14)(CX*2), Y5
	MOVQ    rows+56(FP), R14
	CMPQ    R14, $2
	JEQ     dw2
	LEAQ    (R10)(CX*4), R14
	ADDQ    CX, R14
	ADDQ    CX, R14
	VMOVUPS (R14), Y6
	VMOVUPS (R14)(CX*1), Y7
	VMOVUPS (R14)(CX*2), Y8

dw3:
	DWROW0
	DWROW1
	DWROW2
	DWNEXT
	JNZ dw3
	JMP dwnext

dw2:
	DWROW0
	DWROW1
	DWNEXT
	JNZ dw2
	JMP dwnext

dw1:
	DWROW0
	DWNEXT
	JNZ dw1

dwnext:
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R10
	ADDQ $32, R11
	DECQ R12
	JNZ  dwblock
	VZEROUPPER
	RET
