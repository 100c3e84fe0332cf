"""VTA regression on the RTL: every case RTL vs golden model (byte-exact DRAM) and vs numpy.

Configuration and options come from the environment (set by tb.vta.harness.run_regression):
$VTA_CONFIG (JSON), $VTA_RANDOM (number of random programs) and the run options
(:meth:`sw.common.contract.RunOptions.from_env`: DRAM latency, first random seed).
"""

import os

import cocotb
import numpy as np

from sim.cocotb_util import record
from sw.common.contract import RunOptions
from sw.vta import golden
from sw.vta.config import AluOp, MemId, Opcode
from sw.vta.isa import AluInsn, FinishInsn, GemmInsn, MemInsn, Uop, encode_program
from sw.vta.randprog import random_program
from tb.vta.cases import build_case, case_names
from tb.vta.harness import ENV_RANDOM, env_config
from tb.vta.sim_job import DEFAULT_LATENCY, run_on_dut

CFG = env_config()
OPTIONS = RunOptions.from_env()
LATENCY = OPTIONS.latency or DEFAULT_LATENCY
N_RANDOM = int(os.environ.get(ENV_RANDOM, "200"))
SEED = 1 if OPTIONS.seed is None else OPTIONS.seed
#: Cycles a GEMM/ALU instruction may take beyond one per uop iteration (pipeline fill and drain).
PIPELINE_SLACK = 8


def _opcodes(words):
    return [w & 7 for w in words]


async def differential(dut, image, insn_addr, insn_count, *, cycle_limit, what):
    """Run on golden and RTL; assert equal status and byte-exact DRAM. Returns (rtl, golden)."""
    g = golden.run(CFG, image, insn_addr, insn_count)
    r = await run_on_dut(dut, CFG, image, insn_addr, insn_count, cycle_limit=cycle_limit, latency=LATENCY)
    assert r.status == g.status, f"{what}: RTL {r.status} ({r.message}) but golden {g.status} ({g.message})"
    diff = np.flatnonzero(r.dram != g.dram)
    assert diff.size == 0, (f"{what}: RTL and golden DRAM differ in {diff.size} bytes, first at byte "
                            f"{diff[0]} (RTL {r.dram[diff[0]]:#x}, golden {g.dram[diff[0]]:#x})")
    return r, g


def check_initiation_interval(r, words, what):
    """GEMM and ALU run one uop iteration per cycle: busy cycles <= iterations + slack per instruction."""
    ops = _opcodes(words)
    n_gemm, n_alu = ops.count(Opcode.GEMM), ops.count(Opcode.ALU)
    c = r.counters
    assert c["gemm_busy"] <= c["gemm_uops"] + PIPELINE_SLACK * n_gemm, \
        f"{what}: GEMM busy {c['gemm_busy']} cycles for {c['gemm_uops']} uops in {n_gemm} instructions"
    assert c["alu_busy"] <= c["alu_uops"] + PIPELINE_SLACK * n_alu, \
        f"{what}: ALU busy {c['alu_busy']} cycles for {c['alu_uops']} uops in {n_alu} instructions"


def _words(image, insn_addr, count):
    raw = image[insn_addr:insn_addr + 16 * count].tobytes()
    return [int.from_bytes(raw[i:i + 16], "little") for i in range(0, len(raw), 16)]


def _make_case_test(name):
    async def case_test(dut):
        case = build_case(name, CFG)
        image, insn_addr, count = case.program.build()
        r, _ = await differential(dut, image, insn_addr, count, cycle_limit=case.cycle_limit, what=name)
        assert r.status == case.expect_status, f"{name}: {r.status}: {r.message}"
        case.check(r.dram)
        check_initiation_interval(r, _words(image, insn_addr, count), name)
        n = getattr(case, "long_insn_uops", None)
        if n is not None:
            # The other instructions of the case are busy at least one cycle per iteration, so this
            # bounds the long instruction's own issue-to-completion time from above.
            unit = "gemm" if name.startswith("gemm") else "alu"
            busy = r.counters[f"{unit}_busy"] - (r.counters[f"{unit}_uops"] - n)
            assert busy <= n + 64, f"{name}: {busy} busy cycles for a {n}-iteration instruction"
        record(name, **{**r.counters, "cycles": r.cycles})
    case_test.__name__ = case_test.__qualname__ = f"case_{name}"
    return cocotb.test(name=name)(case_test)


