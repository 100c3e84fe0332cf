"""Run RBE jobs on the RTL from inside a cocotb test: bulk-load memory, program registers, sleep until the end.

Python does no per-cycle work: the memory image moves through files, and the test sleeps in the simulator
until ``finished`` rises or the cycle limit passes. A timeout reads the ``debug`` register and says what the
array waits on.
"""

from dataclasses import dataclass, field

import numpy as np
from cocotb.triggers import RisingEdge

from sim.cocotb_util import Dram, RegBus, reset, start_clock, wait_until
from sw.rbe.regs import COUNTERS, ERRORS, REGS, STATUS_ERROR, describe_wait

__all__ = ["RtlResult", "run_plan", "DEFAULT_CYCLE_LIMIT"]

DEFAULT_CYCLE_LIMIT = 20_000_000


@dataclass
class RtlResult:
    status: str
    cycles: int
    bin_ops: int
    counters: dict
    message: str
    image: np.ndarray = field(repr=False)


async def run_plan(dut, cfg, image, jobs, *, latency, cycle_limit=DEFAULT_CYCLE_LIMIT):
    """Run the register programs ``jobs`` one after the other on ``SimTop(RBE(cfg))``.

    Parameters
    ----------
    image : np.ndarray of uint8
        Memory image (loaded from address 0); the same number of bytes is read back.
    jobs : list of dict
        Register values of each job (see :func:`sw.rbe.regs.job_registers`).
    latency : int
        Memory read latency in cycles.
    cycle_limit : int
        Cycles per job before it counts as hung.
    """
    clk = start_clock(dut)
    dram = Dram(dut, cfg.PORT_WIDTH)
    dram.set_latency(latency)
    await reset(dut)
    await dram.load(image)
    regs = RegBus(dut)
    totals = {name: 0 for name in COUNTERS if not name.startswith("bin_ops")}
    bin_ops, peak = 0, 0
    status, message = "ok", ""
    for n, job in enumerate(jobs):
        for name, value in job.items():
            await regs.write(REGS[name], value)
        await regs.write(REGS["control"], 1)
        await RisingEdge(clk)
        fired = await wait_until(dut, [dut.finished], cycle_limit, clk)
        values = {name: await regs.read(REGS[name]) for name in COUNTERS}
        for name in totals:
            totals[name] += values[name]
        bin_ops += values["bin_ops_lo"] | values["bin_ops_hi"] << 32
        peak = max(peak, values["bin_ops_peak"])
        if fired is None:
            status = "timeout"
            message = f"job {n}: cycle limit {cycle_limit} reached: " + describe_wait(await regs.read(REGS["debug"]))
            break
        if await regs.read(REGS["control"]) & STATUS_ERROR:
            code = await regs.read(REGS["error_code"])
            status, message = "error", f"job {n} refused: {ERRORS.get(code, f'error code {code}')}"
            break
    if int(dut.dram_oob.value):
        status = "error"
        message = (message + "; " if message else "") + "the engine accessed memory beyond the simulated DRAM"
    totals["bin_ops"] = bin_ops
    totals["bin_ops_peak"] = peak
    totals["dram_read_beats"] = int(dut.dram_rd_beats.value)
    totals["dram_write_beats"] = int(dut.dram_wr_beats.value)
    out = await dram.dump(len(image))
    return RtlResult(status, totals["cycles"], bin_ops, totals, message, out)
