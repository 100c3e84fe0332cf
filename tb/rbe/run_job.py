"""cocotb module: run the job folder named by $RBE_JOB and write $RBE_OUT/result.json and y.npy.

The test passes whenever a result was produced: "timeout" and "error" are results of the job, not failures
of the testbench.
"""

import os

import cocotb

from sim.cocotb_util import record
from sw.rbe.job import load_job, write_result
from tb.rbe.harness import DEFAULT_LATENCY, ENV_JOB, ENV_LATENCY, ENV_OUT
from tb.rbe.sim_job import DEFAULT_CYCLE_LIMIT, run_plan


@cocotb.test()
async def run_job(dut):
    job = load_job(os.environ[ENV_JOB])
    plan = job.plan()
    r = await run_plan(dut, job.cfg, plan.image, plan.jobs, latency=int(os.environ.get(ENV_LATENCY, DEFAULT_LATENCY)),
                       cycle_limit=job.cycle_limit or DEFAULT_CYCLE_LIMIT)
    y = plan.output(job.cfg, r.image) if r.status == "ok" else None
    write_result(os.environ[ENV_OUT], r.status, r.cycles, job.layer.macs, r.bin_ops, r.counters, r.message, y)
    record("job", status=r.status, cycles=r.cycles, message=r.message)
