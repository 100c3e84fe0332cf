# int8 matrix multiply C[M][N] = W[M][K] x A[K][N] with the 4x2 inner loop (KERNEL_MLS: MAC&LOAD with
# MLS_INSN; KERNEL_XPULP: post-increment loads + pv.sdotsp.b). Data from sw/xpulpnn/kernels.py:
# wdat = W in blocks of 4 rows, the words of the 4 rows interleaved; adat = A in blocks of 2 columns, the
# words of the 2 columns interleaved; mm_dims = {M, N, K / 4}. C is int32, row-major.
# result = {cycles of the whole multiply}.
#include "kernel4x2.h"

  .section .text.init, "ax", @progbits
  .globl _start
_start:
  la x9, mm_dims
  lw x8, 0(x9)            # M
  lw x26, 4(x9)           # N
  lw x18, 8(x9)           # K / 4: inner-loop iterations
  slli x26, x26, 2        # C row stride in bytes
  slli x28, x18, 3        # bytes of one column-pair block of adat
  la x19, wdat
  la x25, C
  srli x23, x8, 2         # row blocks
  csrr x20, mcycle
rb_loop:
  la x21, adat
  srli x24, x26, 3        # column pairs = N / 2
cb_loop:
  mv x5, x19
  mv x6, x21
  ZERO_ACC
#if defined(KERNEL_MLS)
  MLS4X2_FILL x5, x6
  MLS4X2_LOOP x18, x5, x6
#elif defined(KERNEL_XPULP)
  XPULP4X2_LOOP x18, x5, x6, x1, x2, x3, x4, x29, x30
#else
#error "define KERNEL_MLS or KERNEL_XPULP"
#endif
  sw x10, 0(x25)
  sw x11, 4(x25)
  add x27, x25, x26
  sw x12, 0(x27)
  sw x13, 4(x27)
  add x27, x27, x26
  sw x14, 0(x27)
  sw x15, 4(x27)
  add x27, x27, x26
  sw x16, 0(x27)
  sw x17, 4(x27)
  addi x25, x25, 8
  add x21, x21, x28
  addi x24, x24, -1
  bnez x24, cb_loop
  slli x27, x18, 4
  add x19, x19, x27       # next row block of wdat
  add x25, x25, x26       # C: skip the 3 other rows of this row block
  add x25, x25, x26
  add x25, x25, x26
  addi x23, x23, -1
  bnez x23, rb_loop
  csrr x21, mcycle
  sub x20, x21, x20
  la x5, result
  sw x20, 0(x5)
  la x5, tohost
  li x6, 1
  sw x6, 0(x5)
1:j 1b

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .word 0, 0

  .data
  .align 4
  .globl result
result: .space 16
