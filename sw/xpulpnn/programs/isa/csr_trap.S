# Zicsr and machine-mode traps: CSR read/modify/write forms, unknown CSRs, ecall/ebreak -> mtvec, mret,
# the counters, fence/fence.i as no-ops, and self-modifying code made visible by fence.i.
#include "riscv_test.h"
#include "test_macros.h"
#include "xpulpnn_insn.h"

RVTEST_RV32U
RVTEST_CODE_BEGIN
  TEST_CASE(2, x5, 0x1234, li x6, 0x1234; csrw mscratch, x6; csrr x5, mscratch)
  TEST_CASE(3, x5, 0x1234, li x6, 0xff00; csrrs x5, mscratch, x6)
  TEST_CASE(4, x5, 0xff34, li x6, 0x00f0; csrrc x5, mscratch, x6)
  TEST_CASE(5, x5, 0xff04, csrrwi x5, mscratch, 7)
  TEST_CASE(6, x5, 0x1f, csrrsi x0, mscratch, 0x18; csrrci x5, mscratch, 0; csrr x5, mscratch)
  TEST_CASE(7, x5, 0, csrr x5, mhartid)
  TEST_CASE(8, x5, 0, li x6, -1; csrw 0x7ff, x6; csrr x5, 0x7ff)        # unknown CSR: reads 0
  TEST_CASE(9, x5, 0, csrwi satp, 0; csrw pmpaddr0, x6; csrr x5, pmpcfg0)
  # ecall: mepc = the ecall, mcause = 11, continue at mtvec; mret returns to mepc (advanced by the handler)
  li TESTNUM, 10
  la x6, handler
  csrw mtvec, x6
  li x20, 0
  la x21, 1f
1:ecall
  li x7, 11
  bne x22, x7, fail
  bne x23, x21, fail
  li x7, 1
  bne x20, x7, fail
  li TESTNUM, 11
  la x21, 1f
1:ebreak
  li x7, 3
  bne x22, x7, fail
  li x7, 2
  bne x20, x7, fail
  # mstatus: MPP reads 3 (machine), MIE/MPIE are writable
  TEST_CASE(12, x5, 0x1888, li x6, 0x88; csrw mstatus, x6; csrr x5, mstatus)
  # counters: instret counts retired instructions exactly
  TEST_CASE(13, x5, 3, csrr x6, minstret; nop; nop; csrr x7, minstret; sub x5, x7, x6)
  TEST_CASE(14, x5, 1, csrr x6, mcycle; nop; csrr x7, mcycle; sltu x5, x6, x7)
  TEST_CASE(15, x5, 0, rdinstreth x5)
  # fence / fence.i are no-ops; a store into the instruction stream becomes visible after fence.i
  li TESTNUM, 16
  li x5, 0
  la x6, 2f
  la x7, 3f
  lw x7, 0(x7)
  fence
  sw x7, 0(x6)
  fence.i
2:addi x5, x5, 1
  li x8, 10
  bne x5, x8, fail
  TEST_PASSFAIL

  .align 2
handler:
  addi x20, x20, 1
  csrr x22, mcause
  csrr x23, mepc
  addi x23, x23, 4
  csrw mepc, x23
  addi x23, x23, -4
  mret
3:addi x5, x5, 10
RVTEST_CODE_END

  .data
RVTEST_DATA_BEGIN
RVTEST_DATA_END
