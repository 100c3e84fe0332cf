"""LoadStoreUnit: address checks and byte lanes of the data port (X side), load alignment (M side)."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sw.xpulpnn.config import RAM_BASE, XpulpNNConfig

__all__ = ["LoadStoreUnit"]


class LoadStoreUnit(wiring.Component):
    """Combinational helpers of the load/store path.

    Parameters
    ----------
    cfg : XpulpNNConfig
        RAM size (accesses outside ``[RAM_BASE, RAM_BASE + ram_bytes)`` are faults).

    Attributes
    ----------
    addr : In(32)
        Byte address of the X-stage access.
    size : In(2)
        0 byte, 1 half, 2 word.
    wdata : In(32)
        rs2 of a store.
    misaligned, outside : Out(1)
        The access is not naturally aligned / not in the RAM.
    strobe : Out(4)
        Byte enables of a store.
    bus_wdata : Out(32)
        Store data replicated to every lane of its size.
    m_rdata : In(32)
        The RAM word read for the load now in M.
    m_addr_lo, m_size, m_signed : In
        The load's byte offset, size and signedness.
    m_value : Out(32)
        Loaded value, extended.
    """

    addr: In(32)
    size: In(2)
    wdata: In(32)
    misaligned: Out(1)
    outside: Out(1)
    strobe: Out(4)
    bus_wdata: Out(32)
    m_rdata: In(32)
    m_addr_lo: In(2)
    m_size: In(2)
    m_signed: In(1)
    m_value: Out(32)

    def __init__(self, cfg: XpulpNNConfig):
        self.cfg = cfg
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        bits = self.cfg.ram_words_log2 + 2
        a = self.addr
        m.d.comb += [
            self.misaligned.eq(Mux(self.size == 2, a[0:2] != 0, Mux(self.size == 1, a[0], 0))),
            self.outside.eq(a[bits:32] != RAM_BASE >> bits),
        ]
        with m.Switch(self.size):
            with m.Case(0):
                m.d.comb += [self.strobe.eq(1 << a[0:2]), self.bus_wdata.eq(self.wdata[0:8].replicate(4))]
            with m.Case(1):
                m.d.comb += [self.strobe.eq(Mux(a[1], 0b1100, 0b0011)), self.bus_wdata.eq(self.wdata[0:16].replicate(2))]
            with m.Default():
                m.d.comb += [self.strobe.eq(0b1111), self.bus_wdata.eq(self.wdata)]

        shifted = Signal(32)
        m.d.comb += shifted.eq(self.m_rdata >> Cat(0, 0, 0, self.m_addr_lo))
        with m.Switch(self.m_size):
            with m.Case(0):
                m.d.comb += self.m_value.eq(Mux(self.m_signed, shifted[0:8].as_signed(), shifted[0:8]))
            with m.Case(1):
                m.d.comb += self.m_value.eq(Mux(self.m_signed, shifted[0:16].as_signed(), shifted[0:16]))
            with m.Default():
                m.d.comb += self.m_value.eq(shifted)
        return m
