//go:build amd64 && !purego

#include "textflag.h"

// Epilogue steps on four rows' vectors Y0–Y3 (temporaries Y4–Y7); the
// column block's bias, scale and shift are in Y12, Y13, Y14, and 6 in Y15.
#define EPBIAS4 \
	VADDPS Y12, Y0, Y0; \
	VADDPS Y12, Y1, Y1; \
	VADDPS Y12, Y2, Y2; \
	VADDPS Y12, Y3, Y3

// max(x, 0) on the bits: clear x where its sign bit is set.
#define EPRELU4 \
	VPSRAD $31, Y0, Y4; \
	VPSRAD $31, Y1, Y5; \
	VPSRAD $31, Y2, Y6; \
	VPSRAD $31, Y3, Y7; \
	VPANDN Y0, Y4, Y0; \
	VPANDN Y1, Y5, Y1; \
	VPANDN Y2, Y6, Y2; \
	VPANDN Y3, Y7, Y3

// min(x, 6) returning x when it is NaN (VMINPS returns its second source).
#define EPMIN64 \
	VMINPS Y0, Y15, Y0; \
	VMINPS Y1, Y15, Y1; \
	VMINPS Y2, Y15, Y2; \
	VMINPS Y3, Y15, Y3

#define EPSCALE4 \
	VMULPS Y13, Y0, Y0; \
	VMULPS Y13, Y1, Y1; \
	VMULPS Y13, Y2, Y2; \
	VMULPS Y13, Y3, Y3; \
	VADDPS Y14, Y0, Y0; \
	VADDPS Y14, Y1, Y1; \
	VADDPS Y14, Y2, Y2; \
	VADDPS Y14, Y3, Y3

#define EPBIAS1 VADDPS Y12, Y0, Y0

#define EPRELU1 \
	VPSRAD $31, Y0, Y4; \
	VPANDN Y0, Y4, Y0

#define EPMIN61 VMINPS Y0, Y15, Y0

#define EPSCALE1 \
	VMULPS Y13, Y0, Y0; \
	VADDPS Y14, Y0, Y0

// func epilogueKernel(dst, src unsafe.Pointer, rows, ld, wide int, bias, scale, shift unsafe.Pointer, flags int)
//
// Column blocks of 8 outer, rows inner four at a time, then one at a time;
// the flags are tested once per four rows.
// R10 columns left (bytes), R11/R12/R13 bias/scale/shift at the block,
// R14 flags, R9 row stride, AX 3*R9, DI/SI the block's dst/src columns,
// R8 rows left, BX/DX row pointers.
TEXT ·epilogueKernel(SB), NOSPLIT, $0-72
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         ld+24(FP), R9
	MOVQ         wide+32(FP), R10
	SHLQ         $2, R10
	MOVQ         bias+40(FP), R11
	MOVQ         scale+48(FP), R12
	MOVQ         shift+56(FP), R13
	MOVQ         flags+64(FP), R14
	LEAQ         (R9)(R9*2), AX
	MOVL         $0x40c00000, CX
	MOVQ         CX, X15
	VBROADCASTSS X15, Y15

epblock:
	TESTQ   $1, R14
	JZ      epnobias
	VMOVUPS (R11), Y12

epnobias:
	TESTQ   $8, R14
	JZ      epnoscale
	VMOVUPS (R12), Y13
	VMOVUPS (R13), Y14

epnoscale:
	MOVQ rows+16(FP), R8
	MOVQ SI, BX
	MOVQ DI, DX
	CMPQ R8, $4
	JLT  epone

epfour:
	VMOVUPS (BX), Y0
	VMOVUPS (BX)(R9*1), Y1
	VMOVUPS (BX)(R9*2), Y2
	VMOVUPS (BX)(AX*1), Y3
	TESTQ $1, R14
	JZ    ep4a
	EPBIAS4

ep4a:
	TESTQ $2, R14
	JZ    ep4b
	EPRELU4
	TESTQ $4, R14
	JZ    ep4b
	EPMIN64

ep4b:
	TESTQ $8, R14
	JZ    ep4c
	EPSCALE4

ep4c:
	TESTQ $16, R14
	JZ    ep4d
	EPRELU4
	TESTQ $32, R14
	JZ    ep4d
	EPMIN64

ep4d:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, (DX)(R9*1)
	VMOVUPS Y2, (DX)(R9*2)
	VMOVUPS Y3, (DX)(AX*1)
	LEAQ    (BX)(R9*4), BX
	LEAQ    (DX)(R9*4), DX
	SUBQ    $4, R8
	CMPQ    R8, $4
	JGE     epfour
	TESTQ   R8, R8
	JZ      epnext

