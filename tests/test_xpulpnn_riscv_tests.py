"""``python -m tb.xpulpnn.riscv_tests`` on a small synthetic checkout (no network, no real riscv-tests sources).

The checkout is written here in the riscv-tests layout: ``isa/rv32ui/*.S`` wrappers that include
``../rv64ui/*.S``, ``isa/macros/scalar/test_macros.h`` (the project's riscv-tests-style macros) and an
``env/p/riscv_test.h`` of the same kind as the real one (reset vector with CSR set-up and ``mret``, pass/fail
as ``ecall`` through a trap handler that writes ``tohost``). The real suite is run by hand (docs/xpulpnn.md).
"""

import shutil

import pytest

from sw.xpulpnn.toolchain import ENV_DIR, LINK_LD
from tb.xpulpnn import riscv_tests as rt

TRAP_ENV = r"""
#include "../encoding.h"
#define TESTNUM gp
#define RVTEST_RV64U .macro init; .endm
#define RVTEST_RV32U .macro init; .endm
#define RVTEST_CODE_BEGIN .section .text.init; .align 6; .globl _start; _start: j reset_vector; .align 2; \
  trap_vector: csrr t5, mcause; li t6, CAUSE_MACHINE_ECALL; beq t5, t6, write_tohost; ori TESTNUM, TESTNUM, 1337; \
  write_tohost: sw TESTNUM, tohost, t5; j write_tohost; \
  reset_vector: li TESTNUM, 0; la t0, trap_vector; csrw mtvec, t0; csrwi mstatus, 0; init; \
  la t0, 1f; csrw mepc, t0; mret; 1:
#define RVTEST_CODE_END unimp
#define RVTEST_PASS fence; li TESTNUM, 1; li a7, 93; li a0, 0; ecall
#define RVTEST_FAIL fence; 1: beqz TESTNUM, 1b; sll TESTNUM, TESTNUM, 1; or TESTNUM, TESTNUM, 1; \
  li a7, 93; addi a0, TESTNUM, 0; ecall
#define RVTEST_DATA_BEGIN .pushsection .tohost,"aw",@progbits; .align 6; .global tohost; tohost: .word 0, 0; \
  .popsection; .align 4; .global begin_signature; begin_signature:
#define RVTEST_DATA_END .align 4; .global end_signature; end_signature:
"""

BODY = """#include "riscv_test.h"
#include "test_macros.h"
RVTEST_RV64U
RVTEST_CODE_BEGIN
  TEST_RR_OP( 2, {op}, {want}, 0x7ffffff0, 0x11 );
  TEST_LD_OP( 3, lw, 0x12345678, 0, tdat );
  TEST_PASSFAIL
RVTEST_CODE_END
  .data
RVTEST_DATA_BEGIN
tdat: .word 0x12345678
RVTEST_DATA_END
"""

WRAPPER = """#include "riscv_test.h"
#undef RVTEST_RV64U
#define RVTEST_RV64U RVTEST_RV32U
#include "../{suite}/{name}.S"
"""


@pytest.fixture
def checkout(tmp_path):
    src = tmp_path / "riscv-tests"
    for d in ("env/p", "isa/macros/scalar", "isa/rv32ui", "isa/rv64ui", "isa/rv32um", "isa/rv64um"):
        (src / d).mkdir(parents=True)
    (src / "env/p/riscv_test.h").write_text(TRAP_ENV)
    (src / "env/encoding.h").write_text("#define CAUSE_MACHINE_ECALL 0xb\n")
    shutil.copy(LINK_LD, src / "env/p/link.ld")
    shutil.copy(ENV_DIR / "test_macros.h", src / "isa/macros/scalar/test_macros.h")
    (src / "isa/rv64ui/add.S").write_text(BODY.format(op="add", want="0x80000001"))
    (src / "isa/rv64um/mulh.S").write_text(BODY.format(op="mulh", want="0x1"))   # wrong on purpose: is 0x8
    (src / "isa/rv32ui/add.S").write_text(WRAPPER.format(suite="rv64ui", name="add"))
    (src / "isa/rv32um/mulh.S").write_text(WRAPPER.format(suite="rv64um", name="mulh"))
    return src


def test_checkout_errors(tmp_path, checkout):
    with pytest.raises(rt.CheckoutError, match="env submodule"):
        rt.find_tests(tmp_path)
    with pytest.raises(rt.CheckoutError, match="no test named"):
        rt.find_tests(checkout, only=["nosuch"])
    assert [(s, n) for s, n, _ in rt.find_tests(checkout)] == [("rv32ui", "add"), ("rv32um", "mulh")]


def test_both_envs_on_the_iss(tmp_path, checkout, capsys):
    rows = rt.run(checkout, backends=("iss",), out_dir=tmp_path / "out", log=lambda *a: None)
    got = {r["test"]: (r["result"], r.get("iss"), r.get("note", "")) for r in rows}
    assert got["rv32ui-p-add"][:2] == ("PASS", "pass")
    assert got["rv32ui-min-add"][:2] == ("PASS", "pass")
    for t in ("rv32um-p-mulh", "rv32um-min-mulh"):    # 0x7ffffff0 * 0x11 >> 32 = 8, not 1: test 2 fails
        assert got[t][:2] == ("FAIL", "fail") and "test 2 failed" in got[t][2], got[t]
    # the real-style env goes through the trap handler: more instructions than the minimal header
    insns = {r["test"]: r["iss_cycles"] for r in rows}
    assert insns["rv32ui-p-add"] > insns["rv32ui-min-add"]
    assert rt.print_report(rows, ("iss",)) == 2
    assert "riscv-tests: 2 passed, 2 failed, 0 skipped" in capsys.readouterr().out
    # editing the included rv64 body rebuilds the rv32 wrapper's ELF (the cache keys on included files)
    (checkout / "isa/rv64um/mulh.S").write_text(BODY.format(op="mulh", want="0x8"))
    rows = rt.run(checkout, backends=("iss",), envs=("real",), only=["mulh"], out_dir=tmp_path / "out",
                  log=lambda *a: None)
    assert [(r["test"], r["result"]) for r in rows] == [("rv32um-p-mulh", "PASS")]


def test_cli_mode_runs_jobs_through_accelgen_sim(tmp_path, checkout):
    """``--cli``: each ELF as an ``accelgen sim xpulpnn --job`` folder (job.json naming the ELF and config)."""
    rows = rt.run(checkout, backends=("iss",), envs=("minimal",), cli=True, out_dir=tmp_path / "out",
                  log=lambda *a: None)
    got = {r["test"]: (r["result"], r.get("iss"), r.get("note", "")) for r in rows}
    assert got["rv32ui-min-add"][:2] == ("PASS", "pass")
    assert got["rv32um-min-mulh"][:2] == ("FAIL", "fail") and "test 2 failed" in got["rv32um-min-mulh"][2]
    assert (tmp_path / "out" / "jobs" / "rv32ui-min-add" / "job.json").is_file()
