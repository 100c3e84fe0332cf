"""Block: 4 BinConvs sharing one weight bit-plane word, one per bit of a 4-bit activation tile."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .binconv import BinConv, adder_tree

__all__ = ["Block"]


class Block(wiring.Component):
    """``sum = (sum_b popcount(w & x_b) << b) << shift`` for the activation bits b of one tile.

    Parameters
    ----------
    width : int
        BinConv width.
    n_binconvs : int
        BinConvs (activation bit-planes) per Block, 4.

    Attributes
    ----------
    w : In(width)
        The weight bit-plane word, shared by the BinConvs.
    x : In(n_binconvs * width)
        Activation bit-planes; plane b is ``x[b*width:(b+1)*width]``.
    shift : In(3)
        Weight bit of this Block's word (0..7).
    sum : Out(unsigned)
        The shifted sum.
    """

    def __init__(self, width: int, n_binconvs: int = 4):
        self.width = width
        self.n_binconvs = n_binconvs
        self.sum_max = width * ((1 << n_binconvs) - 1) << 7
        super().__init__({"w": In(width), "x": In(n_binconvs * width), "shift": In(3),
                          "sum": Out(range(self.sum_max + 1))})

    def elaborate(self, platform):
        m = Module()
        counts = []
        for b in range(self.n_binconvs):
            bc = BinConv(self.width)
            m.submodules[f"binconv{b}"] = bc
            m.d.comb += [bc.w.eq(self.w), bc.x.eq(self.x[b * self.width:(b + 1) * self.width])]
            counts.append(bc.count << b)
        local = Signal(range(self.width * ((1 << self.n_binconvs) - 1) + 1))
        m.d.comb += [local.eq(adder_tree(counts)), self.sum.eq(local << self.shift)]
        return m
