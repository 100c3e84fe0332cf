# Hardware loops (XpulpV2): forms, nesting, the end address (last instruction of the body), counts, CSRs.
#include "riscv_test.h"
#include "test_macros.h"
#include "xpulpnn_insn.h"

RVTEST_RV32U
RVTEST_CODE_BEGIN
  # lp.setup: the body (3 instructions, last one at the end label) runs count times
  TEST_CASE(2, x5, 30, li x5, 0; li x6, 10; lp.setup 0, x6, 1f; addi x5, x5, 1; addi x5, x5, 1; 1: addi x5, x5, 1)
  # the instruction after the end label runs once, after the loop (end-address off-by-one check)
  TEST_CASE(3, x5, 107, li x5, 0; li x6, 7; lp.setup 0, x6, 1f; addi x5, x5, 0; nop; 1: addi x5, x5, 1; addi x5, x5, 100)
  # lp.setupi with an immediate count, level 1
  TEST_CASE(4, x5, 15, li x5, 0; lp.setupi 1, 5, 1f; nop; addi x5, x5, 2; 1: addi x5, x5, 1)
  # count 1: a single pass, no jump back
  TEST_CASE(5, x5, 3, li x5, 0; li x6, 1; lp.setup 0, x6, 1f; addi x5, x5, 1; addi x5, x5, 1; 1: addi x5, x5, 1)
  # starti / endi / counti / count, set separately
  TEST_CASE(6, x5, 12, li x5, 0; lp.starti 0, 2f; lp.endi 0, 3f; lp.counti 0, 4; j 2f; nop; 2: addi x5, x5, 1; addi x5, x5, 1; 3: addi x5, x5, 1)
  TEST_CASE(7, x5, 18, li x5, 0; li x6, 6; lp.starti 1, 2f; lp.endi 1, 3f; lp.count 1, x6; 2: addi x5, x5, 1; nop; 3: addi x5, x5, 2)
  # nesting: inner level 0, outer level 1 (outer end >= inner end + 8)
  li TESTNUM, 8
  li x5, 0
  li x6, 0
  li x8, 5
  li x9, 4
  lp.setup 1, x8, 2f
  addi x6, x6, 1
  lp.setup 0, x9, 1f
  addi x5, x5, 1
  addi x5, x5, 1
1:addi x5, x5, 1
  addi x6, x6, 10
2:addi x6, x6, 100
  li x7, 60
  bne x5, x7, fail
  li x7, 555
  bne x6, x7, fail
  # the loop CSRs: counts are 0 after both loops ended, start/end hold the last setup
  TEST_CASE(9, x5, 0, csrr x5, 0x7c2)
  TEST_CASE(10, x5, 0, csrr x5, 0x7c6)
  TEST_CASE(11, x5, 0, la x6, 1f; lp.setupi 0, 2, 1f; nop; nop; 1: nop; csrr x5, 0x7c1; sub x5, x5, x6)
  TEST_CASE(12, x5, 4, la x6, 1f; 1: lp.setupi 0, 2, 2f; nop; nop; 2: nop; csrr x5, 0x7c0; sub x5, x5, x6)
  # reading the count inside the body: count-down happens at the end instruction
  li TESTNUM, 13
  li x5, 0
  li x6, 3
  lp.setup 0, x6, 1f
  csrr x7, 0x7c2
  add x5, x5, x7
1:nop
  li x7, 6
  bne x5, x7, fail
  # loads, a dot product and a post-increment load inside a loop: sum of 8 words
  li TESTNUM, 14
  la x10, ldat
  li x5, 0
  li x6, 8
  lp.setup 0, x6, 1f
  p.lw x7, 4, x10
  add x5, x5, x7
1:nop
  li x7, 36
  bne x5, x7, fail
  li TESTNUM, 15
  la x10, ldat
  li x5, 0
  li x11, 0x01010101
  lp.setupi 0, 4, 1f
  p.lw x7, 4, x10
  nop
1:pv.sdotup.b x5, x7, x11
  li x7, 10
  bne x5, x7, fail
  # short bodies (1 and 2 instructions) keep the same semantics here
  TEST_CASE(16, x5, 9, li x5, 0; lp.setupi 0, 9, 1f; 1: addi x5, x5, 1)
  TEST_CASE(17, x5, 14, li x5, 0; lp.setupi 0, 7, 1f; addi x5, x5, 1; 1: addi x5, x5, 1)
  # a loop that ends on a branch: the taken branch wins, the count still decrements
  TEST_CASE(18, x5, 2, li x5, 0; li x6, 5; lp.setup 0, x6, 1f; addi x5, x5, 1; nop; 1: beq x0, x0, 2f; 2: csrr x7, 0x7c2; li x8, 4; bne x7, x8, fail; lp.counti 0, 0; addi x5, x5, 1)
  TEST_PASSFAIL
RVTEST_CODE_END

  .data
RVTEST_DATA_BEGIN
ldat: .word 1, 2, 3, 4, 5, 6, 7, 8
RVTEST_DATA_END
