"""PE: one weight-stationary multiply-accumulate cell with a double-buffered weight."""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sw.systolic.config import ACC_BITS, IN_BITS

__all__ = ["PE"]


class PE(wiring.Component):
    """Processing element of the weight-stationary array.

    The input ``a`` moves right and the partial sum moves down, one register each. The PE holds two
    weights: ``live`` (used now) and ``shadow`` (the next fold's, written through ``w_load``). ``swap``
    travels with the first element of a fold: the PE multiplies that element by ``shadow`` and keeps it as
    ``live``, so the weight change follows the wavefront and the array never drains between folds.

    Attributes
    ----------
    a_in, swap_in, psum_in : In
        Operand from the left, fold marker, partial sum from above.
    a_out, swap_out, psum_out : Out
        The same, registered, for the right and lower neighbours (``psum_out = psum_in + a_in * w``).
    w_load, w_data : In
        Write ``w_data`` into the shadow weight on this edge.
    """

    def __init__(self):
        super().__init__({
            "a_in": In(signed(IN_BITS)), "swap_in": In(1), "psum_in": In(signed(ACC_BITS)),
            "a_out": Out(signed(IN_BITS)), "swap_out": Out(1), "psum_out": Out(signed(ACC_BITS)),
            "w_load": In(1), "w_data": In(signed(IN_BITS)),
        })

    def elaborate(self, platform):
        m = Module()
        live = Signal(signed(IN_BITS))
        shadow = Signal(signed(IN_BITS))
        w = Mux(self.swap_in, shadow, live)
        m.d.sync += [
            live.eq(w),
            self.a_out.eq(self.a_in),
            self.swap_out.eq(self.swap_in),
            self.psum_out.eq(self.psum_in + self.a_in * w),
        ]
        with m.If(self.w_load):
            m.d.sync += shadow.eq(self.w_data)
        return m
