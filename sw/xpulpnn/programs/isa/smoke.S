# Smoke test: a few ALU ops, a load/store, a branch, a call, a dot product, a hardware loop.
#include "riscv_test.h"
#include "test_macros.h"
#include "xpulpnn_insn.h"

RVTEST_RV32U
RVTEST_CODE_BEGIN
  TEST_RR_OP(2, add, 5, 2, 3)
  TEST_RR_OP(3, sub, -1, 2, 3)
  TEST_LD_OP(4, lw, 0x11223344, 0, tdat)
  TEST_ST_OP(5, lw, sw, 0x55667788, 4, tdat)
  TEST_RR_OP(6, pv.dotsp.b, 1*5 + 2*6 + 3*7 + 4*8, 0x04030201, 0x08070605)
  TEST_CASE(7, x5, 10, li x5, 0; li x6, 5; lp.setup 0, x6, 1f; addi x5, x5, 1; nop; 1: addi x5, x5, 1)
  TEST_PASSFAIL
RVTEST_CODE_END

  .data
RVTEST_DATA_BEGIN
tdat: .word 0x11223344, 0
RVTEST_DATA_END
