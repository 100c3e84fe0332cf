"""cocotb module: run the CAP job folder named by $CAP_JOB on the RTL and write $CAP_OUT (op<k>.npy, rtl.json).

The run options (DRAM latency, cycle limit) come from :meth:`sw.common.contract.RunOptions.from_env`. The test
passes whenever a result was produced: an "error" or "timeout" status is a result of the job, not a failure of
the testbench.
"""

import json
import os
from pathlib import Path

import cocotb
import numpy as np

from sim.cocotb_util import record
from sw.cap.backend import DEFAULT_CYCLE_LIMIT
from sw.cap.job import load_job, op_result
from sw.common.contract import RunOptions
from tb.cap.driver import DEFAULT_LATENCY, CapDriver, RtlError, RtlTimeout
from tb.cap.harness import ENV_JOB, ENV_OUT


@cocotb.test()
async def run_job(dut):
    options = RunOptions.from_env()
    job = load_job(os.environ[ENV_JOB])
    out = Path(os.environ[ENV_OUT])
    latency = options.latency or DEFAULT_LATENCY
    d = CapDriver(dut, job.cfg, cycle_limit=options.cycle_limit or job.cycle_limit or DEFAULT_CYCLE_LIMIT)
    await d.start(latency)
    results = []
    status, message = "ok", ""
    for k, o in enumerate(job.ops):
        try:
            res, counters, runs = await d.run_op(job.cfg, o["op"], o["bits"], o["signed"], o["arrs"], o["window"])
        except RtlTimeout as e:
            status, message = "timeout", f"ops[{k}]: {e}"
            break
        except (RtlError, ValueError) as e:
            status, message = "error", f"ops[{k}]: {e}"
            break
        results.append(op_result(o, counters, runs))
        np.save(out / f"op{k}.npy", np.asarray(res, np.int64))
    total = d.elapsed
    (out / "rtl.json").write_text(json.dumps({"status": status, "message": message, "ops": results,
                                              "n_outputs": len(results), "total_cycles": total,
                                              "latency": latency}))
    record("job", status=status, cycles=sum(r["cycles"] for r in results), total_cycles=total, message=message)
