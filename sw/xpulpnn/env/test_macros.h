/* ISA test macros for the xpulpnn core, in the style of riscv-tests (written for this project).
 *
 * Every TEST_* macro runs one check numbered `testnum`: it sets TESTNUM, computes a value into a register and
 * branches to `fail` when it differs from the expected one. TEST_PASSFAIL ends the program. */
#ifndef XPULPNN_TEST_MACROS_H
#define XPULPNN_TEST_MACROS_H

#define TEST_CASE(testnum, testreg, correctval, code...)                \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        code;                                                           \
        li x7, correctval;                                              \
        bne testreg, x7, fail;

/* rd = op(rs1, rs2) */
#define TEST_RR_OP(testnum, inst, result, val1, val2)                   \
        TEST_CASE(testnum, x14, result,                                 \
            li x1, val1; li x2, val2; inst x14, x1, x2)

#define TEST_RR_SRC1_EQ_DEST(testnum, inst, result, val1, val2)         \
        TEST_CASE(testnum, x1, result, li x1, val1; li x2, val2; inst x1, x1, x2)

#define TEST_RR_SRC2_EQ_DEST(testnum, inst, result, val1, val2)         \
        TEST_CASE(testnum, x2, result, li x1, val1; li x2, val2; inst x2, x1, x2)

#define TEST_RR_SRC12_EQ_DEST(testnum, inst, result, val1)              \
        TEST_CASE(testnum, x1, result, li x1, val1; inst x1, x1, x1)

/* the result is consumed 0, 1 or 2 instructions later (bypass paths) */
#define TEST_RR_DEST_BYPASS(testnum, nops, inst, result, val1, val2)    \
        TEST_CASE(testnum, x6, result,                                  \
            li x1, val1; li x2, val2; inst x14, x1, x2;                 \
            .rept nops; nop; .endr;                                     \
            addi x6, x14, 0)

/* rd = op(rd, rs1, rs2): accumulating instructions (sdot*) read rd as a third source */
#define TEST_RRR_OP(testnum, inst, result, acc, val1, val2)             \
        TEST_CASE(testnum, x14, result,                                 \
            li x14, acc; li x1, val1; li x2, val2; inst x14, x1, x2)

/* rd = op(rs1, imm) */
#define TEST_IMM_OP(testnum, inst, result, val1, imm)                   \
        TEST_CASE(testnum, x14, result, li x1, val1; inst x14, x1, imm)

#define TEST_IMM_SRC1_EQ_DEST(testnum, inst, result, val1, imm)         \
        TEST_CASE(testnum, x1, result, li x1, val1; inst x1, x1, imm)

#define TEST_RI_ACC_OP(testnum, inst, result, acc, val1, imm)           \
        TEST_CASE(testnum, x14, result,                                 \
            li x14, acc; li x1, val1; inst x14, x1, imm)

/* loads and stores relative to a data label */
#define TEST_LD_OP(testnum, inst, result, offset, base)                 \
        TEST_CASE(testnum, x14, result, la x1, base; inst x14, offset(x1))

#define TEST_ST_OP(testnum, load_inst, store_inst, result, offset, base) \
        TEST_CASE(testnum, x14, result,                                 \
            la x1, base; li x2, result;                                 \
            store_inst x2, offset(x1); load_inst x14, offset(x1))

/* a loaded value used by the next instruction (no load-use bubble needed for correctness) */
#define TEST_LD_USE(testnum, inst, result, offset, base)                \
        TEST_CASE(testnum, x6, result,                                  \
            la x1, base; inst x14, offset(x1); addi x6, x14, 0)

#define TEST_BR2_OP_TAKEN(testnum, inst, val1, val2)                    \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        li x1, val1; li x2, val2;                                       \
        inst x1, x2, 2f;                                                \
        bne x0, TESTNUM, fail;                                          \
1:      bne x0, TESTNUM, 3f;                                            \
2:      inst x1, x2, 1b;                                                \
        bne x0, TESTNUM, fail;                                          \
