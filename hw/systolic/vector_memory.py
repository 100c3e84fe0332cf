"""VectorMemory: one single-port SRAM of W-element words per PE row (input) and per column (output)."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from sw.systolic.config import ELEM_BITS, SystolicConfig

__all__ = ["VectorMemory"]


class VectorMemory(wiring.Component):
    """A vector memory and the arbitration of its port.

    The serializer reads at most once every W cycles and the de-serializer writes at most once every W
    cycles, so for W >= 2 a write waits at most one cycle (in a one-word buffer) for a cycle without a
    read: the memory is used as a single-port SRAM, and ``conflict`` (a read and a write in the same cycle)
    never rises. W = 1 leaves no free cycle: that configuration needs a second port, and ``conflict``
    counts the cycles that use it. The DMA uses the port only while the array is idle.

    Attributes
    ----------
    rd, rd_addr : In
        Serializer read (data on ``rdata`` the next cycle).
    wr_valid, wr_addr, wr_data : In
        De-serializer write.
    dma_addr, dma_we, dma_wdata : In
        DMA access (reads use ``dma_addr`` whenever ``rd`` is low).
    rdata : Out
        Read data.
    wrote, conflict, overflow, pending : Out
        A de-serializer word was written this cycle; a read and a write shared the cycle; a de-serializer
        word arrived while the buffer was still full (a design error, reported by the engine); a word waits.
    """

    def __init__(self, cfg: SystolicConfig):
        self.cfg = cfg
        word = data.ArrayLayout(ELEM_BITS, cfg.W)
        ab = cfg.mem_addr_bits
        super().__init__({
            "rd": In(1), "rd_addr": In(ab),
            "wr_valid": In(1), "wr_addr": In(ab), "wr_data": In(word),
            "dma_addr": In(ab), "dma_we": In(1), "dma_wdata": In(word),
            "rdata": Out(word),
            "wrote": Out(1), "conflict": Out(1), "overflow": Out(1), "pending": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        m.submodules.mem = mem = Memory(shape=cfg.word_bits, depth=cfg.MEM_DEPTH, init=[])
        rp = mem.read_port()
        wp = mem.write_port()
        m.d.comb += [rp.addr.eq(Mux(self.rd, self.rd_addr, self.dma_addr)), rp.en.eq(1),
                     self.rdata.eq(rp.data)]

        buf_valid = Signal()
        buf_addr = Signal.like(self.wr_addr)
        buf_data = Signal.like(self.wr_data)
        free = Signal()
        m.d.comb += free.eq(~self.rd if cfg.W > 1 else 1)
        take_buf = buf_valid & free
        take_new = ~buf_valid & self.wr_valid & free
        m.d.comb += self.pending.eq(buf_valid)
        with m.If(self.dma_we):
            m.d.comb += [wp.en.eq(1), wp.addr.eq(self.dma_addr), wp.data.eq(self.dma_wdata)]
        with m.Elif(take_buf):
            m.d.comb += [wp.en.eq(1), wp.addr.eq(buf_addr), wp.data.eq(buf_data)]
        with m.Elif(take_new):
            m.d.comb += [wp.en.eq(1), wp.addr.eq(self.wr_addr), wp.data.eq(self.wr_data)]
        m.d.comb += [self.wrote.eq(~self.dma_we & (take_buf | take_new)),
                     self.conflict.eq(self.rd & ~self.dma_we & (take_buf | take_new))]

        with m.If(self.wr_valid & ~take_new):
            with m.If(buf_valid & ~take_buf):
                m.d.comb += self.overflow.eq(1)
            m.d.sync += [buf_valid.eq(1), buf_addr.eq(self.wr_addr), buf_data.eq(self.wr_data)]
        with m.Elif(take_buf):
            m.d.sync += buf_valid.eq(0)
        return m
