"""cocotb module: run the CAP job folder named by $CAP_JOB on the RTL and write $CAP_OUT (result.json, op<k>.npy).

The test passes whenever a result was produced: an "error" status is a result of the job, not a failure of
the testbench.
"""

import os

import cocotb

from sim.cocotb_util import record
from sw.cap.job import load_cap_job, op_result, write_cap_result
from tb.cap.driver import CapDriver, RtlError
from tb.cap.harness import ENV_JOB, ENV_OUT


@cocotb.test()
async def run_job(dut):
    job = load_cap_job(os.environ[ENV_JOB])
    d = CapDriver(dut, job.config)
    await d.start()
    results, outputs = [], []
    status, message = "ok", ""
    for k, o in enumerate(job.ops):
        try:
            res, counters, runs = await d.run_op(job.config, o["op"], o["bits"], o["signed"], o["arrs"], o["window"])
        except (RtlError, ValueError) as e:
            status, message = "error", f"ops[{k}]: {e}"
            break
        results.append(op_result(o, counters, runs))
        outputs.append(res)
    write_cap_result(os.environ[ENV_OUT], status, message, results, outputs)
    record("job", status=status, cycles=sum(r["cycles"] for r in results), message=message)
