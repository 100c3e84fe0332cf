"""cocotb module: run the job folder named by $RBE_JOB; write $RBE_OUT/y.npy and record the result.

The run options (latency, cycle limit) come from :meth:`sw.common.contract.RunOptions.from_env`. The test
passes whenever a result was produced: "timeout" and "error" are results of the job, not failures of the
testbench; :func:`tb.rbe.backend.run_rtl` turns the record into the job's ``result.json``.
"""

import os
from pathlib import Path

import cocotb
import numpy as np

from sim.cocotb_util import record
from sw.rbe.job import Y_FILE, load_job
from tb.rbe.harness import ENV_JOB, ENV_OUT, run_options
from tb.rbe.sim_job import DEFAULT_CYCLE_LIMIT, run_plan


@cocotb.test()
async def run_job(dut):
    job = load_job(os.environ[ENV_JOB])
    options = run_options()
    plan = job.plan()
    r = await run_plan(dut, job.cfg, plan.image, plan.jobs, latency=options.latency,
                       cycle_limit=options.cycle_limit or job.cycle_limit or DEFAULT_CYCLE_LIMIT)
    if r.status == "ok":
        np.save(Path(os.environ[ENV_OUT]) / Y_FILE, plan.output(job.cfg, r.image).astype(np.int32))
    record("job", status=r.status, cycles=r.cycles, bin_ops=r.bin_ops, counters=r.counters, message=r.message,
           latency=options.latency)
