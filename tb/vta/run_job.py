"""cocotb module: run the job folder named by $VTA_JOB and write $VTA_OUT/result.json + dram.bin.

The test passes whenever a result was produced: "timeout" and "error" are results of the job, not
failures of the testbench.
"""

import os

import cocotb

from sw.common.job import load_job, write_result
from sw.vta.job import config_of
from tb.vta.harness import ENV_JOB, ENV_LATENCY, ENV_OUT
from tb.vta.sim_job import DEFAULT_LATENCY, run_on_dut
from sim.cocotb_util import record

#: A job without cycle_limit may run this long before it counts as hung.
DEFAULT_CYCLE_LIMIT = 50_000_000


@cocotb.test()
async def run_job(dut):
    job = load_job(os.environ[ENV_JOB])
    cfg = config_of(job)
    limit = job.cycle_limit or DEFAULT_CYCLE_LIMIT
    r = await run_on_dut(dut, cfg, job.dram, job.insn_addr, job.insn_count, cycle_limit=limit,
                         latency=int(os.environ.get(ENV_LATENCY, DEFAULT_LATENCY)))
    write_result(os.environ[ENV_OUT], r.status, r.cycles, r.counters, r.message, r.dram)
    record("job", status=r.status, cycles=r.cycles, message=r.message)
