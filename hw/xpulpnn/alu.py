"""ALU: integer operations of RV32I (and lui/auipc/link)."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.xpulpnn.layouts import AluOp

__all__ = ["ALU"]


class ALU(wiring.Component):
    """Combinational ALU.

    Attributes
    ----------
    op : In(AluOp)
    a, b : In(32)
        rs1 and rs2/immediate.
    pc : In(32)
        For AUIPC (pc + b) and LINK (pc + 4).
    result : Out(32)
    """

    op: In(AluOp)
    a: In(32)
    b: In(32)
    pc: In(32)
    result: Out(32)

    def elaborate(self, platform):
        m = Module()
        a, b, r = self.a, self.b, self.result
        with m.Switch(self.op):
            with m.Case(AluOp.ADD):
                m.d.comb += r.eq(a + b)
            with m.Case(AluOp.SUB):
                m.d.comb += r.eq(a - b)
            with m.Case(AluOp.SLL):
                m.d.comb += r.eq(a << b[0:5])
            with m.Case(AluOp.SLT):
                m.d.comb += r.eq(a.as_signed() < b.as_signed())
            with m.Case(AluOp.SLTU):
                m.d.comb += r.eq(a < b)
            with m.Case(AluOp.XOR):
                m.d.comb += r.eq(a ^ b)
            with m.Case(AluOp.SRL):
                m.d.comb += r.eq(a >> b[0:5])
            with m.Case(AluOp.SRA):
                m.d.comb += r.eq(a.as_signed() >> b[0:5])
            with m.Case(AluOp.OR):
                m.d.comb += r.eq(a | b)
            with m.Case(AluOp.AND):
                m.d.comb += r.eq(a & b)
            with m.Case(AluOp.PASS_B):
                m.d.comb += r.eq(b)
            with m.Case(AluOp.AUIPC):
                m.d.comb += r.eq(self.pc + b)
            with m.Case(AluOp.LINK):
                m.d.comb += r.eq(self.pc + 4)
        return m
