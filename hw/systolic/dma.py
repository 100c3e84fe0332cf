"""DMA: copies between DRAM and the vector memories / weight banks while the array is idle."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import BURST_LEN_BITS, MemBusSignature
from sw.systolic.config import SystolicConfig

__all__ = ["DMA", "dma_command_layout"]


def dma_command_layout(cfg: SystolicConfig):
    """``n_mems`` consecutive memories x ``words`` words each, memory ``m`` word ``mem_addr + i`` <-> DRAM
    word ``dram_addr + m * words + i``; ``weights`` selects the weight banks; ``store`` copies to DRAM."""
    return data.StructLayout({"dram_addr": 32, "words": cfg.count_bits, "n_mems": 8, "mem_addr": cfg.count_bits,
                              "weights": 1, "store": 1})


class DMA(wiring.Component):
    """Linear DRAM <-> memory copier (one bus word per memory word; the low bits carry the data).

    Loads stream read bursts of up to 256 words with several bursts in flight; stores read a memory word and
    write it to DRAM (two cycles per word: stores move only the results).

    Attributes
    ----------
    start : In(1)
    cmd : In(dma_command_layout)
    bus : Out(MemBusSignature)
    sel, addr, we, wdata : Out
        The memory (index ``sel``, weight bank if ``cmd.weights``) and word the copier accesses.
    rdata : In
        Read data of memory ``sel`` (stores).
    busy, done : Out(1)
    """

    def __init__(self, cfg: SystolicConfig):
        self.cfg = cfg
        bw = cfg.bus_width
        super().__init__({
            "start": In(1),
            "cmd": In(dma_command_layout(cfg)),
            "bus": Out(MemBusSignature(bw)),
            "sel": Out(8), "addr": Out(cfg.count_bits), "we": Out(1), "wdata": Out(bw),
            "rdata": In(bw),
            "busy": Out(1), "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cmd = self.cmd
        bus = self.bus
        max_burst = 1 << BURST_LEN_BITS
        total = Signal(40)
        req_left = Signal(40)
        req_addr = Signal(32)
        got = Signal(40)
        i = Signal(self.cfg.count_bits)
        sel = Signal(8)
        out_addr = Signal(32)
        m.d.comb += [self.sel.eq(sel), self.addr.eq(cmd.mem_addr + i)]

        def advance():
            with m.If(i == cmd.words - 1):
                m.d.sync += [i.eq(0), sel.eq(sel + 1)]
            with m.Else():
                m.d.sync += i.eq(i + 1)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [total.eq(cmd.words * cmd.n_mems), req_left.eq(cmd.words * cmd.n_mems),
                                 req_addr.eq(cmd.dram_addr), out_addr.eq(cmd.dram_addr), got.eq(0),
                                 i.eq(0), sel.eq(0)]
                    m.next = "DISPATCH"
            with m.State("DISPATCH"):
                m.d.comb += self.busy.eq(1)
                with m.If(total == 0):
                    m.d.comb += self.done.eq(1)
                    m.next = "IDLE"
                with m.Elif(cmd.store):
                    m.next = "STORE_RD"
                with m.Else():
                    m.next = "LOAD"
            with m.State("LOAD"):
                m.d.comb += self.busy.eq(1)
                n = Mux(req_left > max_burst, max_burst, req_left)
                m.d.comb += [bus.rd_req.valid.eq(req_left != 0), bus.rd_req.payload.addr.eq(req_addr),
                             bus.rd_req.payload.len.eq(n - 1)]
                with m.If(bus.rd_req.valid & bus.rd_req.ready):
                    m.d.sync += [req_addr.eq(req_addr + n), req_left.eq(req_left - n)]
                m.d.comb += [bus.rd_resp.ready.eq(1), self.wdata.eq(bus.rd_resp.payload.data),
                             self.we.eq(bus.rd_resp.valid)]
                with m.If(bus.rd_resp.valid):
                    m.d.sync += got.eq(got + 1)
                    advance()
                    with m.If(got == total - 1):
                        m.d.comb += self.done.eq(1)
                        m.next = "IDLE"
            with m.State("STORE_RD"):
                m.d.comb += self.busy.eq(1)
                m.next = "STORE_WR"
            with m.State("STORE_WR"):
                m.d.comb += self.busy.eq(1)
                m.d.comb += [bus.wr.valid.eq(1), bus.wr.payload.addr.eq(out_addr),
                             bus.wr.payload.data.eq(self.rdata), bus.wr.payload.strb.eq(-1)]
                with m.If(bus.wr.ready):
                    m.d.sync += [out_addr.eq(out_addr + 1), got.eq(got + 1)]
                    advance()
                    with m.If(got == total - 1):
                        m.d.comb += self.done.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "STORE_RD"
        return m
