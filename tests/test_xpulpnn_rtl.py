"""xpulpnn on Verilator (one build of the default config): the ISA suite and 500 random streams RTL vs ISS by
commit trace, the benchmark kernels' cycles and results, and the ``accelgen sim|trace diff xpulpnn`` commands."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sw.xpulpnn import isa
from sw.xpulpnn.config import RAM_BASE, XpulpNNConfig
from sw.xpulpnn.program import Program, load_elf

ROOT = Path(__file__).resolve().parent.parent
CFG = XpulpNNConfig.load(ROOT / "configs" / "xpulpnn" / "default.json")
N_RANDOM = 500
SEED = 1


@pytest.mark.rtl
def test_isa_suite_and_random_streams_rtl_vs_iss():
    from tb.xpulpnn.harness import run_regression
    print(f"random streams: seeds {SEED}..{SEED + N_RANDOM - 1}")
    res = run_regression(CFG, ROOT / "build" / "tests" / "pytest-xpulpnn", n_random=N_RANDOM, seed=SEED)
    assert not res.returncode_error, res.returncode_error
    names = {t.name for t in res.tests}
    for must in ("rv32ui-add", "rv32ui-lb", "rv32ui-jalr", "rv32um-div", "rv32um-mulhsu", "xpulp-sdotsp",
                 "xpulp-dotusp", "xpulp-postinc", "xpulpnn-mlsdotsup", "xpulpnn-mlsdotusp", "hwloop", "csr_trap"):
        assert must in names
    randoms = [t for t in res.tests if t.name.startswith("random-")]
    assert len(randoms) == N_RANDOM
    assert sum(t.data["status"] == "pass" for t in randoms) > 0.9 * N_RANDOM
    failed = [t for t in res.tests if not t.passed]
    assert not failed, "\n".join(f"{t.name}: {t.message}" for t in failed[:5])
    # the design retires one instruction per cycle apart from control transfers and the divider
    add = next(t for t in res.tests if t.name == "rv32ui-add")
    assert add.data["cycles"] <= add.data["instret"] + 8


@pytest.mark.rtl
def test_kernels_rtl():
    from sw.xpulpnn.kernels import INNER, build_inner, build_matmul, check_inner, check_matmul, dump_size
    from tb.xpulpnn.harness import run_rtl
    kernels = [build_inner(f) for f in INNER]
    progs = [load_elf(k.elf, CFG) for k in kernels]
    elf, w, a = build_matmul(64, 64, 64)
    mm = load_elf(elf, CFG)
    runs = run_rtl(CFG, progs + [mm], ROOT / "build" / "tests" / "pytest-xpulpnn-kernels",
                   dump_bytes=max(dump_size(p) for p in progs + [mm]))
    res = {}
    for k, p, r in zip(kernels, progs, runs):
        assert r.status == "pass", r.message
        res[k.form] = check_inner(k, p, r.ram)
        assert res[k.form]["ok"], k.form
    # one instruction per cycle in the loop bodies: 14 (Xpulp) and 9 (MAC&LOAD) cycles per iteration
    assert res["xpulp-b"]["cycles_per_iter"] == 14
    for form in ("mls-b", "mls-n", "mls-c"):
        assert res[form]["cycles_per_iter"] == 9
    assert round(res["xpulp-b"]["mac_per_cycle_steady"], 2) >= 2.29
    assert round(res["mls-b"]["mac_per_cycle_steady"], 2) >= 3.56
    assert res["mls-n"]["mac_per_cycle_steady"] >= 7.1
    assert res["mls-c"]["mac_per_cycle_steady"] >= 14.2
    # set-up (NN-RF fill, lp.setup, two mcycle reads) costs a bounded number of cycles per loop
    assert res["mls-b"]["cycles"] <= 9 * 64 + 12
    mm_res = check_matmul(mm, runs[-1].ram, w, a)
    assert mm_res["ok"], mm_res
    assert mm_res["mac_per_cycle"] > 2.5


def _accelgen(*args, cwd=ROOT):
    run = "import sys; from sim.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", run, *args], capture_output=True, text=True, cwd=cwd)


def _elf(tmp_path, name, body, ld=None):
    from sw.xpulpnn.toolchain import LINK_LD, compile_program
    src = tmp_path / f"{name}.S"
    src.write_text('  .section .text.init, "ax", @progbits\n  .globl _start\n_start:\n' + body +
                   '\n  .section .tohost, "aw", @progbits\n  .globl tohost\ntohost: .word 0, 0\n')
    return compile_program([src], tmp_path / f"{name}.elf", linker_script=ld or LINK_LD)


RESULT_KEYS = {"engine", "backend", "status", "cycles", "counters", "outputs", "message", "verdict", "tohost",
               "instret", "pc"}


@pytest.mark.rtl
def test_cli_timeout_error_and_trace_diff(tmp_path):
    from sw.xpulpnn.job import write_job
    spin = _elf(tmp_path, "spin", "1: j 1b")
    out = tmp_path / "spin"
    r = _accelgen("sim", "xpulpnn", "--job", str(spin), "--cycle-limit", "2000", "--out", str(out))
    assert r.returncode == 1, r.stdout + r.stderr
    res = json.loads((out / "result.json").read_text())
    assert res["status"] == "timeout" and res["verdict"] == "timeout" and 2000 <= res["cycles"] <= 2010
    assert set(res) == RESULT_KEYS and res["counters"] == {"cycles": res["cycles"], "instret": res["instret"]}

    # an ELF outside the RAM map is refused with a clear error
    far_ld = tmp_path / "far.ld"
    far_ld.write_text("ENTRY(_start)\nSECTIONS { . = 0x10000; .text.init : { *(.text.init) } "
                      ".tohost : { KEEP(*(.tohost)) } }\n")
    far = _elf(tmp_path, "far", "1: j 1b", ld=far_ld)
    out = tmp_path / "far"
    r = _accelgen("sim", "xpulpnn", "--job", str(far), "--out", str(out))
    assert r.returncode == 2
    assert "lies outside the RAM 0x80000000" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert json.loads((out / "result.json").read_text())["status"] == "error"

    # pass on both backends (iss: the golden backend's alias), identical traces, fail code through tohost
    ok = _elf(tmp_path, "ok", "  li a0, 6\n  li a1, 7\n  mul a2, a0, a1\n  la t0, tohost\n  li t1, 1\n  sw t1, 0(t0)\n1: j 1b")
    job = write_job(tmp_path / "okjob", ok.resolve(), trace=True)
    for backend in ("rtl", "iss", "golden"):
        out = tmp_path / f"ok-{backend}"
        r = _accelgen("sim", "xpulpnn", "--job", str(job), "--backend", backend, "--out", str(out))
        assert r.returncode == 0, r.stdout + r.stderr
        res = json.loads((out / "result.json").read_text())
        assert (res["status"], res["verdict"], res["tohost"], res["instret"]) == ("ok", "pass", 1, 7)
        assert res["outputs"] == {"trace": "trace.log"}
        assert "x12=0000002a" in (out / "trace.log").read_text()
    # the old spellings: --elf, --max-cycles, --trace
    out = tmp_path / "ok-old-flags"
    r = _accelgen("sim", "xpulpnn", "--elf", str(ok), "--backend", "iss", "--trace", "--max-cycles", "100",
                  "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads((out / "result.json").read_text())
    assert (res["status"], res["tohost"], res["instret"]) == ("ok", 1, 7)
    assert "x12=0000002a" in (out / "trace.log").read_text()
    r = _accelgen("trace", "diff", "xpulpnn", "--job", str(ok), "--out", str(tmp_path / "diff"))
    assert r.returncode == 0 and "traces identical (7 retired instructions)" in r.stdout, r.stdout + r.stderr
    r = _accelgen("trace", "diff", "xpulpnn", "--elf", str(ok), "--max-cycles", "100", "--out", str(tmp_path / "d2"))
    assert r.returncode == 0 and "traces identical (7 retired instructions)" in r.stdout, r.stdout + r.stderr
    bad = _elf(tmp_path, "bad", "  la t0, tohost\n  li t1, 7\n  sw t1, 0(t0)\n1: j 1b")
    out = tmp_path / "bad"
    r = _accelgen("sim", "xpulpnn", "--job", str(bad), "--out", str(out))
    res = json.loads((out / "result.json").read_text())
    assert r.returncode == 1 and (res["status"], res["verdict"], res["tohost"]) == ("error", "fail", 7)
    assert "test 3 failed" in res["message"]


def test_cli_old_flags_are_aliases(tmp_path):
    """``--elf`` (of ``--job``), ``--max-cycles`` (of ``--cycle-limit``) and ``--trace`` on ``accelgen sim xpulpnn``:
    the generic driver adds them from the engine's SPEC (aliases, trace)."""
    from sim.cli import build_parser
    args = build_parser().parse_args(["sim", "xpulpnn", "--elf", "x.elf", "--max-cycles", "5", "--trace"])
    assert (args.job, args.cycle_limit, args.trace) == ("x.elf", 5, True)


