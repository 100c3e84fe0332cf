"""The CAP cocotb regression: one Verilator build, every op and precision, folding, formulas, errors.

Each case runs on the RTL, on the AP emulator (golden model) and in numpy; results must agree bit for bit
and the RTL counters must equal the program's micro-op counts (one cycle per micro-op).
"""

import os

import cocotb
import numpy as np

from sim.cocotb_util import record
from sw.cap import formulas
from sw.cap.golden import run_op as golden_run
from sw.cap.isa import Op, Program, Uop, encode
from sw.cap.programs import check_inputs, reference
from tb.cap.cases import fold_cases, formula_cases, precision_cases, random_cases
from tb.cap.driver import CapDriver, RtlError
from sw.common.contract import RunOptions
from tb.cap.harness import ENV_RANDOM, env_config

CFG = env_config()


async def _driver(dut):
    d = CapDriver(dut, CFG)
    await d.start()
    return d


async def _check(d, case):
    arrs = check_inputs(case["op"], case["bits"], case["signed"], case["inputs"], case["window"])
    args = (CFG, case["op"], case["bits"], case["signed"], arrs, case["window"])
    res, counters, chunks = await d.run_op(*args)
    ref = reference(case["op"], case["bits"], case["signed"], arrs, case["window"])
    gold, gcount, _ = golden_run(CFG, case["op"], case["bits"], case["signed"], case["inputs"], case["window"])
    problems = []
    if not np.array_equal(res, ref):
        bad = np.argwhere(np.asarray(res != ref).reshape(-1))[:3].reshape(-1)
        problems.append(f"RTL != numpy at flat {bad.tolist()}: {res.reshape(-1)[bad].tolist()} vs "
                        f"{ref.reshape(-1)[bad].tolist()}")
    if not np.array_equal(gold, ref):
        problems.append("golden != numpy")
    if counters != gcount:
        problems.append(f"RTL counters {counters} != program counts {gcount}")
    return counters, chunks, problems


async def _run_cases(dut, cases, label):
    d = await _driver(dut)
    failures = []
    for case in cases:
        counters, chunks, problems = await _check(d, case)
        record(case["name"], op=case["op"], bits=case["bits"], signed=str(case["signed"]), chunks=chunks, **counters)
        if problems:
            failures.append(f"{case['name']}: " + "; ".join(problems))
    record(label, cases=len(cases), failures=len(failures))
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures[:10])


@cocotb.test()
async def every_op_every_precision(dut):
    """Every op at M = 1..8 and 16, unsigned/signed/mixed, random and edge values, on one build."""
    await _run_cases(dut, precision_cases(), "every_op_every_precision")


@cocotb.test()
async def folding(dut):
    """Data larger than the array, folded over several runs by the runtime."""
    await _run_cases(dut, fold_cases(CFG), "folding")


@cocotb.test()
async def random_ops(dut):
    n = int(os.environ.get(ENV_RANDOM, "20"))
    seed = RunOptions.from_env().seed
    seed = 12345 if seed is None else seed
    dut._log.info(f"random_ops: {n} cases, seed {seed}")
    await _run_cases(dut, random_cases(n, seed), "random_ops")
    record("random_ops", seed=seed)


@cocotb.test()
async def cycles_vs_formulas(dut):
    """Single-run cases: add, multiply and ReLU equal the spec's formulas; the others are recorded."""
    d = await _driver(dut)
    bad = []
    rows = []
    for case in formula_cases(CFG):
        counters, chunks, problems = await _check(d, case)
        f = formulas.formula(case["op"], case["bits"], **case["f"])
        rows.append((case["name"], counters["cycles"], f))
        record(case["name"], op=case["op"], bits=case["bits"], chunks=chunks, formula=f, **counters)
        if problems or chunks != 1:
            bad.append(f"{case['name']}: {problems} chunks={chunks}")
        if case["op"] in ("add", "mul", "relu") and counters["cycles"] != f:
            bad.append(f"{case['name']}: {counters['cycles']} cycles, formula {f}")
    assert not bad, "\n".join(bad)


@cocotb.test()
async def errors_are_reported(dut):
    """A bad opcode, a column outside the array, a too-long program and a DMA beyond a buffer stop with a code;
    a hung DMA is reported at its cycle limit."""
    d = await _driver(dut)
    p = Program(CFG)
    p.setcol(0, 1)
    p.rdcol(0, 0)
    good = list(p.words())

    class _Chunk:
        program = p
        col_in = np.zeros((0, CFG.rows), bool)
        row_in = np.zeros((0, CFG.cols), bool)
        col_out = (0, 1)
        row_out = (0, 0)

    col, _, counters = await d.execute(_Chunk)
    assert col[0].all() and counters["cycles"] == 2, (col, counters)
    msgs = []
    for words, expect in ((good + [14], "OPCODE at micro-op 2"),
                          (good + [encode(Uop(Op.CMP, ((CFG.cols, 1),)))] if CFG.cols < 256 else None,
                           "INDEX at micro-op 2")):
        if words is None:
            continue
        try:
            await d.execute(_Chunk, words=words)
            msgs.append(f"no error for {expect}")
        except RtlError as e:
            if expect not in str(e):
                msgs.append(f"expected {expect}, got {e}")
    try:
        await d.run(CFG.prog_depth + 1)
        msgs.append("no error for a program longer than the program memory")
    except RtlError as e:
        if "PROG_LEN" not in str(e):
            msgs.append(f"expected PROG_LEN, got {e}")
    try:
        await d.dma(addr=0, count=(CFG.colbuf_depth + 1) * CFG.col_lanes, target=1, store=False)
        msgs.append("no error for a DMA beyond the column buffer")
    except RtlError as e:
        if "DMA_RANGE" not in str(e):
            msgs.append(f"expected DMA_RANGE, got {e}")
    # The CAP still works after the errors.
    col, _, counters = await d.execute(_Chunk)
    assert col[0].all() and counters["cycles"] == 2
    # A DRAM slower than the cycle limit: the report says the DMA waits on the DRAM.
    d.dram.set_latency(60000)
    try:
        await d.dma(addr=0, count=4, target=1, store=False)
        msgs.append("no timeout with a 60000-cycle DRAM latency")
    except RtlError as e:
        if "the DMA waits on the DRAM (0 of 4 words moved)" not in str(e):
            msgs.append(f"expected a DMA wait report, got {e}")
    assert not msgs, "\n".join(msgs)
