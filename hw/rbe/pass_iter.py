"""PassIter: the job's loop nest over input patches (one "pass" each), shared by every sequencer.

Order, outermost first: output tile row ``ty``, output tile column ``tx`` (in pixels, step = tile side),
k_out tile ``kot``, k_in tile ``kit``, activation tile ``q``. The patch loader, the weight streamer and the
controller each run their own copy, so each can run ahead of the next.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["PassIter", "SIDE_BITS", "TILE_BITS"]

SIDE_BITS = 16
TILE_BITS = 12


class PassIter(wiring.Component):
    """Counters of the pass loop nest.

    Parameters
    ----------
    tile : int
        Output tile side (pixels).

    Attributes
    ----------
    restart : In(1)        back to the first pass (takes effect at the next edge)
    advance : In(1)        go to the next pass
    h_out, w_out : In(16)  output image size; n_kot, n_kit : In(12); n_q : In(2)
    ty, tx, kot, kit, q : Out  the current pass
    first : Out(1)         kit == 0 and q == 0: accumulators start from zero
    final : Out(1)         last kit and last q: the k_out tile's outputs become final in this pass
    last : Out(1)          this is the job's last pass
    done : Out(1)          advanced past the last pass; also high from reset until the first restart,
                           so that no unit issues requests before a job has started
    """

    def __init__(self, tile: int):
        self.tile = tile
        super().__init__({
            "restart": In(1), "advance": In(1),
            "h_out": In(SIDE_BITS), "w_out": In(SIDE_BITS), "n_kot": In(TILE_BITS), "n_kit": In(TILE_BITS),
            "n_q": In(2),
            "ty": Out(SIDE_BITS), "tx": Out(SIDE_BITS), "kot": Out(TILE_BITS), "kit": Out(TILE_BITS), "q": Out(1),
            "first": Out(1), "final": Out(1), "last": Out(1), "done": Out(1, init=1),
        })

    def elaborate(self, platform):
        m = Module()
        t = self.tile
        last_q = self.q == self.n_q - 1
        last_kit = self.kit == self.n_kit - 1
        last_kot = self.kot == self.n_kot - 1
        last_tx = self.tx + t >= self.w_out
        last_ty = self.ty + t >= self.h_out
        m.d.comb += [self.first.eq((self.kit == 0) & (self.q == 0)), self.final.eq(last_q & last_kit),
                     self.last.eq(last_q & last_kit & last_kot & last_tx & last_ty)]
        with m.If(self.restart):
            m.d.sync += [self.ty.eq(0), self.tx.eq(0), self.kot.eq(0), self.kit.eq(0), self.q.eq(0),
                         self.done.eq(0)]
        with m.Elif(self.advance & ~self.done):
            m.d.sync += self.q.eq(self.q + 1)
            with m.If(last_q):
                m.d.sync += [self.q.eq(0), self.kit.eq(self.kit + 1)]
                with m.If(last_kit):
                    m.d.sync += [self.kit.eq(0), self.kot.eq(self.kot + 1)]
                    with m.If(last_kot):
                        m.d.sync += [self.kot.eq(0), self.tx.eq(self.tx + t)]
                        with m.If(last_tx):
                            m.d.sync += [self.tx.eq(0), self.ty.eq(self.ty + t)]
                            with m.If(last_ty):
                                m.d.sync += [self.ty.eq(0), self.done.eq(1)]
        return m