@pytest.mark.rtl
def test_illegal_and_misaligned_stop_with_pc(tmp_path):
    from tb.xpulpnn.harness import compare, run_iss, run_rtl

    def prog(name, words):
        text = b"".join(w.to_bytes(4, "little") for w in words)
        return Program([(RAM_BASE, text)], RAM_BASE, RAM_BASE + 0x1000, name=name)
    progs = [prog("illegal", [isa.i_type(isa.OP.OP_IMM, 0, 1, 0, 1), isa.pv_mlsdot("sp", "b", 0, 0, 0) ^ (1 << 27)]),
             # a MAC&LOAD refill must be word-aligned (scalar loads/stores may be misaligned)
             prog("misaligned", [isa.u_type(isa.OP.LUI, 1, 0x80000), isa.i_type(isa.OP.OP_IMM, 0, 1, 1, 2),
                                 isa.pv_mlsdot("sp", "b", 0, 1, isa.nn_ctrl(a_update=True))]),
             prog("outside", [isa.i_type(isa.OP.LOAD, 2, 2, 0, 16)]),
             # a misaligned word load whose second half lies past the end of the RAM
             prog("outside-split", [isa.u_type(isa.OP.LUI, 1, (RAM_BASE + CFG.ram_bytes) >> 12),
                                    isa.i_type(isa.OP.LOAD, 2, 2, 1, -2)]),
             prog("fetch", [isa.j_type(0, 0x40000)])]
    rtl = run_rtl(CFG, progs, tmp_path / "sim", trace=True, max_cycles=1000)
    want = {"illegal": ("illegal instruction", RAM_BASE + 4), "misaligned": ("misaligned", RAM_BASE + 8),
            "outside": ("outside the RAM", RAM_BASE), "outside-split": ("outside the RAM", RAM_BASE + 4),
            "fetch": ("instruction fetch", RAM_BASE + 0x40000)}
    for p, r in zip(progs, rtl):
        iss = run_iss(CFG, p, trace=True, max_cycles=1000)
        assert not compare(p, iss, r), compare(p, iss, r)
        assert r.status == "error" and want[p.name][0] in r.message and r.pc == want[p.name][1], (p.name, r)


