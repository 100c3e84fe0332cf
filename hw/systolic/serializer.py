"""Serializer: turns one vector-memory word into W consecutive operands of a PE row."""

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from sw.systolic.config import ELEM_BITS, IN_BITS, SystolicConfig

__all__ = ["Serializer"]


class Serializer(wiring.Component):
    """Per-row serializer: the memory is read once per W cycles, the row gets one element per cycle.

    On the cycle ``load`` is high, ``word`` (the memory read data) is captured; ``elem`` then shows lane 0
    on the next cycle, lane 1 on the one after, and so on. The int8 operand is the low byte of a 32-bit lane.

    Parameters
    ----------
    cfg : SystolicConfig

    Attributes
    ----------
    word : In
        W lanes of ELEM_BITS.
    load : In(1)
        Capture ``word`` on this edge.
    elem : Out(signed(8))
        The current operand.
    """

    def __init__(self, cfg: SystolicConfig):
        self.cfg = cfg
        super().__init__({
            "word": In(data.ArrayLayout(ELEM_BITS, cfg.W)),
            "load": In(1),
            "elem": Out(signed(IN_BITS)),
        })

    def elaborate(self, platform):
        m = Module()
        W = self.cfg.W
        # Lanes still to be shown after the current one; shifted down by one lane per cycle.
        rest = [Signal(signed(IN_BITS), name=f"rest{i}") for i in range(W - 1)]
        with m.If(self.load):
            m.d.sync += self.elem.eq(self.word[0][:IN_BITS])
            m.d.sync += [rest[i].eq(self.word[i + 1][:IN_BITS]) for i in range(W - 1)]
        if W > 1:
            with m.Else():
                m.d.sync += self.elem.eq(rest[0])
                m.d.sync += [rest[i].eq(rest[i + 1]) for i in range(W - 2)]
        return m
