"""NormParams: loads every output channel's (kappa, lambda) at the start of a job and serves one channel per cycle.

Records are 8 bytes (lambda int32, kappa uint16, 2 pad bytes), stored a bus beat per memory row.
"""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import BURST_LEN_BITS, ReadPortSignature, log2, word_addr_bits
from sw.rbe.config import RBEConfig

__all__ = ["NormParams"]


class NormParams(wiring.Component):
    """On-chip kappa/lambda of up to MAX_K_OUT channels.

    Attributes
    ----------
    rd : Out(ReadPortSignature)
    start : In(1)                 load ``n_beats`` beats from ``base``
    base : In(word address); n_beats : In(16)
    loaded : Out(1)               the parameters of the current job are on chip
    chan : In(range(MAX_K_OUT))   channel read (its parameters appear the next cycle)
    kappa : Out(16); lam : Out(signed(32))
    """

    def __init__(self, cfg: RBEConfig):
        self.cfg = cfg
        self.per_row = cfg.port_bytes // cfg.norm_bytes
        self.depth = max(2, cfg.MAX_K_OUT // self.per_row)
        super().__init__({
            "rd": Out(ReadPortSignature(cfg.PORT_WIDTH)),
            "start": In(1), "base": In(word_addr_bits(cfg.PORT_WIDTH)), "n_beats": In(16),
            "loaded": Out(1), "chan": In(range(cfg.MAX_K_OUT)), "kappa": Out(16), "lam": Out(signed(32)),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        lpr = log2(self.per_row)
        m.submodules.mem = mem = memory.Memory(shape=cfg.PORT_WIDTH, depth=self.depth, init=[])
        wp = mem.write_port()
        rp = mem.read_port()

        sent = Signal(16)
        got = Signal(16)
        busy = Signal()
        burst_max = 1 << BURST_LEN_BITS
        left = Signal(16)
        burst = Signal(range(burst_max + 1))
        m.d.comb += [left.eq(self.n_beats - sent), burst.eq(Mux(left < burst_max, left, burst_max))]
        m.d.comb += [self.rd.rd_req.payload.addr.eq(self.base + sent), self.rd.rd_req.payload.len.eq(burst - 1),
                     self.rd.rd_req.valid.eq(busy & (sent != self.n_beats))]
        with m.If(self.rd.rd_req.valid & self.rd.rd_req.ready):
            m.d.sync += sent.eq(sent + burst)
        m.d.comb += [self.rd.rd_resp.ready.eq(1), wp.addr.eq(got), wp.data.eq(self.rd.rd_resp.payload.data),
                     wp.en.eq(self.rd.rd_resp.valid)]
        with m.If(self.rd.rd_resp.valid):
            m.d.sync += got.eq(got + 1)
        m.d.comb += self.loaded.eq(~busy)
        with m.If(busy & (got == self.n_beats)):
            m.d.sync += busy.eq(0)
        with m.If(self.start):
            m.d.sync += [busy.eq(1), sent.eq(0), got.eq(0)]

        sel = Signal(max(lpr, 1))
        m.d.comb += rp.addr.eq(self.chan >> lpr)
        if lpr:
            m.d.sync += sel.eq(self.chan[:lpr])
        rec = Signal(64)
        with m.Switch(sel):
            for i in range(self.per_row):
                with m.Case(i):
                    m.d.comb += rec.eq(rp.data[i * 64:(i + 1) * 64])
        m.d.comb += [self.lam.eq(rec[0:32]), self.kappa.eq(rec[32:48])]
        return m
