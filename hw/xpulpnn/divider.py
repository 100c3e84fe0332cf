"""Divider: the iterative DIV/DIVU/REM/REMU unit (restoring division on magnitudes, sign fixed at the end)."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Divider"]


class Divider(wiring.Component):
    """Iterative divider producing ``32 // cycles`` quotient bits per cycle.

    Protocol: pulse ``start`` with the operands; ``done`` rises ``cycles + 1`` cycles later and holds
    ``result`` until ``ack``. Division by zero gives the RISC-V results (quotient all ones, remainder = dividend)
    and ``-2**31 / -1`` gives ``-2**31`` remainder 0, without special cases beyond the sign fix-up.

    Parameters
    ----------
    cycles : int
        1, 2, 4, 8, 16 or 32 (``XpulpNNConfig.div_cycles``).

    Attributes
    ----------
    start : In(1)
    a, b : In(32)
        Dividend and divisor (sampled when ``start``).
    op : In(2)
        funct3[1:0]: 0 div, 1 divu, 2 rem, 3 remu.
    ack : In(1)
        The result was consumed.
    busy, done : Out(1)
    result : Out(32)
    """

    start: In(1)
    a: In(32)
    b: In(32)
    op: In(2)
    ack: In(1)
    busy: Out(1)
    done: Out(1)
    result: Out(32)

    def __init__(self, cycles):
        if cycles not in (1, 2, 4, 8, 16, 32):
            raise ValueError(f"cycles must be one of 1, 2, 4, 8, 16, 32, not {cycles!r}")
        self.cycles = cycles
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        signed = ~self.op[0]
        a_neg = self.a[31] & signed
        b_neg = self.b[31] & signed
        rem = Signal(32)
        quo = Signal(32)
        div = Signal(32)
        cnt = Signal(range(self.cycles + 1))
        q_neg = Signal()
        r_neg = Signal()
        want_rem = Signal()

        with m.If(self.start):
            m.d.sync += [
                rem.eq(0),
                quo.eq(Mux(a_neg, -self.a, self.a)),
                div.eq(Mux(b_neg, -self.b, self.b)),
                q_neg.eq((a_neg ^ b_neg) & (self.b != 0)),
                r_neg.eq(a_neg),
                want_rem.eq(self.op[1]),
                cnt.eq(self.cycles),
                self.busy.eq(1),
            ]
        with m.Elif(self.busy):
            r, q = rem, quo
            for _ in range(32 // self.cycles):
                shifted = Cat(q[31], r)                     # 33 bits
                ge = shifted >= div
                r = Mux(ge, shifted - div, shifted)[0:32]
                q = Cat(ge, q[0:31])
            m.d.sync += [rem.eq(r), quo.eq(q), cnt.eq(cnt - 1)]
            with m.If(cnt == 1):
                m.d.sync += [self.busy.eq(0), self.done.eq(1)]
        with m.If(self.ack):
            m.d.sync += self.done.eq(0)
        m.d.comb += self.result.eq(Mux(want_rem, Mux(r_neg, -rem, rem), Mux(q_neg, -quo, quo)))
        return m
