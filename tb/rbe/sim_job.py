"""Run RBE jobs on the RTL from inside a cocotb test: bulk-load memory, program registers, sleep until the end.

Python does no per-cycle work: the memory image moves through files, and the test sleeps in the simulator
until ``finished`` rises or the cycle limit passes. A timeout reads the ``debug`` register and says what the
array waits on. Registers are accessed by name through the one table, :data:`sw.rbe.regs.REGS`.
"""

from dataclasses import dataclass, field

import numpy as np
from cocotb.triggers import RisingEdge

from sim.cocotb_util import Dram, RegBus, reset, start_clock, wait_until
from sw.rbe.regs import COUNTERS, ERRORS, REGS, STATUS_ERROR, describe_wait

__all__ = ["RtlResult", "run_plan", "set_latency", "DEFAULT_CYCLE_LIMIT"]

DEFAULT_CYCLE_LIMIT = 20_000_000


async def set_latency(dut, dram, latency, clk):
    """Set the DRAM read latency and check, one clock edge later, that the model took it.

    The latency must be written *after* :func:`sim.cocotb_util.reset`: cocotb applies a write at the end of the
    time step, so ``reset`` reading the port back right after an earlier ``set_latency`` saw the old value (0)
    and wrote 1 over it. That is how ``--latency`` was lost for the first job of every simulation (a one-job
    ``accelgen sim rbe`` always ran at latency 1).
    """
    dram.set_latency(latency)
    await RisingEdge(clk)
    got = int(dut.dram_latency.value)
    if got != latency:
        raise RuntimeError(f"the DRAM model runs at latency {got}, not the requested {latency}")


async def _read_counter(regs, name):
    r = REGS[name]
    value = await regs.read(r.offset)
    if r.words == 2:
        value |= (await regs.read(r.offset + 4)) << 32
    return value


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
    await reset(dut)
    await set_latency(dut, dram, latency, clk)
    await dram.load(image)
    regs = RegBus(dut)
    totals = {name: 0 for name in COUNTERS if not name.startswith("bin_ops")}
    bin_ops, peak = 0, 0
    status, message = "ok", ""
    for n, job in enumerate(jobs):
        for name, value in job.items():
            await regs.write(REGS.offset(name), value)
        await regs.write(REGS.offset("control"), 1)
        await RisingEdge(clk)
        fired = await wait_until(dut, [dut.finished], cycle_limit, clk)
        values = {name: await _read_counter(regs, name) for name in COUNTERS}
        for name in totals:
            totals[name] += values[name]
        bin_ops += values["bin_ops"]
        peak = max(peak, values["bin_ops_peak"])
        if fired is None:
            status = "timeout"
            message = (f"job {n}: cycle limit {cycle_limit:,} reached: "
                       + describe_wait(await regs.read(REGS.offset("debug"))))
            break
        if await regs.read(REGS.offset("control")) & STATUS_ERROR:
            code = await regs.read(REGS.offset("error_code"))
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
