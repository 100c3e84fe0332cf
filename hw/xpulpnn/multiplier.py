"""Multiplier: the single-cycle MUL/MULH/MULHSU/MULHU unit."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Multiplier"]


class Multiplier(wiring.Component):
    """32 x 32 multiplier; ``op`` is funct3[1:0] of the M extension (0 mul, 1 mulh, 2 mulhsu, 3 mulhu).

    Attributes
    ----------
    a, b : In(32)
    op : In(2)
    result : Out(32)
        Low word for MUL, high word of the 64-bit product otherwise.
    """

    a: In(32)
    b: In(32)
    op: In(2)
    result: Out(32)

    def elaborate(self, platform):
        m = Module()
        sa = (self.op == 1) | (self.op == 2)
        sb = self.op == 1
        xa = Cat(self.a, self.a[31] & sa).as_signed()
        xb = Cat(self.b, self.b[31] & sb).as_signed()
        prod = Signal(64)
        m.d.comb += prod.eq(xa * xb)
        m.d.comb += self.result.eq(Mux(self.op == 0, prod[0:32], prod[32:64]))
        return m
