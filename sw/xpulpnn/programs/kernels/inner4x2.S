# The 4x2 MatMul inner loop of the seed slides: 8 accumulators acc[r][c] += dot(W_r, A_c) over K.
# One of KERNEL_RV32IM, KERNEL_XPULP or KERNEL_MLS selects the form; MLS_INSN the MAC&LOAD width
# (pv.mlsdotsp.b/.n/.c). Data (from sw/xpulpnn/kernels.py): wdat, adat in the layout of the form,
# kernel_iters = loop iterations. The loop runs twice, with kernel_iters and kernel_iters / 2 iterations,
# each timed with mcycle; result = {cycles(full), cycles(half), acc[0..7] of the full run}.
#include "kernel4x2.h"

  .section .text.init, "ax", @progbits
  .globl _start
_start:
  la x24, result
  lw x25, kernel_iters
  mv x7, x25
  jal ra, run
  sw x20, 0(x24)
  sw x10, 8(x24)
  sw x11, 12(x24)
  sw x12, 16(x24)
  sw x13, 20(x24)
  sw x14, 24(x24)
  sw x15, 28(x24)
  sw x16, 32(x24)
  sw x17, 36(x24)
  srli x7, x25, 1
  jal ra, run
  sw x20, 4(x24)
  la x5, tohost
  li x6, 1
  sw x6, 0(x5)
1:j 1b

# x7 = iterations; returns the accumulators in x10..x17 and the loop's cycles in x20
run:
  ZERO_ACC
  la x5, wdat
  la x6, adat
#if defined(KERNEL_MLS)
  MLS4X2_FILL x5, x6
#endif
  csrr x20, mcycle
#if defined(KERNEL_RV32IM)
  # rows of W are KSTRIDE bytes apart, columns of A too; one byte of K per iteration
2:lb x28, 0(x5)
  lb x29, KSTRIDE(x5)
  lb x30, 2*KSTRIDE(x5)
  lb x31, 3*KSTRIDE(x5)
  lb x26, 0(x6)
  lb x27, KSTRIDE(x6)
  mul x8, x28, x26
  add x10, x10, x8
  mul x8, x28, x27
  add x11, x11, x8
  mul x8, x29, x26
  add x12, x12, x8
  mul x8, x29, x27
  add x13, x13, x8
  mul x8, x30, x26
  add x14, x14, x8
  mul x8, x30, x27
  add x15, x15, x8
  mul x8, x31, x26
  add x16, x16, x8
  mul x8, x31, x27
  add x17, x17, x8
  addi x5, x5, 1
  addi x6, x6, 1
  addi x7, x7, -1
  bnez x7, 2b
#elif defined(KERNEL_XPULP)
  XPULP4X2_LOOP x7, x5, x6, x28, x29, x30, x31, x26, x27
#elif defined(KERNEL_MLS)
  MLS4X2_LOOP x7, x5, x6
#else
#error "define KERNEL_RV32IM, KERNEL_XPULP or KERNEL_MLS"
#endif
  csrr x21, mcycle
  sub x20, x21, x20
  ret

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .word 0, 0

  .data
  .align 4
  .globl result
result: .space 40
