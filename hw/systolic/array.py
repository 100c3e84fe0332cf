"""SystolicArray: the R x C grid of PEs."""

from amaranth.hdl import Module, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from sw.systolic.config import ACC_BITS, IN_BITS, SystolicConfig

from .pe import PE

__all__ = ["SystolicArray"]


class SystolicArray(wiring.Component):
    """R x C weight-stationary PEs; row ``r`` holds the weights of reduction index ``r``.

    Parameters
    ----------
    cfg : SystolicConfig

    Attributes
    ----------
    a, swap : In
        Per row: the operand entering PE (r, 0) and the fold marker travelling with it (rows are skewed by
        the feeders, not here).
    w_load : In(R)
        Per row: write ``w_data[r]`` into the shadow weights of row ``r`` (all columns at once).
    w_data : In
        Per row: C int8 weights.
    psum : Out
        Per column: the registered partial sum leaving PE (R-1, c).
    """

    def __init__(self, cfg: SystolicConfig):
        if not isinstance(cfg, SystolicConfig):
            raise TypeError(f"cfg must be a SystolicConfig, not {cfg!r}")
        self.cfg = cfg
        R, C = cfg.R, cfg.C
        super().__init__({
            "a": In(data.ArrayLayout(signed(IN_BITS), R)),
            "swap": In(R),
            "w_load": In(R),
            "w_data": In(data.ArrayLayout(data.ArrayLayout(signed(IN_BITS), C), R)),
            "psum": Out(data.ArrayLayout(signed(ACC_BITS), C)),
        })

    def elaborate(self, platform):
        m = Module()
        R, C = self.cfg.R, self.cfg.C
        pes = [[PE() for _ in range(C)] for _ in range(R)]
        for r in range(R):
            for c in range(C):
                pe = pes[r][c]
                m.submodules[f"pe_{r}_{c}"] = pe
                if c == 0:
                    m.d.comb += [pe.a_in.eq(self.a[r]), pe.swap_in.eq(self.swap[r])]
                else:
                    m.d.comb += [pe.a_in.eq(pes[r][c - 1].a_out), pe.swap_in.eq(pes[r][c - 1].swap_out)]
                m.d.comb += pe.psum_in.eq(0 if r == 0 else pes[r - 1][c].psum_out)
                m.d.comb += [pe.w_load.eq(self.w_load[r]), pe.w_data.eq(self.w_data[r][c])]
        for c in range(C):
            m.d.comb += self.psum[c].eq(pes[R - 1][c].psum_out)
        return m
