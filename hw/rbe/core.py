"""Core (the reference RTL's "column"): 9 Blocks, an adder tree, the accumulators, the offset accumulator,
a NormQuant unit and the double-buffered output bit-planes of one output pixel."""

from amaranth.hdl import Array, Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from sw.rbe.config import RBEConfig

from .binconv import adder_tree
from .block import Block
from .normquant import NormQuant

__all__ = ["Core", "OUT_PLANES"]

#: Output bit-planes kept per channel tile (outputs are at most 8 bits).
OUT_PLANES = 8


class Core(wiring.Component):
    """One output pixel of the output tile.

    Pipeline (the engine drives the control of each stage): S0 ``x``/``w`` -> Blocks -> adder tree ->
    register; S1 accumulate (or offset) -> NormQuant input; N1 -> NormQuant register; N2 write the quantised
    value's bits into output buffer ``n2_buf`` at channel ``n2_chan``.

    Attributes
    ----------
    x : In(array of 9 chunks)   activation tile planes seen by each Block
    w : In(array of 9 words)    the broadcast weight word (one BINCONV_WIDTH word per Block)
    wbit : In(3)                weight bit of this cycle (3x3 mode: every Block's shift)
    mode_1x1 : In(1)            Block r shifts by r (its weight bit) instead of ``wbit``
    upper : In(1)               the upper activation tile (bits 4..7): sum shifted by 4 more
    s1_valid, s1_offset, s1_reset : In(1)
        S1 control: accumulate; this is the offset cycle; start from 0.
    s1_chan : In(range(k))      accumulator of this cycle
    qw : In(4)                  weight precision (offset = 2^(qw-1) - 1)
    kappa, lam, shift, qao, relu : normalisation parameters at N1
    n2_valid, n2_buf : In(1); n2_chan : In(range(k))
    rd_buf : In(1)              output buffer read by ``out_planes``
    out_planes : Out(array of 8 words)
        Bit-plane p of the output channel tile (bit c = bit p of channel c's quantised value).
    """

    def __init__(self, cfg: RBEConfig):
        self.cfg = cfg
        k = cfg.k_tile
        self._block_max = k * ((1 << cfg.N_BINCONVS) - 1) << 7
        self.sum_max = cfg.N_BLOCKS * self._block_max << 4
        super().__init__({
            "x": In(data.ArrayLayout(cfg.chunk_bits, cfg.N_BLOCKS)),
            "w": In(data.ArrayLayout(k, cfg.N_BLOCKS)),
            "wbit": In(3), "mode_1x1": In(1), "upper": In(1),
            "s1_valid": In(1), "s1_offset": In(1), "s1_reset": In(1),
            "s1_chan": In(range(k)), "qw": In(4),
            "kappa": In(16), "lam": In(signed(32)), "shift": In(6), "qao": In(4), "relu": In(1),
            "n2_valid": In(1), "n2_buf": In(1), "n2_chan": In(range(k)),
            "rd_buf": In(1),
            "out_planes": Out(data.ArrayLayout(k, OUT_PLANES)),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        k = cfg.k_tile
        aw = cfg.ACC_WIDTH

        # S0: Blocks and adder tree.
        sums = []
        for r in range(cfg.N_BLOCKS):
            blk = Block(k, cfg.N_BINCONVS)
            m.submodules[f"block{r}"] = blk
            m.d.comb += [blk.w.eq(self.w[r]), blk.x.eq(self.x[r]),
                         blk.shift.eq(Mux(self.mode_1x1, r % 8, self.wbit))]
            sums.append(blk.sum)
        tree = Signal(range(cfg.N_BLOCKS * self._block_max + 1))
        m.d.comb += tree.eq(adder_tree(sums))
        core_sum = Signal(range(self.sum_max + 1))
        m.d.sync += core_sum.eq(Mux(self.upper, tree << 4, tree))

        # S1: accumulate. Raw sums use unsigned weights W' (never negative); the offset accumulator holds
        # -(2^(qw-1) - 1) * sum(x), computed from an all-ones weight word as S - (S << (qw-1)).
        acc = Array(Signal(signed(aw), name=f"acc{c}") for c in range(k))
        off_acc = Signal(signed(aw + 1))
        base = Signal(signed(aw))
        new = Signal(signed(aw + 1))
        m.d.comb += [base.eq(Mux(self.s1_reset, 0, acc[self.s1_chan])), new.eq(base + core_sum)]
        s_ext = Signal(signed(aw + 2))
        qw_m1 = Signal(3)
        m.d.comb += [s_ext.eq(core_sum), qw_m1.eq(self.qw - 1)]
        with m.If(self.s1_valid):
            with m.If(self.s1_offset):
                m.d.sync += off_acc.eq(Mux(self.s1_reset, 0, off_acc) + s_ext - (s_ext << qw_m1))
            with m.Else():
                m.d.sync += acc[self.s1_chan].eq(new)

        # N1: NormQuant on the final value of the channel (registered inside the unit -> N2).
        n1_value = Signal(signed(aw + 1))
        m.d.sync += n1_value.eq(new + off_acc)
        m.submodules.normquant = nq = NormQuant(aw + 1)
        m.d.comb += [nq.value.eq(n1_value), nq.kappa.eq(self.kappa), nq.lam.eq(self.lam),
                     nq.shift.eq(self.shift), nq.qao.eq(self.qao), nq.relu.eq(self.relu)]

        # N2: bit-plane transpose into the output buffer being filled.
        planes = [[Signal(k, name=f"out{b}_p{p}") for p in range(OUT_PLANES)] for b in range(2)]
        with m.If(self.n2_valid):
            for b in range(2):
                with m.If(self.n2_buf == b):
                    for p in range(OUT_PLANES):
                        m.d.sync += planes[b][p].bit_select(self.n2_chan, 1).eq(nq.y[p])
        for p in range(OUT_PLANES):
            m.d.comb += self.out_planes[p].eq(Mux(self.rd_buf, planes[1][p], planes[0][p]))
        return m
