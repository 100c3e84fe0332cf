"""cocotb module: run the bench cases of $CAP_BENCH (JSON) on the RTL and write the measurements to $CAP_OUT."""

import json
import os

import cocotb
import numpy as np

from sw.cap.programs import check_inputs, reference
from tb.cap.driver import CapDriver
from tb.cap.harness import ENV_BENCH, ENV_OUT, env_config


@cocotb.test()
async def bench(dut):
    cfg = env_config()
    cases = json.loads(open(os.environ[ENV_BENCH]).read())
    d = CapDriver(dut, cfg)
    await d.start()
    out = []
    for c in cases:
        inputs = {k: np.array(v, np.int64) for k, v in c["inputs"].items()}
        arrs = check_inputs(c["op"], c["bits"], c["signed"], inputs, c["window"])
        res, counters, runs = await d.run_op(cfg, c["op"], c["bits"], c["signed"], arrs, c["window"])
        ok = bool(np.array_equal(res, reference(c["op"], c["bits"], c["signed"], arrs, c["window"])))
        out.append({k: v for k, v in c.items() if k != "inputs"} | counters | {"runs": runs, "ok": ok,
                                                                               "vertical": d.vertical})
    with open(os.environ[ENV_OUT], "w") as f:
        json.dump(out, f)
