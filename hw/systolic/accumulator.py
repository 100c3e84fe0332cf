"""Accumulator: per-column int32 partial-sum memory that adds up the decomposed 1x1 convolutions."""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from sw.systolic.config import ACC_BITS, SystolicConfig

__all__ = ["Accumulator", "ColumnCtrl"]

#: Control travelling with a stream position below the array (one column later per column).
ColumnCtrl = data.StructLayout({"valid": 1, "swap": 1, "first": 1, "last": 1})


class Accumulator(wiring.Component):
    """One column's accumulator memory (``ACC_DEPTH`` x int32, one read and one write port).

    ``pre`` is the control of the stream position whose partial sum arrives on ``psum`` one cycle later:
    the entry is read one cycle ahead. Position ``t`` of a fold uses entry ``t``. The first fold of a C_O
    fold (``first``) starts from 0; the last one (``last``) sends the total to the de-serializer instead of
    writing it back.

    Attributes
    ----------
    pre : In(ColumnCtrl)
    psum : In(signed(32))
    out_valid, out_value, out_fold_start : Out
        A final result; ``out_fold_start`` marks the first one of a C_O fold.
    """

    def __init__(self, cfg: SystolicConfig):
        self.cfg = cfg
        super().__init__({
            "pre": In(ColumnCtrl),
            "psum": In(signed(ACC_BITS)),
            "out_valid": Out(1), "out_value": Out(signed(ACC_BITS)), "out_fold_start": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        m.submodules.mem = mem = Memory(shape=signed(ACC_BITS), depth=cfg.ACC_DEPTH, init=[])
        rp = mem.read_port()
        wp = mem.write_port()

        t = Signal(cfg.acc_addr_bits)
        addr = Signal(cfg.acc_addr_bits)
        m.d.comb += addr.eq(Mux(self.pre.swap, 0, t))
        with m.If(self.pre.valid):
            m.d.sync += t.eq(addr + 1)
        m.d.comb += [rp.addr.eq(addr), rp.en.eq(self.pre.valid)]

        cur = Signal(ColumnCtrl)
        cur_addr = Signal(cfg.acc_addr_bits)
        m.d.sync += [cur.eq(self.pre), cur_addr.eq(addr)]
        total = Signal(signed(ACC_BITS))
        m.d.comb += total.eq(self.psum + Mux(cur.first, 0, rp.data))
        m.d.comb += [
            wp.en.eq(cur.valid & ~cur.last), wp.addr.eq(cur_addr), wp.data.eq(total),
            self.out_valid.eq(cur.valid & cur.last), self.out_value.eq(total),
            self.out_fold_start.eq(cur.swap),
        ]
        return m
