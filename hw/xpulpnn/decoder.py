"""Decoder: one instruction word -> the control word of :class:`hw.xpulpnn.layouts.Ctrl`."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.xpulpnn.layouts import AluOp, Ctrl, DotMode, InsnLayout, SysOp, Unit
from sw.xpulpnn.config import XpulpNNConfig
from sw.xpulpnn.isa import DOT_FUNCT5, MLS_FUNCT7, OP

__all__ = ["Decoder"]

_ALU_R = {(0, 0x00): AluOp.ADD, (0, 0x20): AluOp.SUB, (1, 0x00): AluOp.SLL, (2, 0x00): AluOp.SLT,
          (3, 0x00): AluOp.SLTU, (4, 0x00): AluOp.XOR, (5, 0x00): AluOp.SRL, (5, 0x20): AluOp.SRA,
          (6, 0x00): AluOp.OR, (7, 0x00): AluOp.AND}
_ALU_I = {0: AluOp.ADD, 2: AluOp.SLT, 3: AluOp.SLTU, 4: AluOp.XOR, 6: AluOp.OR, 7: AluOp.AND}
# funct7 of the MAC&LOAD kinds -> (A signed, W signed)
_MLS_SIGNS = {MLS_FUNCT7["up"]: (0, 0), MLS_FUNCT7["usp"]: (1, 0), MLS_FUNCT7["sup"]: (0, 1),
              MLS_FUNCT7["sp"]: (1, 1)}
_LOAD_RR_F7 = {0b0000000: (0, 1), 0b0001000: (1, 1), 0b0010000: (2, 0), 0b0100000: (0, 0), 0b0101000: (1, 0)}


class Decoder(wiring.Component):
    """Combinational decoder of RV32IM + Zicsr subset + XpulpV2 subset + XpulpNN.

    Parameters
    ----------
    cfg : XpulpNNConfig
        Disabled extensions decode as illegal.

    Attributes
    ----------
    insn : In(32)
        Instruction word.
    ctrl : Out(Ctrl)
        Control word; ``ctrl.legal`` is 0 for any encoding the core does not implement.
    """

    insn: In(32)
    ctrl: Out(Ctrl)

    def __init__(self, cfg: XpulpNNConfig):
        if not isinstance(cfg, XpulpNNConfig):
            raise TypeError(f"cfg must be an XpulpNNConfig, not {cfg!r}")
        self.cfg = cfg
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        w = self.insn
        f = InsnLayout(w)
        c = self.ctrl
        imm_i = w[20:32].as_signed()
        imm_s = Cat(w[7:12], w[25:32]).as_signed()
        imm_b = Cat(Const(0, 1), w[8:12], w[25:31], w[7], w[31]).as_signed()
        imm_u = Cat(Const(0, 12), w[12:32])
        imm_j = Cat(Const(0, 1), w[21:31], w[20], w[12:20], w[31]).as_signed()
        f3, f7 = f.funct3, f.funct7

        def legal(unit, **kw):
            m.d.comb += [c.legal.eq(1), Value.cast(c.unit).eq(unit)]
            for k, v in kw.items():
                # enum fields take Mux()es of members too, so assign through the raw value
                m.d.comb += Value.cast(getattr(c, k)).eq(v)

        with m.Switch(f.opcode):
            with m.Case(OP.LUI):
                legal(Unit.ALU, alu_op=AluOp.PASS_B, b_imm=1, rd_we=1, imm=imm_u)
            with m.Case(OP.AUIPC):
                legal(Unit.ALU, alu_op=AluOp.AUIPC, b_imm=1, rd_we=1, imm=imm_u)
            with m.Case(OP.JAL):
                legal(Unit.JAL, alu_op=AluOp.LINK, rd_we=1, imm=imm_j)
            with m.Case(OP.JALR):
                with m.If(f3 == 0):
                    legal(Unit.JALR, alu_op=AluOp.LINK, rd_we=1, imm=imm_i)
            with m.Case(OP.BRANCH):
                with m.If((f3 != 2) & (f3 != 3)):
                    legal(Unit.BRANCH, imm=imm_b)
            with m.Case(OP.LOAD):
                with m.If((f3 != 3) & (f3 != 6) & (f3 != 7)):
                    legal(Unit.LOAD, rd_we=1, imm=imm_i, mem_size=f3[0:2], mem_signed=~f3[2])
            with m.Case(OP.STORE):
                with m.If(f3 < 3):
                    legal(Unit.STORE, imm=imm_s, mem_size=f3[0:2])
            with m.Case(OP.OP_IMM):
                with m.Switch(f3):
                    for k, op in _ALU_I.items():
                        with m.Case(k):
                            legal(Unit.ALU, alu_op=op, b_imm=1, rd_we=1, imm=imm_i)
                    with m.Case(1):
                        with m.If(f7 == 0):
                            legal(Unit.ALU, alu_op=AluOp.SLL, b_imm=1, rd_we=1, imm=f.rs2)
                    with m.Case(5):
                        with m.If(f7 == 0):
                            legal(Unit.ALU, alu_op=AluOp.SRL, b_imm=1, rd_we=1, imm=f.rs2)
                        with m.Elif(f7 == 0x20):
                            legal(Unit.ALU, alu_op=AluOp.SRA, b_imm=1, rd_we=1, imm=f.rs2)
            with m.Case(OP.OP):
                with m.If(f7 == 1):
                    legal(Mux(f3[2], Unit.DIV, Unit.MUL), rd_we=1, md_op=f3[0:2])
                for (k3, k7), op in _ALU_R.items():
                    with m.If((f3 == k3) & (f7 == k7)):
                        legal(Unit.ALU, alu_op=op, rd_we=1)
            with m.Case(OP.MISC_MEM):
                with m.If(f3 == 0):
                    legal(Unit.FENCE)
                with m.Elif(f3 == 1):
                    legal(Unit.FENCE, flush=1)          # fence.i: refetch what follows
            with m.Case(OP.SYSTEM):
                with m.If((f3 == 0) & (f.rd == 0) & (f.rs1 == 0)):
                    for code, op in ((0x000, SysOp.ECALL), (0x001, SysOp.EBREAK), (0x302, SysOp.MRET),
                                     (0x105, SysOp.WFI)):
                        with m.If(w[20:32] == code):
                            legal(Unit.SYSTEM, sys_op=op)
                with m.Elif((f3 != 0) & (f3 != 4)):
                    legal(Unit.CSR, rd_we=1, imm=w[20:32], csr_op=f3[0:2], csr_imm=f3[2], flush=1)
            if self.cfg.xpulpv2:
                self._xpulp(m, w, f, c, legal, imm_i, imm_s)
        return m

    def _xpulp(self, m, w, f, c, legal, imm_i, imm_s):
        f3, f7 = f.funct3, f.funct7
        with m.Case(OP.LOAD_POST):
            with m.If((f3 != 3) & (f3 != 6) & (f3 != 7)):
                legal(Unit.LOAD, rd_we=1, imm=imm_i, mem_size=f3[0:2], mem_signed=~f3[2], post_inc=1)
            with m.Elif(f3 == 7):
                for k7, (size, signed) in _LOAD_RR_F7.items():
                    with m.If(f7 == k7):
                        legal(Unit.LOAD, rd_we=1, mem_size=size, mem_signed=signed, post_inc=1, post_reg=1)
        with m.Case(OP.STORE_POST):
            with m.If(f3 < 3):
                legal(Unit.STORE, imm=imm_s, mem_size=f3[0:2], post_inc=1)
        with m.Case(OP.HWLOOP):
            uimm = w[20:32]
            with m.If((w[8:12] == 0) & (f3 < 6)):
                # starti/endi/setup: byte offset; counti/setupi: count; setupi's end offset comes from rs1
                imm = Mux((f3 == 3) | (f3 == 5), uimm, Cat(Const(0, 1), uimm))
                # lp.setup(i) starts the body at pc + 4: the two instructions already fetched are body
                # instructions, decided correctly without the new registers unless one of them is the end
                end_off = Mux(f3 == 5, Cat(Const(0, 1), f.rs1), Cat(Const(0, 1), uimm))
                long_body = ((f3 == 4) | (f3 == 5)) & (end_off >= 12)
                legal(Unit.HWLOOP, hw_op=f3, imm=imm, flush=~long_body)
        with m.Case(OP.VECOP):
            f5 = w[27:32]
            b25 = w[25]
            legal_f5 = Signal()
            m.d.comb += legal_f5.eq(0)
            for v in DOT_FUNCT5.values():
                with m.If(f5 == v):
                    m.d.comb += legal_f5.eq(1)
            signs = dict(dot_sa=f5[1], dot_sb=f5[0], dot_acc=f5[2], rd_we=1)
            raw6 = Cat(b25, w[20:25])
            sci_imm = Mux(f5[0:2] == 0, raw6.as_unsigned(), raw6.as_signed())
            with m.If(legal_f5 & (w[26] == 0)):
                with m.Switch(f3):
                    with m.Case(0, 1, 4, 5):
                        with m.If(b25 == 0):
                            legal(Unit.DOT, dot_width=f3[0], dot_mode=Mux(f3[2], DotMode.SC, DotMode.VV), **signs)
                    with m.Case(6, 7):
                        legal(Unit.DOT, dot_width=f3[0], dot_mode=DotMode.SCI, imm=sci_imm, **signs)
                    if self.cfg.xpulpnn:
                        with m.Case(2, 3):
                            legal(Unit.DOT, dot_width=Cat(b25, Const(1, 1)),
                                  dot_mode=Mux(f3[0], DotMode.SC, DotMode.VV), **signs)
        if self.cfg.xpulpnn:
            with m.Case(OP.MACLOAD):
                with m.If(f3 < 4):
                    for k7, (sa, sw) in _MLS_SIGNS.items():
                        with m.If(f7 == k7):
                            legal(Unit.MLS, rd_we=1, dot_width=f3[0:2], dot_sa=sa, dot_sb=sw, dot_acc=1)
