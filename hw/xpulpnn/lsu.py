"""LoadStoreUnit: address checks and byte lanes of the data port (X side), load alignment (M side).

Misaligned scalar accesses are supported in hardware: an access that crosses a word boundary is split into
two word accesses on consecutive cycles (``phase`` 0 then 1, the core holds X for one cycle); the first word
read is kept in ``m_lo`` and combined with the second in M.
"""

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
    phase : In(1)
        0: the access (or the first word of a split one), 1: the second word of a split access.
    misaligned, outside : Out(1)
        The access is not naturally aligned / touches a byte outside the RAM.
    cross : Out(1)
        The access crosses a word boundary (needs two word accesses).
    strobe : Out(4)
        Byte enables of a store in this phase.
    bus_wdata : Out(32)
        Store data shifted to its byte lanes for this phase.
    m_rdata : In(32)
        The RAM word read for the load now in M (the second word of a split load).
    m_lo : In(32)
        The first word of a split load.
    m_split : In(1)
        The load in M was split.
    m_addr_lo, m_size, m_signed : In
        The load's byte offset, size and signedness.
    m_value : Out(32)
        Loaded value, extended.
    """

    addr: In(32)
    size: In(2)
    wdata: In(32)
    phase: In(1)
    misaligned: Out(1)
    outside: Out(1)
    cross: Out(1)
    strobe: Out(4)
    bus_wdata: Out(32)
    m_rdata: In(32)
    m_lo: In(32)
    m_split: In(1)
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
        lo = a[0:2]
        nbytes = Mux(self.size == 2, 4, Mux(self.size == 1, 2, 1))
        last = Signal(32)          # address of the last byte accessed
        m.d.comb += [
            last.eq(a + nbytes - 1),
            self.misaligned.eq(Mux(self.size == 2, lo != 0, Mux(self.size == 1, a[0], 0))),
            self.cross.eq(lo + nbytes > 4),
            self.outside.eq((a[bits:32] != RAM_BASE >> bits) | (last[bits:32] != RAM_BASE >> bits)),
        ]
        # bytes and data of the access over the two words it may touch, then the half of this phase
        mask8 = Signal(8)
        data64 = Signal(64)
        m.d.comb += [
            mask8.eq(Mux(self.size == 2, 0b1111, Mux(self.size == 1, 0b11, 0b1)) << lo),
            data64.eq(self.wdata << Cat(0, 0, 0, lo)),
            self.strobe.eq(Mux(self.phase, mask8[4:8], mask8[0:4])),
            self.bus_wdata.eq(Mux(self.phase, data64[32:64], data64[0:32])),
        ]

        shifted = Signal(32)
        m.d.comb += shifted.eq(Cat(Mux(self.m_split, self.m_lo, self.m_rdata), self.m_rdata)
                               >> Cat(0, 0, 0, self.m_addr_lo))
        with m.Switch(self.m_size):
            with m.Case(0):
                m.d.comb += self.m_value.eq(Mux(self.m_signed, shifted[0:8].as_signed(), shifted[0:8]))
            with m.Case(1):
                m.d.comb += self.m_value.eq(Mux(self.m_signed, shifted[0:16].as_signed(), shifted[0:16]))
            with m.Default():
                m.d.comb += self.m_value.eq(shifted)
        return m
