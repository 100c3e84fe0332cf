"""TensorGemm: the GEMM core, one micro-op iteration per cycle (initiation interval 1)."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import gemm_layout
from .uop_loop import UopLoop

__all__ = ["TensorGemm"]


class TensorGemm(wiring.Component):
    """acc[a][b][o] += sum_k inp[i][b][k] * wgt[w][o][k] for every micro-op iteration, or acc[a] = 0 with reset.

    Pipeline (one iteration enters per cycle and never stalls):

    * S0  UopLoop presents the uop address.
    * S1  uop arrives; indices computed; inp and wgt reads issued.
    * S2  products and adder tree; accumulator read issued.
    * S3  accumulate and write back.

    The accumulator read of iteration n+1 (S2) happens in the same cycle as the write of iteration n (S3);
    the read port is transparent to the write port, so back-to-back writes to one index need no
    forwarding logic and stay correct (spec section 6, GEMM edge vectors).

    Attributes
    ----------
    cmd : In(stream) GEMM instruction.
    uop_addr/uop_data, inp_addr/inp_data, wgt_addr/wgt_data, acc_rd_addr/acc_rd_data : read ports
        (data the cycle after the address).
    acc_wr_addr, acc_wr_data, acc_wr_en : accumulator write port.
    busy : Out(1); oob : Out(1) pulses for an iteration whose index is beyond a scratchpad.
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.loop = UopLoop(cfg, src_depth_log2=cfg.log_inp_depth, check_wgt=True)
        super().__init__({
            "cmd": In(stream.Signature(gemm_layout(cfg))),
            "uop_addr": Out(cfg.log_uop_depth), "uop_data": In(32),
            "inp_addr": Out(cfg.log_inp_depth), "inp_data": In(cfg.inp_elem_bits),
            "wgt_addr": Out(cfg.log_wgt_depth), "wgt_data": In(cfg.wgt_elem_bits),
            "acc_rd_addr": Out(cfg.log_acc_depth), "acc_rd_data": In(cfg.acc_elem_bits),
            "acc_wr_addr": Out(cfg.log_acc_depth), "acc_wr_data": Out(cfg.acc_elem_bits), "acc_wr_en": Out(1),
            "busy": Out(1), "oob": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        m.submodules.loop = loop = self.loop
        reset = Signal()
        p = self.cmd.payload
        loop.attach(m, self)
        with m.If(loop.start):
            m.d.sync += reset.eq(p.reset)

        # S1: operand reads.
        v2, v3 = Signal(), Signal()
        a2, a3 = Signal(cfg.log_acc_depth), Signal(cfg.log_acc_depth)
        m.d.comb += [self.inp_addr.eq(loop.src), self.wgt_addr.eq(loop.wgt)]
        m.d.sync += [v2.eq(loop.valid), a2.eq(loop.dst)]

        # S2: dot products, accumulator read.
        B, I, O = cfg.batch, cfg.block_in, cfg.block_out
        dots = []
        for b in range(B):
            for o in range(O):
                terms = [self.inp_data.word_select(b * I + k, cfg.inp_bits).as_signed()
                         * self.wgt_data.word_select(o * I + k, cfg.wgt_bits).as_signed() for k in range(I)]
                while len(terms) > 1:   # balanced adder tree
                    terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i]
                             for i in range(0, len(terms), 2)]
                dots.append(terms[0])
        dot3 = [Signal(d.shape(), name=f"dot_{n}") for n, d in enumerate(dots)]
        m.d.sync += [v3.eq(v2), a3.eq(a2)] + [s.eq(d) for s, d in zip(dot3, dots)]
        m.d.comb += self.acc_rd_addr.eq(a2)

        # S3: accumulate (32-bit wrap) and write back.
        acc_lanes = [self.acc_rd_data.word_select(n, cfg.acc_bits).as_signed() for n in range(B * O)]
        summed = Cat(*[(lane + d)[:cfg.acc_bits] for lane, d in zip(acc_lanes, dot3)])
        m.d.comb += [
            self.acc_wr_en.eq(v3),
            self.acc_wr_addr.eq(a3),
            self.acc_wr_data.eq(summed),
        ]
        with m.If(reset):
            m.d.comb += self.acc_wr_data.eq(0)

        m.d.comb += self.busy.eq(loop.busy | v2 | v3)
        return m
