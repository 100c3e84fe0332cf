"""cocotb module: run the job folder named by $SYSTOLIC_JOB and write $SYSTOLIC_OUT/result.json + the output.

The test passes whenever a result was produced: "timeout" and "error" are results of the job, not failures
of the testbench.
"""

import os

import cocotb

from sim.cocotb_util import record
from sw.systolic import schedule as S
from sw.systolic.job import load_job, write_result
from tb.systolic.driver import run_layer
from tb.systolic.harness import ENV_JOB, ENV_OUT

#: A job without cycle_limit may run this long (array cycles of one run) before it counts as hung.
DEFAULT_CYCLE_LIMIT = 50_000_000


@cocotb.test()
async def run_job(dut):
    job = load_job(os.environ[ENV_JOB])
    res = await run_layer(dut, job.cfg, job.layer, job.ifmap, job.weights,
                          cycle_limit=job.cycle_limit or DEFAULT_CYCLE_LIMIT)
    write_result(os.environ[ENV_OUT], job, status=res.status, cycles=res.cycles, counters=res.counters,
                 message=res.message, output=res.ofmap if res.status == "ok" else None, backend="rtl",
                 reference=S.reference(job.cfg, job.layer))
    record("job", status=res.status, cycles=res.cycles, message=res.message)
