"""DMA: moves bus words between the DRAM and the CAP's memories (program memory, column and row buffers).

Loads read bursts of up to 256 words; stores write one word per cycle. Buffer entries wider than the bus
are split into lanes (lane 0 holds rows/columns 0..63). Transfers happen outside a run and are not part of
the run's cycle count (BF-IMNA's MAPs play this role).
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import BURST_LEN_BITS, MemBusSignature
from sw.cap.config import BUS_WIDTH

__all__ = ["DMA", "Target"]


class Target(enum.Enum, shape=2):
    PROG = 0
    COLBUF = 1
    ROWBUF = 2


class DMA(wiring.Component):
    """One transfer at a time between the DRAM and a target memory.

    Parameters
    ----------
    cfg : sw.cap.config.CAPConfig

    Attributes
    ----------
    start : In(1)
        Begin a transfer of ``count`` words at DRAM word ``dram_addr``, starting at entry ``entry0`` of
        ``target``; ``store`` = 1 writes the DRAM (buffers only), 0 reads it.
    busy, range_error : Out(1)
        ``range_error`` is set (and nothing moves) when the transfer does not fit the target memory.
    cur_target : Out(Target)
        The target of the current/last transfer (latched at start: the memories follow it, not the input).
    entry, lane : Out
        Memory entry and bus lane of the current word.
    w_en, w_data : Out
        Write the current word into ``target`` (loads).
    r_word : In(64)
        The current word of the target (stores; the CAP top selects the lane).
    done_words : Out(32)
        Words moved by the current/last transfer (reported on a hang).
    mem : Out(MemBusSignature(64))
    """

    def __init__(self, cfg):
        self.cfg = cfg
        bus = MemBusSignature(BUS_WIDTH)
        super().__init__({
            "start": In(1), "store": In(1), "target": In(Target), "dram_addr": In(bus.addr_width),
            "count": In(32), "entry0": In(16),
            "busy": Out(1), "range_error": Out(1), "cur_target": Out(Target), "entry": Out(16), "lane": Out(3),
            "w_en": Out(1), "w_data": Out(BUS_WIDTH), "r_word": In(BUS_WIDTH), "done_words": Out(32),
            "mem": Out(bus),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        depth = {Target.PROG: cfg.prog_depth, Target.COLBUF: cfg.colbuf_depth, Target.ROWBUF: cfg.rowbuf_depth}
        lanes_log2 = {Target.PROG: 0, Target.COLBUF: cfg.col_lanes.bit_length() - 1,
                      Target.ROWBUF: cfg.row_lanes.bit_length() - 1}

        store, target = Signal(), self.cur_target
        addr = Signal.like(self.dram_addr)
        remaining = Signal(32)
        count = Signal(32)
        burst_left = Signal(BURST_LEN_BITS + 1)
        k = Signal(32)
        entry0 = Signal(16)
        with m.Switch(target):
            for t, lg in lanes_log2.items():
                with m.Case(t):
                    m.d.comb += [self.entry.eq(entry0 + (k >> lg)), self.lane.eq(k & ((1 << lg) - 1))]
        m.d.comb += [self.done_words.eq(k), self.w_data.eq(self.mem.rd_resp.payload.data)]

        # Range check of a new command: entries [entry0, entry0 + ceil(count / lanes)) within the target.
        fits = Signal()
        with m.Switch(self.target):
            for t, lg in lanes_log2.items():
                with m.Case(t):
                    need = self.entry0 + ((self.count + (1 << lg) - 1) >> lg)
                    ok = (self.count != 0) & (need <= depth[t])
                    m.d.comb += fits.eq(ok & ~self.store if t == Target.PROG else ok)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [self.range_error.eq(~fits), store.eq(self.store), target.eq(self.target),
                                 addr.eq(self.dram_addr), remaining.eq(self.count), count.eq(self.count),
                                 entry0.eq(self.entry0), k.eq(0)]
                    with m.If(fits):
                        m.next = "START"
            with m.State("START"):
                m.d.comb += self.busy.eq(1)
                with m.If(store):
                    m.next = "STORE"
                with m.Else():
                    m.next = "REQ"
            with m.State("REQ"):
                m.d.comb += self.busy.eq(1)
                n = Mux(remaining > (1 << BURST_LEN_BITS), 1 << BURST_LEN_BITS, remaining)
                m.d.comb += [self.mem.rd_req.valid.eq(1), self.mem.rd_req.payload.addr.eq(addr),
                             self.mem.rd_req.payload.len.eq(n - 1)]
                with m.If(self.mem.rd_req.ready):
                    m.d.sync += [addr.eq(addr + n), remaining.eq(remaining - n), burst_left.eq(n)]
                    m.next = "DATA"
            with m.State("DATA"):
                m.d.comb += [self.busy.eq(1), self.mem.rd_resp.ready.eq(1)]
                with m.If(self.mem.rd_resp.valid):
                    m.d.comb += self.w_en.eq(1)
                    m.d.sync += [k.eq(k + 1), burst_left.eq(burst_left - 1)]
                    with m.If(burst_left == 1):
                        m.next = "REQ"
                        with m.If(remaining == 0):
                            m.next = "IDLE"
            with m.State("STORE"):
                m.d.comb += [self.busy.eq(1), self.mem.wr.valid.eq(1),
                             self.mem.wr.payload.addr.eq(addr + k), self.mem.wr.payload.data.eq(self.r_word),
                             self.mem.wr.payload.strb.eq((1 << (BUS_WIDTH // 8)) - 1)]
                with m.If(self.mem.wr.ready):
                    m.d.sync += k.eq(k + 1)
                    with m.If(k + 1 == count):
                        m.next = "IDLE"
        return m
