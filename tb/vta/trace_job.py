"""cocotb module: run the job $VTA_JOB on the trace build and record every scratchpad write.

Writes ``$VTA_OUT/rtl_trace.jsonl`` (one ``[instruction, memory, index, hex bytes]`` per write, in the order
each scratchpad was written) plus the usual result.json/dram.bin. A monitor samples the trace ports at each
falling clock edge: this is a debugging mode with Python work every cycle, meant for small jobs.
"""

import json
import os
from pathlib import Path

import cocotb
from cocotb.triggers import FallingEdge

from sw.common.contract import RunOptions
from sw.vta.job import load_job, write_result
from tb.vta.harness import ENV_JOB, ENV_OUT
from tb.vta.run_job import DEFAULT_CYCLE_LIMIT
from tb.vta.sim_job import DEFAULT_LATENCY, run_on_dut


async def _monitor(dut, cfg, rows):
    ports = [("inp", dut.trace_inp, cfg.log_inp_depth, cfg.inp_elem_bits, dut.trace_load_index),
             ("wgt", dut.trace_wgt, cfg.log_wgt_depth, cfg.wgt_elem_bits, dut.trace_load_index),
             ("uop", dut.trace_uop, cfg.log_uop_depth, 32, dut.trace_compute_index),
             ("acc", dut.trace_acc, cfg.log_acc_depth, cfg.acc_elem_bits, dut.trace_compute_index)]
    while True:
        await FallingEdge(dut.clk)
        for name, sig, abits, dbits, index in ports:
            v = sig.value
            if not v.is_resolvable:
                continue
            v = int(v)
            if v & 1:
                addr = (v >> 1) & ((1 << abits) - 1)
                data = (v >> (1 + abits)).to_bytes(dbits // 8, "little")
                rows.append([int(index.value), name, addr, data.hex()])


@cocotb.test()
async def trace_job(dut):
    options = RunOptions.from_env()
    job = load_job(os.environ[ENV_JOB])
    cfg = job.cfg
    rows = []
    task = cocotb.start_soon(_monitor(dut, cfg, rows))
    r = await run_on_dut(dut, cfg, job.dram, job.insn_addr, job.insn_count,
                         cycle_limit=options.cycle_limit or job.cycle_limit or DEFAULT_CYCLE_LIMIT,
                         latency=options.latency or DEFAULT_LATENCY, on_finish=task.cancel)
    out = Path(os.environ[ENV_OUT])
    write_result(out, r.status, r.cycles, r.counters, r.message, r.dram, backend="rtl")
    with open(out / "rtl_trace.jsonl", "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
