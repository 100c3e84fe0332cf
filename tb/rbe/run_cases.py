"""cocotb module: run a list of RBE cases from the JSON file named by $RBE_CASES in one simulation.

Each entry: ``{"name", "layer": {mode, qa, qw, qao, k_in, k_out, height, width, relu}, "seed", "kind",
"latency" (optional)}``; the shift is chosen by :func:`tb.rbe.cases.make_case`. Every case is compared with the
golden model; one record per case holds its cycles, MACs, counters and whether it matched. Used by the benchmark.
"""

import json
import os

import cocotb
import numpy as np

from sim.cocotb_util import record
from sw.rbe.golden import golden
from sw.rbe.runtime import plan_layer
from tb.rbe.cases import make_case
from tb.rbe.harness import ENV_CASES, env_config, run_options
from tb.rbe.sim_job import run_plan


@cocotb.test()
async def run_cases(dut):
    cfg = env_config()
    cases = json.loads(open(os.environ[ENV_CASES]).read())
    default_latency = run_options().latency
    mismatches = []
    for entry in cases:
        case = make_case(entry["name"], **entry["layer"], seed=entry["seed"], kind=entry.get("kind", "random"))
        plan = plan_layer(cfg, case.layer, case.x, case.w, case.kappa, case.lam)
        r = await run_plan(dut, cfg, plan.image, plan.jobs, latency=entry.get("latency", default_latency))
        exact = r.status == "ok" and np.array_equal(plan.output(cfg, r.image),
                                                    golden(case.x, case.w, case.kappa, case.lam, case.layer))
        if not exact:
            mismatches.append(f"{case.name}: {r.status} {r.message}")
        record(case.name, status=r.status, exact=exact, cycles=r.cycles, macs=case.layer.macs,
               bin_ops=r.bin_ops, counters=r.counters, message=r.message)
    assert not mismatches, "; ".join(mismatches[:5])
