"""HwLoop: the two-level zero-overhead hardware-loop controller of XpulpV2.

The fetch stage asks, for the pc it fetches, whether the next pc is the loop start instead of pc + 4. The loop
counts are architectural state updated when an end instruction executes (in X), so the fetch-stage decision
subtracts the end instructions already fetched but not yet executed (in D and X): the decision is exact for any
body length. Instructions that write loop registers flush the pipeline, so fetch never decides on stale
start/end values.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["HwLoop"]


class HwLoop(wiring.Component):
    """Loop registers lpstart/lpend/lpcount for levels 0 (inner, priority) and 1.

    Attributes
    ----------
    f_pc : In(32)
        pc being fetched.
    d_valid, d_pc, x_valid, x_pc : In
        Instructions fetched but not executed.
    x_fire : In(1)
        The X instruction executes this cycle (its count-down is applied).
    w_level, w_start_en, w_end_en, w_count_en, w_start, w_end, w_count : In
        Register writes of the X instruction (enables already qualified by ``x_fire``).
    f_loop : Out(1)
        The next fetch pc is ``f_target`` (loop start) instead of ``f_pc + 4``.
    f_target : Out(32)
    x_loopback : Out(1)
        The X instruction is a loop end that jumps back (used when X redirects the fetch itself).
    x_start : Out(32)
        Start of the loop the X instruction ends.
    start, end, count : Out(32) x 2
        Register values for CSR reads.
    """

    f_pc: In(32)
    d_valid: In(1)
    d_pc: In(32)
    x_valid: In(1)
    x_pc: In(32)
    x_fire: In(1)
    w_level: In(1)
    w_start_en: In(1)
    w_end_en: In(1)
    w_count_en: In(1)
    w_start: In(32)
    w_end: In(32)
    w_count: In(32)
    f_loop: Out(1)
    f_target: Out(32)
    x_loopback: Out(1)
    x_start: Out(32)
    start0: Out(32)
    end0: Out(32)
    count0: Out(32)
    start1: Out(32)
    end1: Out(32)
    count1: Out(32)

    def elaborate(self, platform):
        m = Module()
        s = [self.start0, self.start1]
        e = [self.end0, self.end1]
        c = [Signal(32, name="count0_r"), Signal(32, name="count1_r")]
        m.d.comb += [self.count0.eq(c[0]), self.count1.eq(c[1])]

        def matches(valid, pc, counts):
            m0 = valid & (counts[0] != 0) & (pc == e[0])
            m1 = valid & ~m0 & (counts[1] != 0) & (pc == e[1])
            return m0, m1

        mx = matches(self.x_valid, self.x_pc, c)
        cx = [Signal(32, name=f"count{i}_after_x") for i in range(2)]
        m.d.comb += [cx[i].eq(c[i] - mx[i]) for i in range(2)]
        md = matches(self.d_valid, self.d_pc, cx)
        cd = [Signal(32, name=f"count{i}_after_d") for i in range(2)]
        m.d.comb += [cd[i].eq(cx[i] - md[i]) for i in range(2)]
        mf = matches(1, self.f_pc, cd)
        with m.If(mf[0]):
            m.d.comb += [self.f_loop.eq(cd[0] != 1), self.f_target.eq(s[0])]
        with m.Elif(mf[1]):
            m.d.comb += [self.f_loop.eq(cd[1] != 1), self.f_target.eq(s[1])]

        # X: count-down, unless the instruction writes the same level's count itself
        level = Signal()
        m.d.comb += level.eq(mx[1])
        own = self.w_count_en & (self.w_level == level)
        count_next = Mux(own, self.w_count, Mux(level, c[1], c[0]) - 1)
        m.d.comb += [self.x_loopback.eq((mx[0] | mx[1]) & (count_next != 0)),
                     self.x_start.eq(Mux(level, s[1], s[0]))]
        for i in range(2):
            with m.If(self.x_fire & mx[i]):
                m.d.sync += c[i].eq(c[i] - 1)
            sel = self.w_level == i
            with m.If(self.w_start_en & sel):
                m.d.sync += s[i].eq(self.w_start)
            with m.If(self.w_end_en & sel):
                m.d.sync += e[i].eq(self.w_end)
            with m.If(self.w_count_en & sel):
                m.d.sync += c[i].eq(self.w_count)
        return m