epone:
	VMOVUPS (BX), Y0
	TESTQ $1, R14
	JZ    ep1a
	EPBIAS1

ep1a:
	TESTQ $2, R14
	JZ    ep1b
	EPRELU1
	TESTQ $4, R14
	JZ    ep1b
	EPMIN61

ep1b:
	TESTQ $8, R14
	JZ    ep1c
	EPSCALE1

ep1c:
	TESTQ $16, R14
	JZ    ep1d
	EPRELU1
	TESTQ $32, R14
	JZ    ep1d
	EPMIN61

ep1d:
	VMOVUPS Y0, (DX)
	ADDQ    R9, BX
	ADDQ    R9, DX
	DECQ    R8
	JNZ     epone

epnext:
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	SUBQ $32, R10
	JNZ  epblock
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

// The post-processing of the pixel's sum in Y10 (Y11 free by then), with
// the epilogue kernel's instructions so that the bits are its: EPRELU1's
// bit trick, EPMIN61's VMINPS, and EPSCALE1's multiply then add with the
// block's scale and shift in Y13 and Y14.
#define DWRELU \
	VPSRAD $31, Y10, Y11; \
	VPANDN Y10, Y11, Y10

#define DWMIN6 VMINPS Y10, Y15, Y10

#define DWSCALE \
	VMULPS Y13, Y10, Y10; \
	VADDPS Y14, Y10, Y10

// func depthwise3Kernel(dst, x unsafe.Pointer, ldr, step, dx int, w, bias unsafe.Pointer, rows, n, blocks, mode int, scale, shift unsafe.Pointer)
//
// DI dst and SI x at the channel block, R8 ldr, R9 step, DX dx, CX channel
// stride (bytes), R10 w and R11 bias at the block, R12 blocks left, R13
// pixels left, AX/BX pixel pointers, Y0–Y8 the block's taps, Y9 its bias,
// Y13/Y14 its scale and shift (the pointers advanced in the frame), Y15 6.
// One pixel loop per row count (1–3) and mode (dwMode), so that nothing is
// tested per pixel.
TEXT ·depthwise3Kernel(SB), NOSPLIT, $0-104
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         ldr+16(FP), R8
	MOVQ         step+24(FP), R9
	MOVQ         dx+32(FP), DX
	MOVQ         w+40(FP), R10
	MOVQ         bias+48(FP), R11
	MOVQ         blocks+72(FP), R12
	MOVQ         R12, CX
	SHLQ         $5, CX
	MOVL         $0x40c00000, R13
	MOVQ         R13, X15
	VBROADCASTSS X15, Y15

dwblock:
	VMOVUPS (R11), Y9
	VMOVUPS (R10), Y0
	VMOVUPS (R10)(CX*1), Y1
	VMOVUPS (R10)(CX*2), Y2
	MOVQ    mode+80(FP), R14
	CMPQ    R14, $3
	JLT     dwtaps
	MOVQ    scale+88(FP), R14
	VMOVUPS (R14), Y13
	ADDQ    $32, R14
	MOVQ    R14, scale+88(FP)
	MOVQ    shift+96(FP), R14
	VMOVUPS (R14), Y14
	ADDQ    $32, R14
	MOVQ    R14, shift+96(FP)

dwtaps:
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

	MOVQ mode+80(FP), R14
	CMPQ R14, $1
	JEQ  dw3r
	CMPQ R14, $2
	JEQ  dw3r6
	CMPQ R14, $3
	JEQ  dw3s
	CMPQ R14, $4
	JEQ  dw3sr
	CMPQ R14, $5
	JEQ  dw3sr6

dw3n:
	DWROW0
	DWROW1
	DWROW2
	DWNEXT
	JNZ dw3n
	JMP dwnext

dw3r:
	DWROW0
	DWROW1
	DWROW2
	DWRELU
	DWNEXT
	JNZ dw3r
	JMP dwnext

dw3r6:
	DWROW0
	DWROW1
	DWROW2
	DWRELU
	DWMIN6
	DWNEXT
	JNZ dw3r6
	JMP dwnext

dw3s:
	DWROW0
	DWROW1
	DWROW2
	DWSCALE
	DWNEXT
	JNZ dw3s
	JMP dwnext

