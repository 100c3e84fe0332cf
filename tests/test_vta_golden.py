"""Upstream VTA unit tests (spec section 6) through runtime -> golden model, against numpy expectations.

The program-level cases live in tb/vta/cases.py (shared with the RTL regression); the golden-specific tests
(deadlock/error reporting, speed, random programs) are here."""

import numpy as np
import pytest

from sw.vta.config import VTAConfig, MemId, AluOp, Opcode
from sw.vta.isa import Uop, MemInsn, AluInsn, FinishInsn, GemmInsn
from sw.vta.runtime import Program, Kernel
from sw.vta.golden import run
from sw.vta.randprog import random_program
from tb.vta.cases import CASES, build_case, case_names, padded_load

CFG = VTAConfig()
SMALL = VTAConfig.from_dict({"LOG_BATCH": 1, "LOG_BLOCK": 3, "LOG_UOP_BUFF_SIZE": 10, "LOG_INP_BUFF_SIZE": 10,
                             "LOG_WGT_BUFF_SIZE": 12, "LOG_ACC_BUFF_SIZE": 12, "BUS_WIDTH": 256})


CONFIGS = {
    "default": CFG,
    "small": SMALL,
    "16x8": VTAConfig.from_dict({"LOG_BLOCK_IN": 4, "LOG_BLOCK_OUT": 3, "BUS_WIDTH": 128, "LOG_ACC_BUFF_SIZE": 15,
                                 "LOG_WGT_BUFF_SIZE": 15, "LOG_INP_BUFF_SIZE": 13, "LOG_UOP_BUFF_SIZE": 12}),
}


def _registry_params():
    for cid, cfg in CONFIGS.items():
        names = case_names(cfg)
        assert set(names) == set(CASES), f"{cid}: cases skipped: {set(CASES) - set(names)}"
        for name in names:
            yield pytest.param(cfg, name, id=f"{cid}-{name}")


@pytest.mark.parametrize("cfg,name", list(_registry_params()))
def test_registry_case(cfg, name):
    """The shared VTA cases (tb/vta/cases.py, also run on the RTL) on the golden model vs numpy."""
    case = build_case(name, cfg)
    assert isinstance(case.program.insns[-1], FinishInsn)  # finished
    r = case.program.run_golden()
    assert r.status == case.expect_status == "ok", r.message
    case.check(r.dram)
    # golden-only extras
    if name == "save_load":
        n = case.n_elems
        assert r.counters["load_bytes"] == n * cfg.elem_bytes(MemId.ACC) + 4
        assert r.counters["store_bytes"] == n * cfg.elem_bytes(MemId.OUT)
    if name.startswith("gemm_") and hasattr(case, "gemm_uops"):
        assert r.counters["gemm_uops"] == case.gemm_uops
    if hasattr(case, "long_insn_uops"):
        assert case.long_insn_uops >= 4096
    else:  # the traced (per-uop) golden path gives the same DRAM as the vectorised one
        np.testing.assert_array_equal(case.program.run_golden(trace=[]).dram, r.dram)


@pytest.mark.parametrize("y_pad,x_pad", [((2, 0), (0, 0)), ((0, 2), (0, 0)), ((0, 0), (2, 0)), ((0, 0), (0, 2))])
def test_padded_load_min_one_side(y_pad, x_pad):
    """pad_min on each single side (the registry has pad_min only with all sides padded)."""
    case = padded_load(CFG, y_pad, x_pad, pad_min=True, name="padded_load_min_one_side")
    r = case.program.run_golden()
    assert r.status == "ok", r.message
    case.check(r.dram)


def test_pad_min_inp_value():
    """pad_min pads inp with -128: visible through a GEMM with a ones weight row."""
    p = Program(CFG)
    x = p.alloc(MemId.INP, np.full((1, 1, 16), 2))
    wv = np.zeros((1, 16, 16), dtype=np.int64)
    wv[0, 0, :] = 1
    w = p.alloc(MemId.WGT, wv)
    p.load(MemId.INP, 0, x, 0, 1, 1, 1, x_pad=(1, 0), pad_min=True)
    p.load(MemId.WGT, 0, w, 0, 1, 1, 1)
    p.dep_push("load", "compute")
    p.dep_pop("load", "compute")
    p.gemm_reset(Kernel([Uop()], iter_out=2, dst_factor_out=1))
    p.gemm(Kernel([Uop()], iter_out=2, dst_factor_out=1, src_factor_out=1))
    p.finish()
    trace = []
    r = p.run_golden(trace=trace)
    assert r.status == "ok", r.message
    acc_writes = [(i, idx, np.frombuffer(b, "<i4")[0]) for i, m, idx, b in trace if m == "acc"]
    assert acc_writes[-2:] == [(acc_writes[-2][0], 0, -128 * 16), (acc_writes[-1][0], 1, 2 * 16)]


def _raw(cfg, insns, extra=b""):
    code = b"".join(i.to_bytes(cfg) if hasattr(i, "to_bytes") else i for i in insns)
    dram = np.frombuffer(code + extra, dtype=np.uint8)
    return run(cfg, dram, 0, len(insns))


