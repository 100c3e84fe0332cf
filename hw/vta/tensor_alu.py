"""TensorAlu: element-wise accumulator operations, one micro-op iteration per cycle for every operand kind."""

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from sw.vta.config import AluOp
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
    CLP 5 (clip to [-|operand|, |operand|]) and MOV 6 (dst = operand); see docs/vta.md.
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
            "acc_wr_addr": Out(la), "acc_wr_data": Out(cfg.acc_elem_bits), "acc_wr_en": Out(1),
            "busy": Out(1), "oob": Out(1),
        })

    @staticmethod
    def lane_op(op, a, b, width):
        """The result of ALU opcode ``op`` on signed lanes ``a`` (dst) and ``b`` (operand)."""
        right = Signal(signed(width), name="shr")
        left = Signal(width, name="shl")
        bound = Signal(signed(width + 2), name="clip_bound")
        stmts = [
            right.eq(a >> Mux(b > width - 1, width - 1, b[:width.bit_length() - 1])),
            left.eq(Mux(-b >= width, 0, (a << (-b)[:width.bit_length() - 1])[:width])),
            bound.eq(Mux(b < 0, -b, b)),
        ]
        clip = Mux(a > bound, bound, Mux(a < -bound, -bound, a))
        result = Signal(width, name="lane_result")
        cases = {
            AluOp.MIN: Mux(a < b, a, b),
            AluOp.MAX: Mux(a > b, a, b),
            AluOp.ADD: a + b,
            AluOp.SHR: Mux(b >= 0, right, left),
            AluOp.MUL: a * b,
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
        with m.If(loop.start):
            m.d.sync += [op.eq(p.alu_opcode), use_imm.eq(p.use_imm), imm.eq(p.imm)]

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
            m.d.comb += b.eq(Mux(use_imm, imm, self.src_data.word_select(n, W).as_signed()))
            stmts, cases, result = self.lane_op(op, a, b, W)
            m.d.comb += stmts
            with m.Switch(op):
                for code, value in cases.items():
                    with m.Case(code):
                        m.d.comb += result.eq(value[:W])
            lanes.append(result)
        m.d.comb += [
            self.acc_wr_en.eq(v3),
            self.acc_wr_addr.eq(a3),
            self.acc_wr_data.eq(Cat(*lanes)),
        ]
        m.d.comb += self.busy.eq(loop.busy | v2 | v3)
        return m
