/* Assembler macros of the 4x2 MatMul inner loop shared by inner4x2.S and matmul.S.
 * Operands: pw = weight pointer (words of the 4 rows interleaved), pa = activation pointer (words of the
 * 2 columns interleaved), count = iteration register; accumulators x10..x17 = acc[r][c] at 2r + c. */
#ifndef KERNEL4X2_H
#define KERNEL4X2_H
#include "xpulpnn_insn.h"

/* fill the NN register file in refill order: W0 W1 W2 (from pw) A0 (from pa) W3 A1 */
.macro MLS4X2_FILL pw, pa
  MLS_INSN x0, \pw, 16
  MLS_INSN x0, \pw, 18
  MLS_INSN x0, \pw, 20
  MLS_INSN x0, \pa, 8
  MLS_INSN x0, \pw, 22
  MLS_INSN x0, \pa, 9
.endm

/* 8 MAC&LOADs, each refilling the NN register it used last, + 1 load-only = 9 instructions per iteration */
.macro MLS4X2_LOOP count, pw, pa
  lp.setup 0, \count, 1f
  MLS_INSN x10, \pw, 0     /* W0 A0 */
  MLS_INSN x11, \pw, 17    /* W0 A1, refill W0 */
  MLS_INSN x12, \pw, 2     /* W1 A0 */
  MLS_INSN x13, \pw, 19    /* W1 A1, refill W1 */
  MLS_INSN x14, \pw, 4     /* W2 A0 */
  MLS_INSN x15, \pw, 21    /* W2 A1, refill W2 */
  MLS_INSN x16, \pa, 14    /* W3 A0, refill A0 */
  MLS_INSN x17, \pw, 23    /* W3 A1, refill W3 */
1:MLS_INSN x0, \pa, 9      /* refill A1 */
.endm

/* 6 post-increment loads + 8 pv.sdotsp.b = 14 instructions per iteration (w0..w3, a0, a1: scratch registers) */
.macro XPULP4X2_LOOP count, pw, pa, w0, w1, w2, w3, a0, a1
  lp.setup 0, \count, 1f
  p.lw \w0, 4, \pw
  p.lw \w1, 4, \pw
  p.lw \w2, 4, \pw
  p.lw \w3, 4, \pw
  p.lw \a0, 4, \pa
  p.lw \a1, 4, \pa
  pv.sdotsp.b x10, \w0, \a0
  pv.sdotsp.b x11, \w0, \a1
  pv.sdotsp.b x12, \w1, \a0
  pv.sdotsp.b x13, \w1, \a1
  pv.sdotsp.b x14, \w2, \a0
  pv.sdotsp.b x15, \w2, \a1
  pv.sdotsp.b x16, \w3, \a0
1:pv.sdotsp.b x17, \w3, \a1
.endm

.macro ZERO_ACC
  li x10, 0
  li x11, 0
  li x12, 0
  li x13, 0
  li x14, 0
  li x15, 0
  li x16, 0
  li x17, 0
.endm
#endif
