"""NormQuant: per-output-channel normalisation and quantisation, ``saturate((kappa * acc + lambda) >>> shift)``."""

from amaranth.hdl import Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["NormQuant"]


class NormQuant(wiring.Component):
    """One registered stage: ``y`` follows ``value`` by one cycle.

    With ``relu`` the result is clipped to [0, 2^qao - 1], otherwise to [-2^(qao-1), 2^(qao-1) - 1]
    (the spec's rule for signed outputs, not the reference RTL's).

    Parameters
    ----------
    acc_width : int
        Width of the signed accumulator value.

    Attributes
    ----------
    value : In(signed(acc_width))
    kappa : In(16)            unsigned scale
    lam : In(signed(32))      bias
    shift : In(6)             arithmetic right shift
    qao : In(4)               output bits, 2..8
    relu : In(1)
    y : Out(signed(9))        the quantised output (its low qao bits are the stored pattern)
    """

    def __init__(self, acc_width: int):
        self.acc_width = acc_width
        super().__init__({"value": In(signed(acc_width)), "kappa": In(16), "lam": In(signed(32)),
                          "shift": In(6), "qao": In(4), "relu": In(1), "y": Out(signed(9))})

    def elaborate(self, platform):
        m = Module()
        scaled = Signal(signed(self.acc_width + 16 + 2))
        shifted = Signal.like(scaled)
        m.d.comb += [scaled.eq(self.value * self.kappa + self.lam), shifted.eq(scaled >> self.shift)]
        full = Signal(signed(10))          # 2^qao
        half = Signal(signed(10))          # 2^(qao-1)
        qao_m1 = Signal(3)
        m.d.comb += [qao_m1.eq(self.qao - 1), full.eq(Const(1, 10) << self.qao), half.eq(Const(1, 10) << qao_m1)]
        hi = Signal(signed(10))
        lo = Signal(signed(10))
        m.d.comb += [hi.eq(Mux(self.relu, full - 1, half - 1)), lo.eq(Mux(self.relu, 0, -half))]
        with m.If(shifted > hi):
            m.d.sync += self.y.eq(hi)
        with m.Elif(shifted < lo):
            m.d.sync += self.y.eq(lo)
        with m.Else():
            m.d.sync += self.y.eq(shifted)
        return m
