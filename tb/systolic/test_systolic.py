"""cocotb regression of the systolic engine: every case of :mod:`tb.systolic.cases` against numpy.

One cocotb test per case (named after it). Each asserts the exact output, the exact cycle count of the
design's schedule (``Plan.model_cycles``), the memory-traffic counters (each vector memory read once per W
cycles, every result written once, no read/write in the same cycle when W >= 2) and, where the case asks, the
cycle targets against SCALE-Sim v2 and folds x T + 2R + C - 2.
"""

import os

import cocotb
import numpy as np

from sim.cocotb_util import record
from sw.systolic import golden
from sw.systolic import schedule as S
from tb.systolic.cases import cases_for, random_operands
from tb.systolic.driver import run_layer
from tb.systolic.harness import ENV_RANDOM, env_config, run_options

CFG = env_config()
OPTIONS = run_options().with_defaults(seed=1)
SEED = OPTIONS.seed
LATENCY = OPTIONS.latency
N_RANDOM = int(os.environ.get(ENV_RANDOM, "0"))
CASES = cases_for(CFG, N_RANDOM, SEED)
_cycles_per_pixel = {}


def _make_test(index, case):
    async def body(dut):
        cfg, layer = CFG, case.layer
        seed = SEED * 1000 + index
        dut._log.info(f"{case.name}: {layer} seed {seed}")
        x, w = random_operands(layer, seed)
        res = await run_layer(dut, cfg, layer, x, w, latency=LATENCY)
        assert res.status == "ok", res.message
        if case.gemm:
            expect = golden.gemm(x.reshape(layer.height, layer.in_channels),
                                 w.reshape(layer.in_channels, layer.out_channels)).reshape(res.ofmap.shape)
        else:
            expect = golden.conv2d(layer, x, w)
        bad = [tuple(int(i) for i in b) for b in np.argwhere(res.ofmap != expect)]
        assert not bad, (f"{len(bad)} of {expect.size} outputs differ (seed {seed}); first at {bad[0]}: rtl "
                         f"{res.ofmap[bad[0]]} numpy {expect[bad[0]]}; cycles {res.cycles}, counters {res.counters}")
        plan = S.plan(cfg, layer)
        k = res.counters
        model = plan.model_cycles()
        assert res.cycles == model, f"RTL took {res.cycles} cycles, the schedule says {model}"
        reads = sum(r.folds * r.words_per_fold for r in plan.runs) * cfg.R
        assert k["mem_reads"] == reads, f"{k['mem_reads']} vector-memory reads, expected {reads}"
        writes = sum(r.out_words for r in plan.runs) * cfg.C
        assert k["mem_writes"] == writes, f"{k['mem_writes']} result words written, expected {writes}"
        assert k["min_read_gap"] >= cfg.W, f"a vector memory was read {k['min_read_gap']} cycles after the last read"
        if cfg.W > 1:
            assert k["port_conflicts"] == 0, f"{k['port_conflicts']} cycles with a read and a write"
        assert k["wgt_reads"] == sum(r.folds for r in plan.runs) * cfg.R
        ss = S.scalesim_ws_cycles(cfg, layer)
        ideal = S.ideal_ws_cycles(cfg, layer, plan.folds)
        util = layer.macs / (cfg.R * cfg.C * res.cycles)
        if case.cycle_check:
            assert res.cycles < ss, f"{res.cycles} cycles, not below SCALE-Sim WS {ss}"
            assert res.cycles <= 1.05 * ideal, f"{res.cycles} cycles, more than 5% above {ideal}"
        if case.max_folds:
            assert plan.folds <= case.max_folds, f"{plan.folds} folds, expected <= {case.max_folds}"
        cpp = res.cycles / layer.positions
        _cycles_per_pixel[case.name] = cpp
        if case.stride_pair and case.stride_pair in _cycles_per_pixel:
            ref = _cycles_per_pixel[case.stride_pair]
            assert abs(cpp / ref - 1) <= 0.05, f"{cpp:.3f} cycles/pixel vs {ref:.3f} at stride 1"
        record(case.name, cycles=res.cycles, model=model, scalesim=ss, ideal=ideal, folds=plan.folds,
               runs=len(plan.runs), tiles=plan.tiles, macs=layer.macs, utilization=round(util, 4),
               bound=round(S.physical_bound(cfg, layer), 1), cycles_per_pixel=round(cpp, 3), seed=seed,
               **{c: v for c, v in k.items() if c != "cycles"})
    body.__name__ = case.name
    body.__qualname__ = case.name
    return cocotb.test(name=case.name)(body)


for _i, _case in enumerate(CASES):
    globals()[f"test_{_case.name}"] = _make_test(_i, _case)


@cocotb.test()
async def hang_reports_cycle_limit(dut):
    """A run cut short by the cycle limit ends with status timeout and says what was still busy."""
    layer = CASES[0].layer
    x, w = random_operands(layer, SEED)
    res = await run_layer(dut, CFG, layer, x, w, cycle_limit=3, latency=LATENCY)
    assert res.status == "timeout", (res.status, res.message)
    assert "did not finish within 3 cycles" in res.message and "the array" in res.message, res.message
    record("hang", message=res.message)
