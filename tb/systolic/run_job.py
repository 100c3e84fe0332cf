"""cocotb module: run the job folder named by $SYSTOLIC_JOB; write the output array into $SYSTOLIC_OUT and
record the result (:func:`tb.systolic.backend.run_rtl` turns it into ``result.json``).

The run options (DMA read latency, cycle limit) come from :meth:`sw.common.contract.RunOptions.from_env`. The
test passes whenever a result was produced: "timeout" and "error" are results of the job, not failures of the
testbench.
"""

import os
from pathlib import Path

import cocotb
import numpy as np

from sim.cocotb_util import record
from sw.common.contract import RunOptions
from sw.systolic.job import DEFAULT_CYCLE_LIMIT, DEFAULT_LATENCY, load_job
from tb.systolic.driver import run_layer
from tb.systolic.harness import ENV_JOB, ENV_OUT


@cocotb.test()
async def run_job(dut):
    job = load_job(os.environ[ENV_JOB])
    options = RunOptions.from_env().with_defaults(latency=DEFAULT_LATENCY,
                                                  cycle_limit=job.cycle_limit or DEFAULT_CYCLE_LIMIT)
    res = await run_layer(dut, job.cfg, job.layer, job.ifmap, job.weights, cycle_limit=options.cycle_limit,
                          latency=options.latency)
    if res.status == "ok":
        np.save(Path(os.environ[ENV_OUT]) / job.output_file, job.output_array(np.asarray(res.ofmap, np.int32)))
    record("job", status=res.status, cycles=res.cycles, counters=res.counters, message=res.message,
           latency=options.latency)
