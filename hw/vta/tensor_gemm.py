"""TensorGemm: the GEMM core, one micro-op iteration per cycle (initiation interval 1)."""

from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import gemm_layout
from .uop_loop import UopLoop

__all__ = ["TensorGemm"]


class TensorGemm(wiring.Component):
    """acc[a][b][o] += sum_k inp[i][b][k] * wgt[w][o][k] for every micro-op iteration, or acc[a] = 0 with reset.

    Pipeline (one iteration enters per cycle and never stalls); no path runs from a block-RAM output
    through arithmetic into a block-RAM input within one cycle:

    * S0  UopLoop presents the uop address; the uop arrives and is registered; the indices are summed.
    * S1  inp and wgt reads issued (UopLoop ``valid``).
    * S2  inp and wgt data registered.
    * S3  products (one DSP per 8x8 product) registered; accumulator read issued.
    * S4  adder tree registered; the accumulator read data is registered (in :class:`AccForward`).
    * S5  accumulate (32-bit wrap) and write back.

    inp and wgt are read-only while a GEMM runs, so S1-S4 need no hazard logic. The accumulator read of
    iteration n+1 or n+2 misses the write of iteration n; the accumulator read port (``acc_rd_*``, latency 2,
    see :class:`AccForward`) forwards those writes, so back-to-back and distance-2 updates of one index are
    correct (spec section 6, GEMM edge vectors).

    Attributes
    ----------
    cmd : In(stream) GEMM instruction.
    uop_addr/uop_data, inp_addr/inp_data, wgt_addr/wgt_data : read ports (data the cycle after the address).
    acc_rd_addr/acc_rd_data : forwarded accumulator read (data two cycles after the address).
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

        B, I, O = cfg.batch, cfg.block_in, cfg.block_out
        la = cfg.log_acc_depth
        v = [None] + [Signal(name=f"v{k}") for k in range(2, 6)]          # v[k-1] = valid in stage Sk
        a = [None] + [Signal(la, name=f"a{k}") for k in range(2, 6)]      # acc index in stage Sk
        v[0], a[0] = loop.valid, loop.dst
        for k in range(1, len(v)):
            m.d.sync += [v[k].eq(v[k - 1]), a[k].eq(a[k - 1])]

        # S1: operand reads. S2: register the read data.
        m.d.comb += [self.inp_addr.eq(loop.src), self.wgt_addr.eq(loop.wgt)]
        inp = Signal.like(self.inp_data, name="inp_s3")
        wgt = Signal.like(self.wgt_data, name="wgt_s3")
        m.d.sync += [inp.eq(self.inp_data), wgt.eq(self.wgt_data)]

        # S3: products into registers; accumulator read issued (returns in S5).
        prods = []
        for b in range(B):
            for o in range(O):
                row = []
                for k in range(I):
                    prod = Signal(signed(cfg.inp_bits + cfg.wgt_bits), name=f"prod_{b}_{o}_{k}")
                    m.d.sync += prod.eq(inp.word_select(b * I + k, cfg.inp_bits).as_signed()
                                        * wgt.word_select(o * I + k, cfg.wgt_bits).as_signed())
                    row.append(prod)
                prods.append(row)
        m.d.comb += self.acc_rd_addr.eq(a[2])

        # S4: balanced adder trees into registers.
        dots = []
        for n, terms in enumerate(prods):
            while len(terms) > 1:
                terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i]
                         for i in range(0, len(terms), 2)]
            dot = Signal(terms[0].shape(), name=f"dot_{n}")
            m.d.sync += dot.eq(terms[0])
            dots.append(dot)

        # S5: accumulate (32-bit wrap) and write back.
        acc_lanes = [self.acc_rd_data.word_select(n, cfg.acc_bits).as_signed() for n in range(B * O)]
        summed = Cat(*[(lane + d)[:cfg.acc_bits] for lane, d in zip(acc_lanes, dots)])
        m.d.comb += [
            self.acc_wr_en.eq(v[4]),
            self.acc_wr_addr.eq(a[4]),
            self.acc_wr_data.eq(summed),
        ]
        with m.If(reset):
            m.d.comb += self.acc_wr_data.eq(0)

        m.d.comb += self.busy.eq(loop.busy | v[1] | v[2] | v[3] | v[4])
        return m
