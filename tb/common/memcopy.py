"""MemCopy: a tiny fixture engine that exercises the simulation infrastructure end to end.

It copies ``count`` bus words from word address ``src`` to word address ``dst`` through a
:class:`~hw.common.bus.MemBusSignature` master: read bursts of up to ``max_burst`` beats are issued as
long as the data FIFO has room reserved for the whole burst (credits), so several bursts are in flight
and the DRAM latency is hidden once ``fifo_depth`` words cover it; a write is issued every cycle the
FIFO has data.

Registers (``host``, word-addressed, 32 bits):

===== ====== ==================================================================
addr  access meaning
===== ====== ==================================================================
0     W      bit 0: start (ignored while busy)
0     R      bit 0: busy, bit 1: done (set when a copy finishes, cleared on start)
1     RW     src word address
2     RW     dst word address
3     RW     count (words)
4     R      cycles from start to done of the last copy
===== ====== ==================================================================
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from hw.common.bus import MemBusSignature, RegBusSignature

__all__ = ["MemCopy", "REG_CTRL", "REG_SRC", "REG_DST", "REG_COUNT", "REG_CYCLES"]

REG_CTRL, REG_SRC, REG_DST, REG_COUNT, REG_CYCLES = range(5)


class MemCopy(wiring.Component):
    """DMA-style word copy engine (test fixture).

    Parameters
    ----------
    data_width : int
        Bus width in bits (see :class:`~hw.common.bus.MemBusSignature`).
    max_burst : int
        Longest read burst, in beats (1..256).
    fifo_depth : int
        Words of read data buffered; bounds the words in flight. Must be >= ``max_burst``.

    Attributes
    ----------
    mem : Out(MemBusSignature(data_width))
        Memory master.
    host : In(RegBusSignature())
        Registers.
    busy : Out(1)
        A copy is running.
    done : Out(1)
        The last copy has finished (cleared by start).
    """

    def __init__(self, data_width=64, *, max_burst=16, fifo_depth=64):
        if not 1 <= max_burst <= 256:
            raise ValueError(f"max_burst must be from 1 to 256, not {max_burst!r}")
        if fifo_depth < max_burst:
            raise ValueError(f"fifo_depth must be >= max_burst ({max_burst}), not {fifo_depth!r}")
        self.data_width = data_width
        self.max_burst = max_burst
        self.fifo_depth = fifo_depth
        super().__init__({
            "mem": Out(MemBusSignature(data_width)),
            "host": In(RegBusSignature()),
            "busy": Out(1),
            "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=self.data_width, depth=self.fifo_depth)
        bus, host = self.mem, self.host

        src = Signal(32)
        dst = Signal(32)
        count = Signal(32)
        cycles = Signal(32)

        rd_addr = Signal(32)
        rd_left = Signal(32)
        wr_addr = Signal(32)
        wr_left = Signal(32)
        credits = Signal(range(self.fifo_depth + 1))

        # ---- registers
        start = Signal()
        m.d.comb += start.eq(host.w_stb & (host.addr == REG_CTRL) & host.w_data[0] & ~self.busy)
        with m.If(host.w_stb & ~self.busy):
            with m.Switch(host.addr):
                with m.Case(REG_SRC):
                    m.d.sync += src.eq(host.w_data)
                with m.Case(REG_DST):
                    m.d.sync += dst.eq(host.w_data)
                with m.Case(REG_COUNT):
                    m.d.sync += count.eq(host.w_data)
        with m.Switch(host.addr):
            with m.Case(REG_CTRL):
                m.d.comb += host.r_data.eq(self.busy | (self.done << 1))
            with m.Case(REG_SRC):
                m.d.comb += host.r_data.eq(src)
            with m.Case(REG_DST):
                m.d.comb += host.r_data.eq(dst)
            with m.Case(REG_COUNT):
                m.d.comb += host.r_data.eq(count)
            with m.Case(REG_CYCLES):
                m.d.comb += host.r_data.eq(cycles)

        # ---- read side: bursts of up to max_burst words, issued while credits cover them
        burst = Signal(range(self.max_burst + 1))
        m.d.comb += [
            burst.eq(Mux(rd_left >= self.max_burst, self.max_burst, rd_left)),
            bus.rd_req.valid.eq(self.busy & (rd_left != 0) & (credits >= burst)),
            bus.rd_req.payload.addr.eq(rd_addr),
            bus.rd_req.payload.len.eq(burst - 1),
            # Credits reserve FIFO space for every word requested, so responses never stall.
            bus.rd_resp.ready.eq(1),
            fifo.w_en.eq(bus.rd_resp.valid),
            fifo.w_data.eq(bus.rd_resp.payload.data),
        ]
        rd_fire = bus.rd_req.valid & bus.rd_req.ready

        # ---- write side: one word per cycle from the FIFO
        m.d.comb += [
            bus.wr.valid.eq(fifo.r_rdy),
            bus.wr.payload.addr.eq(wr_addr),
            bus.wr.payload.data.eq(fifo.r_data),
            bus.wr.payload.strb.eq(~0),
            fifo.r_en.eq(bus.wr.ready),
        ]
        wr_fire = bus.wr.valid & bus.wr.ready

        m.d.sync += credits.eq(credits - Mux(rd_fire, burst, 0) + wr_fire)
        with m.If(rd_fire):
            m.d.sync += [rd_addr.eq(rd_addr + burst), rd_left.eq(rd_left - burst)]
        with m.If(wr_fire):
            m.d.sync += [wr_addr.eq(wr_addr + 1), wr_left.eq(wr_left - 1)]

        # ---- control
        with m.If(start):
            m.d.sync += [
                self.busy.eq(count != 0),
                self.done.eq(count == 0),
                rd_addr.eq(src), rd_left.eq(count),
                wr_addr.eq(dst), wr_left.eq(count),
                credits.eq(self.fifo_depth),
                cycles.eq(0),
            ]
        with m.Elif(self.busy):
            m.d.sync += cycles.eq(cycles + 1)
            with m.If(wr_fire & (wr_left == 1)):
                m.d.sync += [self.busy.eq(0), self.done.eq(1)]
        return m