3:

#define TEST_BR2_OP_NOTTAKEN(testnum, inst, val1, val2)                 \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        li x1, val1; li x2, val2;                                       \
        inst x1, x2, 1f;                                                \
        bne x0, TESTNUM, 2f;                                            \
1:      bne x0, TESTNUM, fail;                                          \
2:      inst x1, x2, 1b;                                                \
3:

/* the source registers are written 0, 1 or 2 instructions before use */
#define TEST_RR_SRC12_BYPASS(testnum, n1, n2, inst, result, val1, val2) \
        TEST_CASE(testnum, x14, result,                                 \
            li x1, val1; .rept n1; nop; .endr;                          \
            li x2, val2; .rept n2; nop; .endr;                          \
            inst x14, x1, x2)

#define TEST_RR_SRC21_BYPASS(testnum, n1, n2, inst, result, val1, val2) \
        TEST_CASE(testnum, x14, result,                                 \
            li x2, val2; .rept n1; nop; .endr;                          \
            li x1, val1; .rept n2; nop; .endr;                          \
            inst x14, x1, x2)

#define TEST_RR_ZEROSRC1(testnum, inst, result, val)                    \
        TEST_CASE(testnum, x2, result, li x1, val; inst x2, x0, x1)

#define TEST_RR_ZEROSRC2(testnum, inst, result, val)                    \
        TEST_CASE(testnum, x2, result, li x1, val; inst x2, x1, x0)

#define TEST_RR_ZERODEST(testnum, inst, val1, val2)                     \
        TEST_CASE(testnum, x0, 0, li x1, val1; li x2, val2; inst x0, x1, x2)

#define TEST_IMM_DEST_BYPASS(testnum, nops, inst, result, val1, imm)    \
        TEST_CASE(testnum, x6, result,                                  \
            li x1, val1; inst x14, x1, imm;                             \
            .rept nops; nop; .endr;                                     \
            addi x6, x14, 0)

#define TEST_IMM_SRC1_BYPASS(testnum, nops, inst, result, val1, imm)    \
        TEST_CASE(testnum, x14, result,                                 \
            li x1, val1; .rept nops; nop; .endr; inst x14, x1, imm)

#define TEST_IMM_ZEROSRC1(testnum, inst, result, imm)                   \
        TEST_CASE(testnum, x1, result, inst x1, x0, imm)

#define TEST_LD_DEST_BYPASS(testnum, nops, inst, result, offset, base)  \
        TEST_CASE(testnum, x6, result,                                  \
            la x13, base; inst x14, offset(x13);                        \
            .rept nops; nop; .endr;                                     \
            addi x6, x14, 0)

#define TEST_LD_SRC1_BYPASS(testnum, nops, inst, result, offset, base)  \
        TEST_CASE(testnum, x14, result,                                 \
            la x13, base; .rept nops; nop; .endr; inst x14, offset(x13))

#define TEST_ST_SRC12_BYPASS(testnum, n1, n2, load_inst, store_inst, result, offset, base) \
        TEST_CASE(testnum, x14, result,                                 \
            li x13, result; .rept n1; nop; .endr;                       \
            la x12, base; .rept n2; nop; .endr;                         \
            store_inst x13, offset(x12); load_inst x14, offset(x12))

#define TEST_BR2_SRC12_BYPASS(testnum, n1, n2, inst, val1, val2)        \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        li x1, val1; .rept n1; nop; .endr;                              \
        li x2, val2; .rept n2; nop; .endr;                              \
        inst x1, x2, fail

#define TEST_JALR_SRC1_BYPASS(testnum, nops, inst)                      \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        la x6, 2f; .rept nops; nop; .endr;                              \
        inst x13, x6, 0;                                                \
        bne x0, TESTNUM, fail;                                          \
2:

#define TEST_PASSFAIL                                                   \
        bne x0, TESTNUM, pass;                                          \
fail:   RVTEST_FAIL;                                                    \
pass:   RVTEST_PASS;

#endif
