"""Deserializer: packs W int32 results of a column into one vector-memory word."""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from sw.systolic.config import ACC_BITS, ELEM_BITS, SystolicConfig

__all__ = ["Deserializer"]


class Deserializer(wiring.Component):
    """Per-column de-serializer: one memory write every W results.

    Results arrive in stream order (lane fastest). Output word ``k`` of a C_O fold goes to
    ``out_base + co * out_co_stride + k``.

    Attributes
    ----------
    start : In(1)
        A run starts: the next C_O fold is number 0.
    valid, value, fold_start : In
        A final result; ``fold_start`` marks the first result of a C_O fold.
    out_base, out_co_stride : In
        Descriptor registers.
    wr_valid, wr_addr, wr_data : Out
        A full word (a one-cycle pulse).
    """

    def __init__(self, cfg: SystolicConfig):
        self.cfg = cfg
        ab = cfg.mem_addr_bits
        super().__init__({
            "start": In(1),
            "valid": In(1), "value": In(signed(ACC_BITS)), "fold_start": In(1),
            "out_base": In(ab), "out_co_stride": In(ab + 1),
            "wr_valid": Out(1), "wr_addr": Out(ab), "wr_data": Out(data.ArrayLayout(ELEM_BITS, cfg.W)),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        W = cfg.W
        ab = cfg.mem_addr_bits
        lanes = [Signal(ELEM_BITS, name=f"lane{i}") for i in range(W - 1)]
        lane = Signal(range(W))
        co_base = Signal(ab + 1)
        word = Signal(ab + 1)
        seen = Signal()
        cur_word = Signal(ab + 1)
        cur_base = Signal(ab + 1)
        cur_lane = Signal(range(W))
        m.d.comb += [cur_word.eq(word), cur_base.eq(co_base), cur_lane.eq(lane)]
        with m.If(self.fold_start):
            m.d.comb += [cur_word.eq(0), cur_lane.eq(0),
                         cur_base.eq(co_base + Mux(seen, self.out_co_stride, 0))]

        m.d.sync += self.wr_valid.eq(0)
        with m.If(self.start):
            m.d.sync += [co_base.eq(self.out_base), seen.eq(0), lane.eq(0), word.eq(0)]
        with m.Elif(self.valid):
            m.d.sync += [co_base.eq(cur_base), seen.eq(1)]
            if W > 1:
                with m.Switch(cur_lane):
                    for i in range(W - 1):
                        with m.Case(i):
                            m.d.sync += lanes[i].eq(self.value)
            with m.If(cur_lane == W - 1):
                m.d.sync += [self.wr_valid.eq(1), self.wr_addr.eq(cur_base + cur_word), word.eq(cur_word + 1),
                             lane.eq(0)]
                m.d.sync += [self.wr_data[i].eq(lanes[i]) for i in range(W - 1)]
                m.d.sync += self.wr_data[W - 1].eq(self.value)
            with m.Else():
                m.d.sync += [lane.eq(cur_lane + 1), word.eq(cur_word)]
        return m
