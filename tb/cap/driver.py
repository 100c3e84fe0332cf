"""Run CAP chunks on the RTL from inside a cocotb test.

Per chunk: the program and buffer images are bulk-loaded into the simulated DRAM, the DMA moves them into
the CAP, the host starts the run (with the array clear), the DMA stores the output entries and the DRAM is
dumped. Python only writes a few registers per chunk; the run itself sleeps in the simulator.
"""

import numpy as np
from cocotb.triggers import FallingEdge

from hw.cap.cap import REGS
from hw.cap.controller import RunError
from sim.cocotb_util import Dram, RegBus, reset, start_clock, wait_until
from sw.cap.image import pack_entries, unpack_entries
from sw.cap.isa import Op

__all__ = ["CapDriver", "RtlError"]

#: Cycles a DMA word may take before the transfer counts as hung (DRAM latency is 2).
DMA_CYCLES_PER_WORD = 8
DMA_SLACK = 2000


class RtlError(RuntimeError):
    """The RTL reported an error or hung; the message says what waited on what."""


class CapDriver:
    def __init__(self, dut, cfg):
        self.dut = dut
        self.cfg = cfg
        self.clk = None
        self.dram = None
        self.regs = None

    async def start(self, latency=2):
        self.clk = start_clock(self.dut)
        self.dram = Dram(self.dut, 64)
        self.dram.set_latency(latency)
        await reset(self.dut)
        self.regs = RegBus(self.dut)

    async def _wait_idle(self, limit, what):
        await FallingEdge(self.clk)
        fired = await wait_until(self.dut, [self.dut.idle], limit, self.clk)
        if fired is None:
            status = await self.regs.read(REGS["status"])
            words = await self.regs.read(REGS["dma_words"])
            count = await self.regs.read(REGS["dma_count"])
            if status & 2:
                raise RtlError(f"{what}: cycle limit {limit} reached: the DMA waits on the DRAM "
                               f"({words} of {count} words moved)")
            raise RtlError(f"{what}: cycle limit {limit} reached with the run still busy (status {status:#x})")
        code = await self.regs.read(REGS["error"])
        if code & 15:
            name = RunError(code & 15).name
            raise RtlError(f"{what}: error {name} at micro-op {code >> 8}")

    async def dma(self, *, addr, count, target, store, entry=0):
        r = self.regs
        await r.write(REGS["dma_addr"], addr)
        await r.write(REGS["dma_count"], count)
        await r.write(REGS["dma_cfg"], target | (16 if store else 0))
        await r.write(REGS["dma_entry"], entry)
        await r.write(REGS["ctrl"], 4)
        await self._wait_idle(count * DMA_CYCLES_PER_WORD + DMA_SLACK,
                              f"DMA {'store' if store else 'load'} of {count} words (target {target})")

    async def run(self, prog_len, *, clear=True):
        """Start the loaded program; returns the counters of the run."""
        await self.regs.write(REGS["prog_len"], prog_len)
        await self.regs.write(REGS["ctrl"], 1 | (2 if clear else 0))
        await self._wait_idle(prog_len + 100, f"run of {prog_len} micro-ops")
        return {k: await self.regs.read(REGS[k]) for k in ("cycles", "compares", "writes", "reads")}

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
