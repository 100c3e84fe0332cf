"""Sequencer: the fold loops and the address stream of PE row 0 (the feeders skew it for the other rows)."""

from amaranth.hdl import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from sw.systolic.config import SystolicConfig
from sw.systolic.regs import DESCRIPTOR_FIELDS

__all__ = ["Sequencer", "DESCRIPTOR_FIELDS", "descriptor_layout", "issue_layout"]


def descriptor_layout(cfg: SystolicConfig):
    return data.StructLayout({f: cfg.count_bits for f in DESCRIPTOR_FIELDS})


def issue_layout(cfg: SystolicConfig):
    """One stream position as issued for row 0: read strobe and word address (lane 0 only), weight preload
    (first position of a fold), fold marker and the accumulate flags."""
    return data.StructLayout({"valid": 1, "rd": 1, "addr": cfg.mem_addr_bits, "preload": 1, "swap": 1,
                              "first": 1, "last": 1})


class Sequencer(wiring.Component):
    """Walks ``for co: for kh: for kw: for cf:`` (folds) and ``for g: for y: for x: for lane:`` (positions).

    The word address of a position is ``kh*kh_stride + kw*kw_stride + cf*cf_stride + g*g_stride +
    y*y_stride + x*x_stride``: the stride of the convolution is only an address step. A fold lasts at least
    C cycles (the next fold's weights are preloaded behind the wavefront); after the last position the
    sequencer waits ``drain`` cycles for the pipeline to empty, then pulses ``done``.

    Attributes
    ----------
    start : In(1)
    desc : In(descriptor_layout)
    issue : Out(issue_layout)
    busy, done : Out(1)
    """

    def __init__(self, cfg: SystolicConfig, *, drain: int):
        self.cfg = cfg
        self.drain = drain
        super().__init__({
            "start": In(1),
            "desc": In(descriptor_layout(cfg)),
            "issue": Out(issue_layout(cfg)),
            "busy": Out(1), "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg, d = self.cfg, self.desc
        n = cfg.count_bits
        loops = ("co", "kh", "kw", "cf", "g", "y", "x")
        cnt = {k: Signal(n, name=k) for k in loops}
        off = {k: Signal(n + 4, name=f"off_{k}") for k in ("kh", "kw", "cf", "g", "y", "x")}
        stride = {"kh": d.kh_stride, "kw": d.kw_stride, "cf": d.cf_stride,
                  "g": d.g_stride, "y": d.y_stride, "x": d.x_stride}
        limit = {"co": d.nco, "kh": d.nkh, "kw": d.nkw, "cf": d.ncf, "g": d.ng, "y": d.nhb, "x": d.nwb}
        lane = Signal(range(cfg.W))
        fold_cnt = Signal(n + 1)
        drain = Signal(range(self.drain + 1))
        last = {k: cnt[k] == limit[k] - 1 for k in loops}

        def step(levels):
            """Advance the nested counters ``levels`` (outermost first) by one; return 'all wrapped'."""
            carry = 1
            for k in reversed(levels):
                with m.If(carry):
                    with m.If(last[k]):
                        m.d.sync += cnt[k].eq(0)
                        if k in off:
                            m.d.sync += off[k].eq(0)
                    with m.Else():
                        m.d.sync += cnt[k].eq(cnt[k] + 1)
                        if k in off:
                            m.d.sync += off[k].eq(off[k] + stride[k])
                carry = carry & last[k]
            return carry

        addr = sum(off.values())
        pos_last = (lane == cfg.W - 1) & last["g"] & last["y"] & last["x"]
        fold_first = (lane == 0) & (cnt["g"] == 0) & (cnt["y"] == 0) & (cnt["x"] == 0)
        min_period = cfg.C

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [c.eq(0) for c in cnt.values()]
                    m.d.sync += [o.eq(0) for o in off.values()]
                    m.d.sync += [lane.eq(0), fold_cnt.eq(0)]
                    m.next = "STREAM"
            with m.State("STREAM"):
                m.d.comb += [
                    self.busy.eq(1),
                    self.issue.valid.eq(1), self.issue.rd.eq(lane == 0), self.issue.addr.eq(addr),
                    self.issue.preload.eq(fold_first), self.issue.swap.eq(fold_first),
                    self.issue.first.eq((cnt["kh"] == 0) & (cnt["kw"] == 0) & (cnt["cf"] == 0)),
                    self.issue.last.eq(last["kh"] & last["kw"] & last["cf"]),
                ]
                m.d.sync += fold_cnt.eq(fold_cnt + 1)
                m.d.sync += lane.eq(lane + 1)
                with m.If(lane == cfg.W - 1):
                    m.d.sync += lane.eq(0)
                    step(("g", "y", "x"))
                with m.If(pos_last):
                    done = step(("co", "kh", "kw", "cf"))
                    with m.If(done):
                        m.d.sync += drain.eq(0)
                        m.next = "DRAIN"
                    with m.Elif(fold_cnt + 1 >= min_period):
                        m.d.sync += fold_cnt.eq(0)
                    with m.Else():
                        m.next = "WAIT"
            with m.State("WAIT"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += fold_cnt.eq(fold_cnt + 1)
                with m.If(fold_cnt + 1 >= min_period):
                    m.d.sync += fold_cnt.eq(0)
                    m.next = "STREAM"
            with m.State("DRAIN"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += drain.eq(drain + 1)
                with m.If(drain == self.drain - 1):
                    m.d.comb += self.done.eq(1)
                    m.next = "IDLE"
        return m