dw3sr:
	DWROW0
	DWROW1
	DWROW2
	DWSCALE
	DWRELU
	DWNEXT
	JNZ dw3sr
	JMP dwnext

dw3sr6:
	DWROW0
	DWROW1
	DWROW2
	DWSCALE
	DWRELU
	DWMIN6
	DWNEXT
	JNZ dw3sr6
	JMP dwnext

dw2:
	MOVQ mode+80(FP), R14
	CMPQ R14, $1
	JEQ  dw2r
	CMPQ R14, $2
	JEQ  dw2r6
	CMPQ R14, $3
	JEQ  dw2s
	CMPQ R14, $4
	JEQ  dw2sr
	CMPQ R14, $5
	JEQ  dw2sr6

dw2n:
	DWROW0
	DWROW1
	DWNEXT
	JNZ dw2n
	JMP dwnext

dw2r:
	DWROW0
	DWROW1
	DWRELU
	DWNEXT
	JNZ dw2r
	JMP dwnext

dw2r6:
	DWROW0
	DWROW1
	DWRELU
	DWMIN6
	DWNEXT
	JNZ dw2r6
	JMP dwnext

dw2s:
	DWROW0
	DWROW1
	DWSCALE
	DWNEXT
	JNZ dw2s
	JMP dwnext

dw2sr:
	DWROW0
	DWROW1
	DWSCALE
	DWRELU
	DWNEXT
	JNZ dw2sr
	JMP dwnext

dw2sr6:
	DWROW0
	DWROW1
	DWSCALE
	DWRELU
	DWMIN6
	DWNEXT
	JNZ dw2sr6
	JMP dwnext

dw1:
	MOVQ mode+80(FP), R14
	CMPQ R14, $1
	JEQ  dw1r
	CMPQ R14, $2
	JEQ  dw1r6
	CMPQ R14, $3
	JEQ  dw1s
	CMPQ R14, $4
	JEQ  dw1sr
	CMPQ R14, $5
	JEQ  dw1sr6

dw1n:
	DWROW0
	DWNEXT
	JNZ dw1n
	JMP dwnext

dw1r:
	DWROW0
	DWRELU
	DWNEXT
	JNZ dw1r
	JMP dwnext

dw1r6:
	DWROW0
	DWRELU
	DWMIN6
	DWNEXT
	JNZ dw1r6
	JMP dwnext

dw1s:
	DWROW0
	DWSCALE
	DWNEXT
	JNZ dw1s
	JMP dwnext

dw1sr:
	DWROW0
	DWSCALE
	DWRELU
	DWNEXT
	JNZ dw1sr
	JMP dwnext

dw1sr6:
	DWROW0
	DWSCALE
	DWRELU
	DWMIN6
	DWNEXT
	JNZ dw1sr6

dwnext:
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R10
	ADDQ $32, R11
	DECQ R12
	JNZ  dwblock
	VZEROUPPER
	RET

// func sumColumnsF64Kernel(out, x unsafe.Pointer, rows, ld, wide int, div float64)
//
// Eight columns a turn: Y0 and Y1 sum them in float64 from 0 down the rows
// (VCVTPS2PD widens, VADDPD adds: the bits of a += float64(v)), then
// divide by div unless it is 0 and round to float32. SI walks the rows,
// R8 rows left, DI/R9 the block's out and x, R10 columns left.
TEXT ·sumColumnsF64Kernel(SB), NOSPLIT, $0-48
	MOVQ         out+0(FP), DI
	MOVQ         x+8(FP), R9
	MOVQ         ld+24(FP), DX
	MOVQ         wide+32(FP), R10
	VBROADCASTSD div+40(FP), Y2
	VXORPD       Y3, Y3, Y3
	VCMPPD       $4, Y3, Y2, Y3 // all ones when div != 0

sumblock:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	MOVQ   R9, SI
	MOVQ   rows+16(FP), R8

sumrow:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	ADDQ      DX, SI
	DECQ      R8
	JNZ       sumrow
	VPTEST    Y3, Y3
	JZ        sumstore
	VDIVPD    Y2, Y0, Y0
	VDIVPD    Y2, Y1, Y1

sumstore:
	VCVTPD2PSY Y0, X0
	VCVTPD2PSY Y1, X1
	VMOVUPS    X0, (DI)
	VMOVUPS    X1, 16(DI)
	ADDQ       $32, DI
	ADDQ       $32, R9
	SUBQ       $8, R10
	JNZ        sumblock
	VZEROUPPER
	RET
