"""cocotb module: run the job folder named by $VTA_JOB and write $VTA_OUT/result.json + dram.bin.

Run options (DRAM latency, cycle limit) come from :meth:`sw.common.contract.RunOptions.from_env`. The test
passes whenever a result was produced: "timeout" and "error" are results of the job, not failures of the
testbench.
"""

import os

import cocotb

from sim.cocotb_util import record
from sw.common.contract import RunOptions
from sw.vta.backend import result_metrics
from sw.vta.job import DEFAULT_CYCLE_LIMIT as _DEFAULT_CYCLE_LIMIT, load_job, write_result
from tb.vta.harness import ENV_JOB, ENV_OUT
from tb.vta.sim_job import DEFAULT_LATENCY, run_on_dut

#: A job without cycle_limit may run this long before it counts as hung.
DEFAULT_CYCLE_LIMIT = _DEFAULT_CYCLE_LIMIT


@cocotb.test()
async def run_job(dut):
    options = RunOptions.from_env()
    job = load_job(os.environ[ENV_JOB])
    limit = options.cycle_limit or job.cycle_limit or DEFAULT_CYCLE_LIMIT
    latency = options.latency or DEFAULT_LATENCY
    r = await run_on_dut(dut, job.cfg, job.dram, job.insn_addr, job.insn_count, cycle_limit=limit, latency=latency)
    write_result(os.environ[ENV_OUT], r.status, r.cycles, r.counters, r.message, r.dram, backend="rtl",
                 metrics=result_metrics(job.cfg, r.counters, r.cycles))
    record("job", status=r.status, cycles=r.cycles, message=r.message, latency=latency, cycle_limit=limit)