for _name in case_names(CFG):
    globals()[f"test_{_name}"] = _make_case_test(_name)


@cocotb.test()
async def random_programs(dut):
    """N_RANDOM random race-free programs with dependency tokens, RTL vs golden."""
    total = 0
    for seed in range(SEED, SEED + N_RANDOM):
        p = random_program(CFG, np.random.default_rng(seed))
        image, insn_addr, count = p.build()
        try:
            r, _ = await differential(dut, image, insn_addr, count, cycle_limit=500_000, what=f"seed {seed}")
            assert r.status == "ok", f"seed {seed}: {r.status}: {r.message}"
            check_initiation_interval(r, _words(image, insn_addr, count), f"seed {seed}")
        except AssertionError as e:
            raise AssertionError(f"random program seed {seed} (config {CFG.name}): {e}") from None
        total += r.cycles
    record("random_programs", cycles=total, programs=N_RANDOM, first_seed=SEED)


def _raw_job(insns, extra=()):
    words = encode_program(CFG, insns) + b"".join(w.to_bytes(16, "little") for w in extra)
    image = np.zeros(4096, np.uint8)
    image[:len(words)] = np.frombuffer(words, np.uint8)
    return image, 0


@cocotb.test()
async def deadlock_reports_queue(dut):
    """A pop that is never pushed: status timeout naming the waiting module and queue."""
    image, addr = _raw_job([GemmInsn(pop_prev=True, reset=True, uop_bgn=0, uop_end=1), FinishInsn()])
    r, g = await differential(dut, image, addr, 2, cycle_limit=2_000, what="deadlock")
    assert r.status == "timeout", r.message
    assert "compute waits on pop_prev (queue load->compute is empty) at instruction 0" in r.message, r.message
    record("deadlock", cycles=r.cycles, message=r.message)


@cocotb.test()
async def unknown_opcode_reports_index(dut):
    image, addr = _raw_job([MemInsn(opcode=Opcode.LOAD, memory_type=MemId.UOP, x_size=0),
                            MemInsn(opcode=Opcode.LOAD, memory_type=MemId.UOP, x_size=0)],
                           extra=[0x7, FinishInsn().encode(CFG)])
    r, g = await differential(dut, image, addr, 4, cycle_limit=2_000, what="unknown opcode")
    assert r.status == "error" and "instruction 2" in r.message, r.message
    assert "instruction 2" in g.message, g.message
    record("unknown_opcode", cycles=r.cycles, message=r.message)


@cocotb.test()
async def index_out_of_range_is_error(dut):
    """An ALU loop that walks past the accumulator: error, not a silent wrap."""
    image, addr = _raw_job([
        MemInsn(opcode=Opcode.LOAD, memory_type=MemId.UOP, sram_base=0, dram_base=512, y_size=1, x_size=1,
                x_stride=1),
        AluInsn(uop_bgn=0, uop_end=1, iter_out=CFG.acc_depth + 1, iter_in=1, dst_factor_out=1,
                alu_opcode=AluOp.ADD, use_imm=True, imm=1),
        FinishInsn()])
    image[2048:2052] = np.frombuffer(Uop(0, 0, 0).encode(CFG).to_bytes(4, "little"), np.uint8)
    r, g = await differential(dut, image, addr, 3, cycle_limit=CFG.acc_depth * 4 + 2_000, what="index range")
    assert r.status == "error" and "instruction 1" in r.message, r.message


@cocotb.test()
async def store_with_pad_is_error(dut):
    image, addr = _raw_job([MemInsn(opcode=Opcode.STORE, memory_type=MemId.OUT, y_size=1, x_size=1, x_stride=1,
                                    x_pad_0=1), FinishInsn()])
    r, g = await differential(dut, image, addr, 2, cycle_limit=2_000, what="store pad")
    assert r.status == "error" and "instruction 0" in r.message and "pad" in r.message, r.message
