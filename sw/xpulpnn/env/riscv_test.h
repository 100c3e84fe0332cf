/* Minimal test environment of the xpulpnn core, compatible with the riscv-tests ISA test sources.
 *
 * Machine mode, no traps needed: RVTEST_PASS / RVTEST_FAIL store the riscv-tests exit code straight to
 * `tohost` (1 = pass, (n << 1) | 1 = test n failed); the core stops on that store.
 * TESTNUM is gp, as in riscv-tests. */
#ifndef XPULPNN_RISCV_TEST_H
#define XPULPNN_RISCV_TEST_H

#define TESTNUM gp

#define RVTEST_RV32U .macro init; .endm
#define RVTEST_RV64U RVTEST_RV32U
#define RVTEST_RV32M .macro init; .endm
#define RVTEST_RV64M RVTEST_RV32M

#define RVTEST_CODE_BEGIN                                               \
        .section .text.init, "ax", @progbits;                           \
        .align 6;                                                       \
        .globl _start;                                                  \
_start:                                                                 \
        li TESTNUM, 0;                                                  \
        init;

#define RVTEST_CODE_END unimp

#define RVTEST_PASS                                                     \
        fence;                                                          \
        li TESTNUM, 1;                                                  \
        la t5, tohost;                                                  \
1:      sw TESTNUM, 0(t5);                                              \
        j 1b;

#define RVTEST_FAIL                                                     \
        fence;                                                          \
1:      beqz TESTNUM, 1b;                                               \
        sll TESTNUM, TESTNUM, 1;                                        \
        or TESTNUM, TESTNUM, 1;                                         \
        la t5, tohost;                                                  \
2:      sw TESTNUM, 0(t5);                                              \
        j 2b;

#define EXTRA_DATA

#define RVTEST_DATA_BEGIN                                               \
        EXTRA_DATA                                                      \
        .pushsection .tohost, "aw", @progbits;                          \
        .align 6; .global tohost; tohost: .word 0, 0;                   \
        .align 6; .global fromhost; fromhost: .word 0, 0;               \
        .popsection;                                                    \
        .align 4; .global begin_signature; begin_signature:

#define RVTEST_DATA_END .align 4; .global end_signature; end_signature:

#endif
