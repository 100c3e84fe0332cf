"""UopLoop: the two-level loop nest of GEMM and ALU instructions, one micro-op per cycle.

for y in [0, iter_out): for x in [0, iter_in): for u in [uop_bgn, uop_end): emit
    dst = uop.dst + y*dst_factor_out + x*dst_factor_in   (likewise src, wgt)
Offsets are kept incrementally (additions only). Indices are produced at full width and checked against
the scratchpad depths, so an out-of-range index is reported (``oob``) instead of silently wrapping.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sw.vta.config import LOOP_ITER_BITS, UOP_BITS
from .layouts import uop_layout

__all__ = ["UopLoop"]

#: Width of a computed index: uop field + 14-bit counters times factors, with headroom.
INDEX_BITS = 32


class UopLoop(wiring.Component):
    """Loop-nest generator.

    Parameters
    ----------
    cfg : VTAConfig
    src_depth_log2 : int
        Depth of the memory ``src`` indexes (inp for GEMM, acc for ALU).
    check_wgt : bool
        Whether ``wgt`` indexes a memory (GEMM) and must be range-checked.

    Attributes
    ----------
    start : In(1)      pulse; latches the loop parameters below.
    uop_bgn, uop_end, iter_out, iter_in, *_factor_* : In
    uop_addr : Out     uop scratchpad read address (data due on ``uop_data`` next cycle).
    uop_data : In
    valid : Out(1)     one micro-op iteration this cycle, with ``dst``/``src``/``wgt``. The uop read data is
                       registered before the index additions, so the indices (which address the block RAMs)
                       come from registers through one adder: ``valid`` follows the uop address by two cycles.
    oob : Out(1)       with ``valid``: an index is beyond its scratchpad.
    busy : Out(1)
    """

    def __init__(self, cfg, *, src_depth_log2, check_wgt):
        self.cfg = cfg
        self.src_depth_log2 = src_depth_log2
        self.check_wgt = check_wgt
        lu = cfg.log_uop_depth
        members = {
            "start": In(1),
            "uop_bgn": In(lu), "uop_end": In(lu + 1),
            "iter_out": In(LOOP_ITER_BITS), "iter_in": In(LOOP_ITER_BITS),
            "uop_addr": Out(lu), "uop_data": In(UOP_BITS),
            "valid": Out(1), "oob": Out(1), "busy": Out(1),
        }
        for idx in ("dst", "src", "wgt"):
            members[f"{idx}_factor_out"] = In(16)
            members[f"{idx}_factor_in"] = In(16)
            members[idx] = Out(INDEX_BITS)
        super().__init__(members)

    def attach(self, m, owner):
        """Drive this loop from ``owner``'s GEMM/ALU ``cmd`` stream; route owner's uop port and ``oob``."""
        m.d.comb += [
            owner.cmd.ready.eq(~owner.busy),
            self.start.eq(owner.cmd.valid & owner.cmd.ready),
            owner.uop_addr.eq(self.uop_addr), self.uop_data.eq(owner.uop_data),
            owner.oob.eq(self.oob),
        ]
        m.d.comb += self.params_from(owner.cmd.payload)

    def params_from(self, insn):
        """Assignments that feed this loop's parameters from a GEMM or ALU instruction view."""
        stmts = [self.uop_bgn.eq(insn.uop_bgn), self.uop_end.eq(insn.uop_end),
                 self.iter_out.eq(insn.iter_out), self.iter_in.eq(insn.iter_in)]
        for idx in ("dst", "src", "wgt"):
            for level in ("out", "in"):
                name = f"{idx}_factor_{level}"
                if name in dict(insn.shape()):  # ALU instructions have no wgt factors
                    stmts.append(getattr(self, name).eq(getattr(insn, name)))
        return stmts

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        lu = cfg.log_uop_depth
        u = Signal(lu + 1)
        x = Signal(LOOP_ITER_BITS)
        y = Signal(LOOP_ITER_BITS)
        bgn = Signal(lu + 1)
        end = Signal(lu + 1)
        n_in = Signal(LOOP_ITER_BITS)
        n_out = Signal(LOOP_ITER_BITS)
        gen = Signal()
        v1 = Signal()
        uop_oob = Signal()
        v2 = Signal()
        m.d.comb += self.busy.eq(gen | v1 | v2)

        names = ("dst", "src", "wgt")
        f_out = {n: Signal(16, name=f"{n}_f_out") for n in names}
        f_in = {n: Signal(16, name=f"{n}_f_in") for n in names}
        row = {n: Signal(INDEX_BITS, name=f"{n}_row") for n in names}   # y * factor_out
        off = {n: Signal(INDEX_BITS, name=f"{n}_off") for n in names}   # row + x * factor_in
        off1 = {n: Signal(INDEX_BITS, name=f"{n}_off1") for n in names}
        off2 = {n: Signal(INDEX_BITS, name=f"{n}_off2") for n in names}

        m.d.comb += self.uop_addr.eq(u)
        m.d.sync += [v1.eq(gen), v2.eq(v1)]
        for n in names:
            m.d.sync += [off1[n].eq(off[n]), off2[n].eq(off1[n])]
        with m.If(gen):
            with m.If(u == end - 1):
                m.d.sync += u.eq(bgn)
                with m.If(x == n_in - 1):
                    m.d.sync += x.eq(0)
                    for n in names:
                        m.d.sync += [row[n].eq(row[n] + f_out[n]), off[n].eq(row[n] + f_out[n])]
                    with m.If(y == n_out - 1):
                        m.d.sync += gen.eq(0)
                    with m.Else():
                        m.d.sync += y.eq(y + 1)
                with m.Else():
                    m.d.sync += x.eq(x + 1)
                    for n in names:
                        m.d.sync += off[n].eq(off[n] + f_in[n])
            with m.Else():
                m.d.sync += u.eq(u + 1)

        uop = Signal(uop_layout(cfg))
        m.d.sync += uop.eq(self.uop_data)   # the uop RAM output ends in a register, not in an adder
        m.d.comb += [
            self.valid.eq(v2),
            self.dst.eq(uop.dst + off2["dst"]),
            self.src.eq(uop.src + off2["src"]),
            self.wgt.eq(uop.wgt + off2["wgt"]),
        ]
        oob = (self.dst >> cfg.log_acc_depth != 0) | (self.src >> self.src_depth_log2 != 0)
        if self.check_wgt:
            oob = oob | (self.wgt >> cfg.log_wgt_depth != 0)
        oob = oob | uop_oob
        m.d.comb += self.oob.eq(v2 & oob)

        with m.If(self.start):
            m.d.sync += [
                u.eq(self.uop_bgn), bgn.eq(self.uop_bgn), end.eq(self.uop_end), x.eq(0), y.eq(0),
                n_in.eq(self.iter_in), n_out.eq(self.iter_out), uop_oob.eq(self.uop_end > cfg.uop_depth),
                gen.eq((self.iter_in != 0) & (self.iter_out != 0) & (self.uop_end > self.uop_bgn)),
            ]
            for n in names:
                m.d.sync += [f_out[n].eq(getattr(self, f"{n}_factor_out")),
                             f_in[n].eq(getattr(self, f"{n}_factor_in")),
                             row[n].eq(0), off[n].eq(0)]
        return m
