"""The RBE cocotb regression: RTL against the golden model, bit-exact, with cycle bounds from the design.

Environment (set by :func:`tb.rbe.harness.run_regression`): RBE_CONFIG, RBE_RANDOM (precision triples sampled
from the 343-point grid, default 12) and the run options (:class:`sw.common.contract.RunOptions`: seed, default
1; memory latency, default 8).
"""

import os

import cocotb
import numpy as np

from sim.cocotb_util import record
from sw.rbe.golden import golden
from sw.rbe.runtime import plan_layer
from tb.rbe.cases import make_case, regression_cases
from tb.rbe.harness import ENV_RANDOM, env_config, run_options
from tb.rbe.sim_job import run_plan

CFG = env_config()
OPTIONS = run_options().with_defaults(seed=1)
SEED = OPTIONS.seed
N_GRID = int(os.environ.get(ENV_RANDOM, "12"))
LATENCY = OPTIONS.latency


async def run_case(dut, case, *, max_k_out=None):
    """Run one case; return (RtlResult, plan). Asserts bit-exactness against the golden model."""
    plan = plan_layer(CFG, case.layer, case.x, case.w, case.kappa, case.lam, max_k_out=max_k_out)
    r = await run_plan(dut, CFG, plan.image, plan.jobs, latency=LATENCY)
    assert r.status == "ok", f"{case.name} (seed {case.seed}): {r.status}: {r.message}"
    got = plan.output(CFG, r.image)
    want = golden(case.x, case.w, case.kappa, case.lam, case.layer)
    if not np.array_equal(got, want):
        bad = np.argwhere(got != want)
        i = tuple(int(v) for v in bad[0])
        raise AssertionError(f"{case.name} (seed {case.seed}): {len(bad)} of {want.size} outputs differ; "
                             f"first at (h, w, k)={i}: RTL {got[i]}, golden {want[i]}")
    return r, plan


def _cycle_bound(layer):
    """Cycles the schedule cannot beat: one per weight word and one offset cycle per input patch."""
    t = CFG.tile
    tiles = -(-layer.h_out // t) * -(-layer.w_out // t)
    passes = tiles * (layer.k_out // CFG.k_tile) * (layer.k_in // CFG.k_tile) * layer.n_qa
    words = CFG.k_tile * (layer.qw if layer.mode == "3x3" else 1)
    return passes * (words + 1)


@cocotb.test()
async def precision_grid(dut):
    """Sampled (qa, qw, qao) grid in both modes, ReLU on/off, channels 32/64/96, several image sizes."""
    cases = [c for c in regression_cases(CFG, n_grid=N_GRID, seed=SEED) if not c.name.startswith("edge_")]
    dut._log.info(f"precision_grid: seed {SEED}, {len(cases)} cases")
    for case in cases:
        r, _ = await run_case(dut, case)
        bound = _cycle_bound(case.layer)
        assert r.counters["compute_cycles"] + r.counters["offset_cycles"] == bound, \
            f"{case.name}: array issued {r.counters['compute_cycles']} + {r.counters['offset_cycles']} cycles, " \
            f"the schedule has {bound}"
        assert bound <= r.cycles, f"{case.name}: {r.cycles} cycles is below the schedule's {bound}"
        record(case.name, cycles=r.cycles, macs=case.layer.macs, bound=bound)
    record("precision_grid", cases=len(cases), seed=SEED)


@cocotb.test()
async def edge_values(dut):
    """All-zero activations, all-maximum operands, most negative weights; both modes, ReLU on and off."""
    cases = [c for c in regression_cases(CFG, n_grid=0, seed=SEED) if c.name.startswith("edge_")]
    for case in cases:
        await run_case(dut, case)
    record("edge_values", cases=len(cases))


@cocotb.test()
async def split_k_out(dut):
    """A layer split by the runtime into several jobs over groups of k_out tiles (as for K_out > MAX_K_OUT)."""
    k = CFG.k_tile
    case = make_case("split", mode="3x3", qa=5, qw=3, qao=6, k_in=k, k_out=3 * k, height=6, width=5, relu=False,
                     seed=SEED + 77)
    r, plan = await run_case(dut, case, max_k_out=k)
    assert len(plan.jobs) == 3
    record("split_k_out", jobs=len(plan.jobs), cycles=r.cycles)


@cocotb.test()
async def throughput_64x64_11x11(dut):
    """Acceptance: 3x3, 64 -> 64 channels, 11x11 input, QA = QW = QAO = 4: >= 90% of the array ideal,
    counting the whole job (loads and output streaming), and the full array's one-bit MACs in one cycle."""
    case = make_case("perf", mode="3x3", qa=4, qw=4, qao=4, k_in=64, k_out=64, height=11, width=11,
                     relu=True, seed=SEED + 5)
    r, _ = await run_case(dut, case)
    ideal = CFG.ideal_mac_per_cycle("3x3", 4, 4)
    mpc = case.layer.macs / r.cycles
    record("throughput_64x64_11x11", cycles=r.cycles, macs=case.layer.macs, mac_per_cycle=round(mpc, 1),
           ideal=ideal, utilisation=round(mpc / ideal, 4), bin_ops_peak=r.counters["bin_ops_peak"],
           bin_ops=r.bin_ops)
    assert mpc >= 0.9 * ideal, f"{mpc:.1f} MAC/cycle is below 90% of the ideal {ideal:.1f} ({r.cycles} cycles)"
    assert r.counters["bin_ops_peak"] == CFG.bin_ops_per_cycle, \
        f"peak one-bit MACs per cycle {r.counters['bin_ops_peak']}, expected {CFG.bin_ops_per_cycle}"
    assert r.bin_ops == case.layer.macs * 4 * 4, f"one-bit MACs {r.bin_ops} != MACs x QA x QW"


@cocotb.test()
async def refused_registers(dut):
    """The engine refuses a job whose registers are out of range and says why (error_code)."""
    k = CFG.k_tile
    case = make_case("bad", mode="1x1", qa=4, qw=4, qao=4, k_in=k, k_out=k, height=3, width=3, relu=True, seed=1)
    plan = plan_layer(CFG, case.layer, case.x, case.w, case.kappa, case.lam)
    for patch, words in (({"layer": plan.jobs[0]["layer"] & ~0xF0 | (9 << 4)}, "precision"),
                         ({"k_out_tiles": 0}, "k_in_tiles or k_out_tiles is 0"),
                         ({"k_out_tiles": CFG.MAX_K_OUT // k + 1}, "MAX_K_OUT"),
                         ({"w_base": plan.jobs[0]["w_base"] + 4}, "aligned")):
        r = await run_plan(dut, CFG, plan.image, [{**plan.jobs[0], **patch}], latency=LATENCY)
        assert r.status == "error" and words in r.message, f"{patch}: {r.status}: {r.message}"
    record("refused_registers", cases=4)


@cocotb.test()
async def hang_report(dut):
    """A job stopped at its cycle limit says what the array waits on."""
    k = CFG.k_tile
    case = make_case("hang", mode="3x3", qa=4, qw=4, qao=4, k_in=k, k_out=k, height=5, width=5, relu=True, seed=2)
    plan = plan_layer(CFG, case.layer, case.x, case.w, case.kappa, case.lam)
    r = await run_plan(dut, CFG, plan.image, plan.jobs, latency=LATENCY, cycle_limit=40)
    assert r.status == "timeout" and "controller in" in r.message, f"{r.status}: {r.message}"
    record("hang_report", message=r.message)
