"""TensorAlu: element-wise accumulator operations, one micro-op iteration per cycle for every operand kind."""

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from sw.vta.config import AluOp
from sw.vta.isa import MULSHR_ROUND_BIT
from .layouts import alu_layout
from .uop_loop import UopLoop

__all__ = ["TensorAlu"]


class TensorAlu(wiring.Component):
    """acc[dst] = f(acc[dst], imm or acc[src]) per 32-bit lane.

    Two accumulator read ports (dst and src) make the vector-operand form run at initiation interval 1
    (upstream VTA needs 2). Pipeline: S0 uop (UopLoop); S1 indices, both accumulator reads issued; S2 the read
    data is registered (in :class:`AccForward`); S3 op and write back. Both reads are forwarded from the writes
    of the two previous cycles (latency-2 ports, see :class:`AccForward`), so iteration n+1 and n+2 see
    iteration n's result whether it is their dst or their src. The 32-bit MUL stays in S3: splitting it would
    make a MUL whose operand is the previous iteration's result wait a cycle (II 2).

    Opcodes: MIN 0, MAX 1, ADD 2, SHR 3 (negative amount shifts left), MUL 4, and the accelgen extensions
    CLP 5 (clip to [-|operand|, |operand|]) and MOV 6 (dst = operand); see docs/vta.md. MUL with the reset bit
    is the accelgen MULSHR (exact 64-bit product, rounding right shift by imm[5:0], docs/vta-isa-extensions.md),
    also in S3 (II 1); SHR with the reset bit is RSHR (rounding right shift by the operand, plus the immediate).
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.loop = UopLoop(cfg, src_depth_log2=cfg.log_acc_depth, check_wgt=False)
        la = cfg.log_acc_depth
        super().__init__({
            "cmd": In(stream.Signature(alu_layout(cfg))),
            "uop_addr": Out(cfg.log_uop_depth), "uop_data": In(32),
            # forwarded accumulator reads: data two cycles after the address
            "dst_addr": Out(la), "dst_data": In(cfg.acc_elem_bits),
            "src_addr": Out(la), "src_data": In(cfg.acc_elem_bits),
            # the operand when use_imm: the immediate in every lane (the src port substitutes it)
            "src_imm": Out(cfg.acc_elem_bits), "src_use_imm": Out(1),
            "acc_wr_addr": Out(la), "acc_wr_data": Out(cfg.acc_elem_bits), "acc_wr_en": Out(1),
            "busy": Out(1), "oob": Out(1),
        })

    @staticmethod
    def mul_low(a, b, width, split=18):
        """The low ``width`` bits of ``a * b`` from ``split``-bit DSP products.

        The low bits of a two's-complement product equal those of the unsigned product of the bit patterns, so
        only lo*lo (full) and the low ``width - split`` bits of the two cross products are needed: three
        18x18 multipliers and one short three-input add, instead of a full 32x32 product.
        """
        if width <= split:
            return (a * b)[:width]
        hi = width - split
        a_lo, a_hi, b_lo, b_hi = a[:split], a[split:width], b[:split], b[split:width]
        p0 = a_lo * b_lo
        top = (p0[split:width] + (a_hi * b_lo)[:hi] + (a_lo * b_hi)[:hi])[:hi]
        return Cat(p0[:split], top)

    @classmethod
    def lane_op(cls, op, a, b, width):
        """The result of ALU opcode ``op`` on signed lanes ``a`` (dst) and ``b`` (operand).

        Written for a short S3: range checks on the shift amount are bit tests, and CLP compares ``a``
        with ``b`` and the sign of ``a + b`` (a > -b) instead of negating ``b`` twice in series.
        """
        sh = width.bit_length() - 1                     # width is a power of two
        right = Signal(signed(width), name="shr")
        left = Signal(width, name="shl")
        neg = b[width - 1]
        upper = b[sh:width - 1]                         # b >= 0: b >= width <=> upper != 0
        total = Signal(signed(width + 1), name="clip_sum")   # a + b without overflow
        lt, gt = a < b, a > b
        above, below = Signal(name="clip_above"), Signal(name="clip_below")   # a > |b|, a < -|b|
        pos_bound = Signal(signed(width + 1), name="clip_pos")   # |b|
        neg_bound = Signal(signed(width + 1), name="clip_neg")   # -|b|
        stmts = [
            right.eq(a >> Mux(~neg & (upper != 0), width - 1, b[:sh])),
            # b < 0: -b >= width <=> b <= -width <=> upper not all ones, or b == -width (low bits 0)
            left.eq(Mux(neg & ((upper != (1 << (width - 1 - sh)) - 1) | (b[:sh] == 0)), 0,
                        (a << (-b[:sh])[:sh])[:width])),
            total.eq(a + b),
            above.eq(Mux(neg, total > 0, gt)),
            below.eq(Mux(neg, lt, total < 0)),
            pos_bound.eq(Mux(neg, -b, b)),
            neg_bound.eq(Mux(neg, b, -b)),
        ]
        clip = Mux(above, pos_bound, Mux(below, neg_bound, a))
        result = Signal(width, name="lane_result")
        cases = {
            AluOp.MIN: Mux(lt, a, b),
            AluOp.MAX: Mux(gt, a, b),
            AluOp.ADD: a + b,
            AluOp.SHR: Mux(~neg, right, left),
            AluOp.MUL: cls.mul_low(a, b, width),
            AluOp.CLP: clip,
            AluOp.MOV: b,
        }
        return stmts, cases, result

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        W = cfg.acc_bits
        m.submodules.loop = loop = self.loop
        p = self.cmd.payload
        op = Signal(3)
        use_imm = Signal()
        imm = Signal(signed(W))
        loop.attach(m, self)
        is_mul = Signal()   # decoded once so that the MUL result passes only the last select level
        # accelgen MULSHR (MUL with the ALU's otherwise unused reset bit): shift and rounding from the immediate,
        # decoded once per instruction: (p >> (sh-1) + 1) >> 1 when rounding (sh >= 1), else p >> sh.
        wide = Signal()
        wide_sh = Signal(6)
        wide_rnd = Signal()
        rshr = Signal()     # accelgen RSHR (SHR with the reset bit): rounding right shift, plus the immediate
        with m.If(loop.start):
            sh, rnd = p.imm[:6], p.imm[MULSHR_ROUND_BIT] & (p.imm[:6] != 0)
            m.d.sync += [op.eq(p.alu_opcode), use_imm.eq(p.use_imm), imm.eq(p.imm),
                         is_mul.eq(p.alu_opcode == AluOp.MUL),
                         wide.eq(p.reset & (p.alu_opcode == AluOp.MUL)),
                         rshr.eq(p.reset & (p.alu_opcode == AluOp.SHR)),
                         wide_sh.eq(Mux(rnd, sh - 1, sh)), wide_rnd.eq(rnd)]
        m.d.comb += [self.src_imm.eq(Cat(*[imm] * (cfg.batch * cfg.block_out))), self.src_use_imm.eq(use_imm)]

        # S1: read dst and src. S2: the read data is registered in AccForward.
        v2, v3 = Signal(), Signal()
        a2, a3 = Signal(cfg.log_acc_depth), Signal(cfg.log_acc_depth)
        m.d.comb += [self.dst_addr.eq(loop.dst), self.src_addr.eq(loop.src)]
        m.d.sync += [v2.eq(loop.valid), a2.eq(loop.dst), v3.eq(v2), a3.eq(a2)]

        # S3: per-lane op, write back.
        lanes = []
        for n in range(cfg.batch * cfg.block_out):
            a = self.dst_data.word_select(n, W).as_signed()
            b = Signal(signed(W), name=f"operand{n}")
            m.d.comb += b.eq(self.src_data.word_select(n, W))   # already the immediate with use_imm
            stmts, cases, result = self.lane_op(op, a, b, W)
            # RSHR: amount = clamp(operand, 0, 31); ((a >> (amount-1)) + 1) >> 1 (a when 0), plus sext(imm)
            amt = Signal(5, name=f"rshr_amt{n}")
            half = Signal(signed(W), name=f"rshr_half{n}")
            rounded = Signal(signed(W + 1), name=f"rshr_round{n}")
            m.d.comb += [amt.eq(Mux(b[W - 1], 0, Mux(b[5:W - 1] != 0, W - 1, b[:5]))),
                         half.eq(a >> (amt - 1)[:5]),
                         rounded.eq(Mux(amt == 0, a, (half + 1) >> 1) + imm)]
            cases[AluOp.SHR] = Mux(rshr, rounded[:W], cases[AluOp.SHR])
            others = Signal(W, name=f"lane_other{n}")
            m.d.comb += stmts
            with m.Switch(op):
                for code, value in cases.items():
                    if code != AluOp.MUL:
                        with m.Case(code):
                            m.d.comb += others.eq(value[:W])
            prod = Signal(signed(2 * W), name=f"mulshr_prod{n}")
            pre = Signal(signed(2 * W), name=f"mulshr_pre{n}")
            wide_res = Signal(signed(2 * W), name=f"mulshr{n}")
            m.d.comb += [prod.eq(a * b), pre.eq(prod >> wide_sh),
                         wide_res.eq(Mux(wide_rnd, (pre + 1) >> 1, pre))]
            m.d.comb += result.eq(Mux(is_mul, Mux(wide, wide_res[:W], cases[AluOp.MUL]), others))
            lanes.append(result)
        m.d.comb += [
            self.acc_wr_en.eq(v3),
            self.acc_wr_addr.eq(a3),
            self.acc_wr_data.eq(Cat(*lanes)),
        ]
        m.d.comb += self.busy.eq(loop.busy | v2 | v3)
        return m