def test_deadlock_names_module_and_queue():
    r = _raw(CFG, [GemmInsn(pop_prev=True), FinishInsn()])
    assert r.status == "timeout"
    assert "compute waits on pop_prev (queue load->compute is empty) at instruction 0" in r.message
    r = _raw(CFG, [MemInsn(memory_type=MemId.INP, pop_next=True, push_next=True), FinishInsn(pop_prev=True)])
    assert "compute waits on pop_prev (queue load->compute is empty) at instruction 1" in r.message
    assert "load waits on pop_next (queue compute->load is empty) at instruction 0" in r.message
    assert r.executed == 0


def test_fetch_blocked_and_token_queue_full():
    cfg = VTAConfig(INSN_QUEUE_DEPTH=8, TOKEN_QUEUE_DEPTH=4)
    stores = [MemInsn(opcode=1, memory_type=MemId.OUT, pop_prev=True)] * 10
    r = _raw(cfg, stores + [FinishInsn()])
    assert r.status == "timeout"
    assert "store waits on pop_prev (queue compute->store is empty) at instruction 0" in r.message
    assert "fetch is blocked: store queue full at instruction 8" in r.message


def test_token_queue_capacity():
    cfg = VTAConfig(TOKEN_QUEUE_DEPTH=4)
    pushes = [MemInsn(memory_type=MemId.INP, push_next=True)] * 5
    r = _raw(cfg, pushes + [MemInsn(memory_type=MemId.INP, pop_next=True), FinishInsn()])
    assert r.status == "ok" and r.executed == 5  # 4 pushes fit; FINISH runs while load is blocked
    r = _raw(cfg, pushes + [MemInsn(memory_type=MemId.UOP, pop_next=True)])
    assert r.status == "timeout"
    assert "load waits on push_next (queue load->compute is full) at instruction 4" in r.message
    assert "compute waits on pop_next (queue store->compute is empty) at instruction 5" in r.message


def test_no_finish():
    r = _raw(CFG, [MemInsn(memory_type=MemId.INP), AluInsn()])
    assert r.status == "timeout" and "without FINISH" in r.message and r.executed == 2


def test_unknown_opcode_reports_index():
    bad = (6).to_bytes(16, "little")
    r = _raw(CFG, [MemInsn(memory_type=MemId.INP), AluInsn(), bad, FinishInsn()])
    assert r.status == "error" and "instruction 2" in r.message and "opcode 6" in r.message
    alu7 = (AluInsn().encode(CFG) | 7 << 108).to_bytes(16, "little")
    r = _raw(CFG, [alu7])
    assert r.status == "error" and "instruction 0" in r.message


def test_out_of_range_index_is_error():
    p = Program(CFG)
    p.gemm_reset(Kernel([Uop(dst=2000)], iter_out=60, dst_factor_out=1))
    p.finish()
    r = p.run_golden()
    assert r.status == "error"
    assert "instruction 1" in r.message and "acc index 2059" in r.message


def test_store_bad_pad_is_error():
    r = _raw(CFG, [MemInsn(opcode=1, memory_type=MemId.OUT, x_size=1, y_size=1, x_stride=1, x_pad_0=1,
                           push_prev=True), FinishInsn(pop_next=True)], extra=bytes(64))
    assert r.status == "error" and "instruction 0" in r.message and "x_pad_0" in r.message


def test_gemm_speed_100k_uops():
    import time
    p = Program(CFG)
    p.gemm(Kernel([Uop(dst=j, src=j, wgt=j) for j in range(64)], iter_out=40, iter_in=40,
                  dst_factor_in=1, src_factor_out=1))
    p.finish()
    t = time.perf_counter()
    r = p.run_golden()
    assert r.status == "ok" and r.counters["gemm_uops"] == 102400
    assert time.perf_counter() - t < 5


@pytest.mark.parametrize("cfg", [CFG, SMALL], ids=["default", "small"])
def test_randprog_runs_ok(cfg):
    for seed in range(50):
        p = random_program(cfg, np.random.default_rng(seed))
        r = p.run_golden()
        assert r.status == "ok", f"seed {seed}: {r.message}"
        assert r.counters["gemm_uops"] > 0 and r.counters["alu_uops"] > 0, f"seed {seed}"
        ops = {i.alu_opcode for i in p.insns if isinstance(i, AluInsn)}
        assert ops == set(AluOp.NAMES), f"seed {seed}"


def test_randprog_traced_equals_vectorised():
    for seed in range(10):
        p = random_program(SMALL, np.random.default_rng(seed))
        a, b = p.run_golden(), p.run_golden(trace=[])
        np.testing.assert_array_equal(a.dram, b.dram, err_msg=f"seed {seed}")


def test_randprog_coverage():
    kinds = set()
    for seed in range(50):
        for i in random_program(CFG, np.random.default_rng(seed)).insns:
            if isinstance(i, MemInsn) and i.opcode == Opcode.LOAD and i.x_size:
                kinds.add(("load", i.memory_type, i.pad_min, bool(i.y_pad_0 or i.x_pad_1)))
            if isinstance(i, AluInsn) and i.alu_opcode == AluOp.SHR and i.use_imm and i.imm < 0:
                kinds.add("shl")
            if isinstance(i, GemmInsn):
                kinds.add(("gemm", i.reset, i.iter_in > 1))
            if isinstance(i, MemInsn) and i.opcode == Opcode.STORE and i.x_stride > i.x_size:
                kinds.add("strided store")
    for m in (MemId.INP, MemId.WGT, MemId.ACC, MemId.ACC_8BIT):
        assert ("load", m, True, True) in kinds
    assert {"shl", "strided store", ("gemm", True, True), ("gemm", False, True)} <= kinds