@pytest.mark.rtl
def test_misaligned_loads_and_stores(tmp_path):
    """Loads/stores crossing a word boundary (split into two data-port cycles) read and write the right bytes,
    including back-to-back with a dependent instruction and a post-increment form; one extra cycle each."""
    from tb.xpulpnn.harness import compare, run_iss, run_rtl
    body = """#include "xpulpnn_insn.h"
  la t0, buf
  li t1, 0x04030201
  sw t1, 0(t0)
  li t1, 0x08070605
  sw t1, 4(t0)
  lw a0, 1(t0)
  lh a1, 3(t0)
  lhu a2, 3(t0)
  lw a3, 3(t0)
  addi a3, a3, 1
  li t2, 0xa1b2c3d4
  sw t2, 2(t0)
  lw a4, 0(t0)
  lw a5, 4(t0)
  sh t2, 3(t0)
  lw a6, 0(t0)
  lw a7, 4(t0)
  addi s2, t0, 1
  p.lw s3, 4, s2
  lh s4, 1(t0)
  la t0, tohost
  li t1, 1
  sw t1, 0(t0)
1: j 1b
  .data
  .align 4
buf: .word 0, 0, 0, 0"""
    elf = _elf(tmp_path, "misaligned", body)
    p = load_elf(elf, CFG)
    mem = bytearray(16)                       # expected values from a byte-array model of the buffer
    rd = lambda off, n, signed=False: int.from_bytes(mem[off:off + n], "little", signed=signed) & 0xFFFFFFFF
    mem[0:8] = bytes(range(1, 9))
    want = {10: rd(1, 4), 11: rd(3, 2, True), 12: rd(3, 2), 13: rd(3, 4) + 1}
    mem[2:6] = (0xA1B2C3D4).to_bytes(4, "little")
    want.update({14: rd(0, 4), 15: rd(4, 4)})
    mem[3:5] = (0xC3D4).to_bytes(2, "little")
    want.update({16: rd(0, 4), 17: rd(4, 4), 19: rd(1, 4), 20: rd(1, 2, True)})
    iss = run_iss(CFG, p, trace=True, max_cycles=1000)
    rtl = run_rtl(CFG, [p], tmp_path / "sim", trace=True, max_cycles=1000)[0]
    assert rtl.status == "pass" and not compare(p, iss, rtl), compare(p, iss, rtl)
    text = "\n".join(rtl.trace)
    for reg, v in want.items():
        assert f"x{reg}={v:08x}" in text, (reg, hex(v))


@pytest.mark.rtl
def test_example_job_rtl(tmp_path):
    from sim.cli import main
    from sw.common.contract import Result
    ex = ROOT / "examples" / "xpulpnn"
    assert main(["sim", "xpulpnn", "--job", str(ex), "--backend", "rtl", "--out", str(tmp_path / "r")]) == 0
    assert main(["sim", "xpulpnn", "--job", str(ex), "--backend", "golden", "--out", str(tmp_path / "g")]) == 0
    r, g = Result.read(tmp_path / "r"), Result.read(tmp_path / "g")
    assert (r.status, r.metrics["verdict"]) == ("ok", "pass")
    assert (r.metrics["instret"], r.metrics["pc"], r.metrics["tohost"]) == \
        (g.metrics["instret"], g.metrics["pc"], g.metrics["tohost"])
    assert r.counters == {"cycles": r.cycles, "instret": r.metrics["instret"]} and r.cycles >= r.metrics["instret"]
