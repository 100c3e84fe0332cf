"""Run CAP chunks on the RTL from inside a cocotb test.

Per chunk: the program and buffer images are bulk-loaded into the simulated DRAM, the DMA moves them into
the CAP, the host starts the run (with the array clear), the DMA stores the output entries and the DRAM is
dumped. Python only writes a few registers per chunk; the run itself sleeps in the simulator.
"""

import numpy as np
from cocotb.triggers import FallingEdge
from cocotb.utils import get_sim_time

from hw.cap.controller import RunError
from sim.cocotb_util import Dram, RegBus, reset, start_clock, wait_until
from sw.cap.image import pack_entries, unpack_entries
from sw.cap.isa import Op
from sw.cap.regs import CTRL_CLEAR_BIT, CTRL_DMA_BIT, CTRL_RUN_BIT, REGS, STATUS_DMA_BUSY

__all__ = ["CapDriver", "RtlError", "RtlTimeout", "DEFAULT_LATENCY"]

#: DRAM read latency of the testbench's memory model when no ``--latency`` is given.
DEFAULT_LATENCY = 2
#: Cycles a DMA word may take before the transfer counts as hung, on top of one DRAM latency per burst.
DMA_CYCLES_PER_WORD = 8
DMA_SLACK = 2000
#: Words per DMA read burst (hw/cap/dma.py).
BURST_WORDS = 256


class RtlError(RuntimeError):
    """The RTL reported an error or hung; the message says what waited on what."""


class RtlTimeout(RtlError):
    """A wait reached its cycle limit (the job's cycle limit or a command's hang guard)."""


class CapDriver:
    """Host of one CAP in a cocotb test: registers by name (:data:`sw.cap.regs.REGS`), DMA, runs.

    Parameters
    ----------
    dut : cocotb handle
    cfg : CAPConfig
    cycle_limit : int, optional
        Stop (:class:`RtlTimeout`) once this many cycles have passed since :meth:`start`.
    """

    def __init__(self, dut, cfg, *, cycle_limit=None):
        self.dut = dut
        self.cfg = cfg
        self.cycle_limit = cycle_limit
        self.clk = None
        self.dram = None
        self.regs = None
        self.latency = DEFAULT_LATENCY
        self._t0 = 0

    async def start(self, latency=DEFAULT_LATENCY):
        self.clk = start_clock(self.dut, self._period_ns)
        self.dram = Dram(self.dut, 64)
        self.latency = latency
        await reset(self.dut)
        # After the reset: sim.cocotb_util.reset() reads dram_latency and writes 1 when it is still 0, which
        # overrides a latency written just before it in the same time step (the write is not applied yet).
        self.dram.set_latency(latency)
        self.regs = RegBus(self.dut)
        self._t0 = get_sim_time("ns")

    @property
    def elapsed(self) -> int:
        """Cycles since :meth:`start` (DMA transfers, runs and host register accesses)."""
        return int(get_sim_time("ns") - self._t0) // self._period_ns

    _period_ns = 10

    async def read(self, name):
        return await self.regs.read(REGS.offset(name))

    async def write(self, name, value):
        await self.regs.write(REGS.offset(name), value)

    async def counters(self) -> dict:
        """Every counter of the register table, by name (the result's ``counters``)."""
        return {k: await self.read(k) for k in REGS.counters()}

    async def _wait_idle(self, limit, what):
        await FallingEdge(self.clk)
        job_limit = None
        if self.cycle_limit is not None:
            job_limit = max(0, self.cycle_limit - self.elapsed)
        wait = limit if job_limit is None else min(limit, job_limit)
        fired = await wait_until(self.dut, [self.dut.idle], max(1, wait), self.clk) if wait else None
        if fired is None:
            which = (f"the cycle limit {self.cycle_limit:,}" if job_limit is not None and job_limit <= limit
                     else f"its cycle limit {limit:,}")
            status = await self.read("status")
            words = await self.read("dma_words")
            count = await self.read("dma_count")
            if status & STATUS_DMA_BUSY:
                raise RtlTimeout(f"{what}: {which} reached: the DMA waits on the DRAM "
                                 f"({words} of {count} words moved)")
            raise RtlTimeout(f"{what}: {which} reached with the run still busy (status {status:#x})")
        code = await self.read("error_code")
        if code & 15:
            name = RunError(code & 15).name
            raise RtlError(f"{what}: error {name} at micro-op {code >> 8}")

    async def dma(self, *, addr, count, target, store, entry=0):
        await self.write("dma_addr", addr)
        await self.write("dma_count", count)
        await self.write("dma_cfg", target | (16 if store else 0))
        await self.write("dma_entry", entry)
        await self.write("ctrl", 1 << CTRL_DMA_BIT)
        bursts = 0 if store else -(-count // BURST_WORDS)
        await self._wait_idle(count * DMA_CYCLES_PER_WORD + bursts * self.latency + DMA_SLACK,
                              f"DMA {'store' if store else 'load'} of {count} words (target {target})")

    async def run(self, prog_len, *, clear=True):
        """Start the loaded program; returns the counters of the run."""
        await self.write("prog_len", prog_len)
        await self.write("ctrl", 1 << CTRL_RUN_BIT | (1 << CTRL_CLEAR_BIT if clear else 0))
        await self._wait_idle(prog_len + 100, f"run of {prog_len} micro-ops")
        return await self.counters()

    async def execute(self, chunk, words=None):
        """Run one :class:`sw.cap.programs.Chunk`; returns ``(col_out, row_out, counters)``."""
        cfg = self.cfg
        prog = chunk.program.words() if words is None else np.asarray(words, np.uint64)
        col = pack_entries(chunk.col_in)
        row = pack_entries(chunk.row_in)
        col_at, row_at = len(prog), len(prog) + len(col)
        image = np.concatenate([prog, col, row]).astype("<u8")
        await self.dram.load(image.view(np.uint8))
        await self.dma(addr=0, count=len(prog), target=0, store=False)
        if len(col):
            await self.dma(addr=col_at, count=len(col), target=1, store=False)
        if len(row):
            await self.dma(addr=row_at, count=len(row), target=2, store=False)
        counters = await self.run(len(prog))
        c0, cn = chunk.col_out
        r0, rn = chunk.row_out
        cw, rw = cn * cfg.col_lanes, rn * cfg.row_lanes
        if cw:
            await self.dma(addr=0, count=cw, target=1, store=True, entry=c0)
        if rw:
            await self.dma(addr=cw, count=rw, target=2, store=True, entry=r0)
        out = await self.dram.dump(8 * (cw + rw)) if cw + rw else np.zeros(0, np.uint8)
        words_out = out.view("<u8")
        col_out = unpack_entries(words_out[:cw], cfg.rows) if cw else np.zeros((0, cfg.rows), bool)
        row_out = unpack_entries(words_out[cw:], cfg.cols) if rw else np.zeros((0, cfg.cols), bool)
        return col_out, row_out, counters

    async def run_op(self, cfg, op, bits, signed, arrs, window=None):
        """Run a checked operation on the RTL; returns ``(result, counters, runs)``. ``self.vertical`` counts
        its vertical micro-ops (the RTL does not count them apart)."""
        from sw.cap.programs import OpRun, op_chunks
        run = OpRun(op_chunks(cfg, op, bits, signed, arrs, window))
        self.vertical = 0
        while run.chunk is not None:
            self.vertical += sum(u.op in (Op.VCMP, Op.VWR, Op.SVCMP, Op.SVWR) for u in run.chunk.program.uops)
            run.feed(*(await self.execute(run.chunk)))
        return run.result, run.counters, run.runs
