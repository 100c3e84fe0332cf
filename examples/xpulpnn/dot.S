# A 32-element int8 dot product with the XpulpV2 SIMD dot product (pv.sdotsp.b: 4 MACs per instruction),
# post-increment loads and a zero-overhead hardware loop; the program checks its own result and reports it
# through tohost (1 = pass, 3 = test 1 failed).
#include "xpulpnn_insn.h"
  .section .text.init, "ax", @progbits
  .globl _start
_start:
  la a1, act
  la a2, wgt
  li a0, 0
  li t2, 8                      # 8 words of 4 int8 lanes
  lp.setup 0, t2, 1f
  p.lw t3, 4, a1
  p.lw t4, 4, a2
1: pv.sdotsp.b a0, t3, t4
  la t0, result
  sw a0, 0(t0)
  li t1, -36                    # sum_k (k - 16) * (3 - k % 7), k = 0..31
  li t5, 1
  beq a0, t1, 2f
  li t5, 3
2: la t0, tohost
  sw t5, 0(t0)
3: j 3b

  .data
  .align 4
act: .byte -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1
     .byte 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
wgt: .byte 3, 2, 1, 0, -1, -2, -3, 3, 2, 1, 0, -1, -2, -3, 3, 2
     .byte 1, 0, -1, -2, -3, 3, 2, 1, 0, -1, -2, -3, 3, 2, 1, 0
  .globl result
result: .word 0

  .section .tohost, "aw", @progbits
  .globl tohost
tohost: .word 0, 0
