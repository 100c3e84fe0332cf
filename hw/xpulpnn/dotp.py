"""DotpUnit: the single-cycle SIMD dot product of XpulpV2 (16/8-bit lanes) and XpulpNN (4/2-bit lanes)."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["DotpUnit", "LANE_BITS"]

#: Lane width of each ``width`` code (the ``dot_width`` field of the control word).
LANE_BITS = (16, 8, 4, 2)


class DotpUnit(wiring.Component):
    """``result = (acc if use_acc else 0) + sum_i a[i] * b[i]`` over the lanes of one width, wrapped to 32 bits.

    Every width has its own lane multipliers (2 + 4 + 8 + 16 of them): the unit is combinational so that a dot
    product, and the MAC of a MAC&LOAD, retire in one cycle.

    Attributes
    ----------
    a, b : In(32)
        Packed operands; lane 0 is the least significant.
    acc : In(32)
        Accumulator input (the old rd of sdot*/mlsdot*).
    width : In(2)
        0: 2 x 16 bit, 1: 4 x 8 bit, 2: 8 x 4 bit, 3: 16 x 2 bit.
    signed_a, signed_b : In(1)
        Lanes of ``a`` / ``b`` are two's complement (else unsigned).
    use_acc : In(1)
        Add ``acc``.
    result : Out(32)
    """

    a: In(32)
    b: In(32)
    acc: In(32)
    width: In(2)
    signed_a: In(1)
    signed_b: In(1)
    use_acc: In(1)
    result: Out(32)

    def elaborate(self, platform):
        m = Module()
        sums = []
        for bits in LANE_BITS:
            prods = []
            for i in range(32 // bits):
                la = self.a[i * bits:(i + 1) * bits]
                lb = self.b[i * bits:(i + 1) * bits]
                # one extra bit carries the sign (0 for unsigned lanes) so one signed multiplier does all modes
                xa = Cat(la, la[-1] & self.signed_a).as_signed()
                xb = Cat(lb, lb[-1] & self.signed_b).as_signed()
                prods.append(xa * xb)
            while len(prods) > 1:   # balanced adder tree
                prods = [prods[j] + prods[j + 1] for j in range(0, len(prods), 2)]
            s = Signal(32, name=f"sum{bits}")
            m.d.comb += s.eq(prods[0])
            sums.append(s)
        dot = Signal(32)
        with m.Switch(self.width):
            for code, s in enumerate(sums):
                with m.Case(code):
                    m.d.comb += dot.eq(s)
        m.d.comb += self.result.eq(dot + (self.acc & self.use_acc.replicate(32)))
        return m
