"""BinConv: one-bit products (AND) of a weight bit-plane word and an activation bit-plane word, and their popcount."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["BinConv", "adder_tree"]


def adder_tree(terms):
    """Sum of ``terms`` as a balanced tree (depth log2(n), where a running sum would be n deep)."""
    terms = list(terms)
    if not terms:
        raise ValueError("adder_tree needs at least one term")
    while len(terms) > 1:
        pairs = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            pairs.append(terms[-1])
        terms = pairs
    return terms[0]


class BinConv(wiring.Component):
    """``width`` one-bit MACs: ``count = popcount(w & x)``.

    Parameters
    ----------
    width : int
        Bits of the words (input channels of one k_in tile), e.g. 32.

    Attributes
    ----------
    w, x : In(width)
        Weight and activation bit-planes (bit t = input channel t of the tile).
    count : Out(range(width + 1))
        Number of channels where both bits are 1.
    """

    def __init__(self, width: int):
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive integer, not {width!r}")
        self.width = width
        super().__init__({"w": In(width), "x": In(width), "count": Out(range(width + 1))})

    def elaborate(self, platform):
        m = Module()
        prod = Signal(self.width)
        m.d.comb += prod.eq(self.w & self.x)
        m.d.comb += self.count.eq(adder_tree(prod[t] for t in range(self.width)))
        return m
