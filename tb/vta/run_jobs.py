"""cocotb module: run many job folders one after another in one simulation (one build, one simulator start).

$VTA_JOBS names a JSON file ``{"jobs": [[job_dir, out_dir], ...], "sample": N}``. Each job is bulk-loaded,
run to FINISH and dumped; its ``result.json`` and ``dram.bin`` go to its out_dir, and a line is appended to
``$VTA_PROGRESS`` so the host can show progress while the simulator runs.

With ``sample`` > 0 a second coroutine reads the busy counters (host registers) every ``sample`` cycles and writes
``timeline.json`` (cumulative load/GEMM/ALU/store busy cycles per sample) next to each result: Python wakes
once per sample period, never per cycle.
"""

import json
import os
from pathlib import Path

import cocotb
from cocotb.triggers import RisingEdge, Timer

from sim.cocotb_util import RegBus, record
from sw.common.contract import RunOptions
from sw.vta.backend import result_metrics
from sw.vta.job import load_job, write_result
from sw.vta.regs import REGS
from tb.vta.run_job import DEFAULT_CYCLE_LIMIT
from tb.vta.sim_job import DEFAULT_LATENCY, run_on_dut

ENV_JOBS = "VTA_JOBS"
ENV_PROGRESS = "VTA_PROGRESS"
#: Counters sampled for the utilisation timeline (register names, sw.vta.regs).
TIMELINE_COUNTERS = ("cycles", "load_busy", "gemm_busy", "alu_busy", "store_busy", "compute_load_busy")


class _Sampler:
    """Reads the busy counters every ``period`` cycles while a job runs."""

    def __init__(self, dut, period):
        self.dut, self.period, self.rows = dut, period, []

    async def run(self):
        regs = RegBus(self.dut)
        while True:
            await Timer(self.period * 10, unit="ns")
            await RisingEdge(self.dut.clk)   # register reads are aligned as in run_on_dut
            self.rows.append([await regs.read(REGS.offset(name)) for name in TIMELINE_COUNTERS])


@cocotb.test()
async def run_jobs(dut):
    spec = json.loads(Path(os.environ[ENV_JOBS]).read_text())
    progress = Path(os.environ[ENV_PROGRESS]) if os.environ.get(ENV_PROGRESS) else None
    options = RunOptions.from_env()
    latency = options.latency or DEFAULT_LATENCY
    period = int(spec.get("sample", 0))
    for n, (job_dir, out_dir) in enumerate(spec["jobs"]):
        job = load_job(job_dir)
        cfg = job.cfg
        sampler = _Sampler(dut, period) if period else None
        tasks = []
        r = await run_on_dut(dut, cfg, job.dram, job.insn_addr, job.insn_count,
                             cycle_limit=options.cycle_limit or job.cycle_limit or DEFAULT_CYCLE_LIMIT,
                             latency=latency,
                             on_launch=(lambda: tasks.append(cocotb.start_soon(sampler.run()))) if sampler else None,
                             on_finish=(lambda: [t.cancel() for t in tasks]) if sampler else None)
        write_result(out_dir, r.status, r.cycles, r.counters, r.message, r.dram, backend="rtl",
                     metrics=result_metrics(cfg, r.counters, r.cycles))
        if sampler is not None:
            Path(out_dir, "timeline.json").write_text(json.dumps(
                {"period": period, "counters": list(TIMELINE_COUNTERS), "samples": sampler.rows,
                 "final": [r.cycles] + [r.counters[c] for c in TIMELINE_COUNTERS[1:]]}))
        record(f"job{n}", job=str(job_dir), status=r.status, cycles=r.cycles)
        if progress is not None:
            with open(progress, "a") as f:
                f.write(json.dumps({"n": n, "job": str(job_dir), "status": r.status, "cycles": r.cycles}) + "\n")
