"""cocotb module for benchmarks: run the shapes in $SYSTOLIC_LAYERS with random int8 data, record the cycles.

Each layer's output is compared with the golden model; the record says whether it matched (the benchmark
reports a mismatch instead of stopping).
"""

import json
import os

import cocotb
import numpy as np

from sim.cocotb_util import record
from sw.systolic import golden
from sw.systolic.layer import ConvLayer
from tb.systolic.cases import random_operands
from tb.systolic.driver import run_layer
from tb.systolic.harness import ENV_LAYERS, env_config, run_options


@cocotb.test()
async def run_layers(dut):
    cfg = env_config()
    options = run_options().with_defaults(seed=0)
    seed = options.seed
    for i, spec in enumerate(json.loads(os.environ[ENV_LAYERS])):
        spec = dict(spec)
        name = spec.pop("name")
        layer = ConvLayer(**spec)
        x, w = random_operands(layer, seed + i)
        res = await run_layer(dut, cfg, layer, x, w, first=(i == 0), latency=options.latency)
        exact = res.status == "ok" and bool(np.array_equal(res.ofmap, golden.conv2d(layer, x, w)))
        record(name, status=res.status, message=res.message, exact=exact, **res.counters)
