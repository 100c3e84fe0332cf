"""Controller: runs the pass loop nest on the array, one weight word per cycle.

A pass is one input patch: an offset cycle (an all-ones weight word, for the signed-weight correction,
once per patch where the reference spends two), then ``k x QW`` (3x3 mode) or ``k`` (1x1 mode) cycles each
broadcasting one weight word. A pass starts as soon as its patch is loaded (the loader fills the other
buffer meanwhile); a pass that makes outputs final also needs one of the two output buffers free.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sw.rbe.config import RBEConfig
from sw.rbe.regs import CTRL_STATES

from .pass_iter import SIDE_BITS, TILE_BITS, PassIter
from .store import TileTag

__all__ = ["Controller"]


class Controller(wiring.Component):
    """Sequencer of the array.

    Attributes
    ----------
    start : In(1); bad : In(1)   job start; its registers are invalid (end at once)
    mode_1x1 : In(1); qa, qw : In(4); n_q : In(2); h_out, w_out : In(16); n_kot, n_kit : In(12)
    restart : Out(1)             pulse to the loaders at a valid start
    patch_ready, params_loaded, w_valid, stored : In(1)
    release, take, block_end : Out(1)
    i_valid, i_offset, i_reset, i_last, i_upper : Out(1); i_chan : Out(range(k)); i_wbit : Out(3)
    i_tag : Out(TileTag)
        The issue (S0) of this cycle.
    done : Out(1)                end of job
    state : Out(3)               index of the FSM state in sw.rbe.regs.CTRL_STATES; inflight : Out(2)
    count_* : Out(1); bin_ops_inc : Out(24)
    """

    def __init__(self, cfg: RBEConfig):
        self.cfg = cfg
        k = cfg.k_tile
        super().__init__({
            "start": In(1), "bad": In(1), "mode_1x1": In(1), "qa": In(4), "qw": In(4), "n_q": In(2),
            "h_out": In(SIDE_BITS), "w_out": In(SIDE_BITS), "n_kot": In(TILE_BITS), "n_kit": In(TILE_BITS),
            "restart": Out(1), "patch_ready": In(1), "params_loaded": In(1), "w_valid": In(1), "stored": In(1),
            "release": Out(1), "take": Out(1), "block_end": Out(1),
            "i_valid": Out(1), "i_offset": Out(1), "i_reset": Out(1), "i_last": Out(1), "i_upper": Out(1),
            "i_chan": Out(range(k)), "i_wbit": Out(3), "i_tag": Out(TileTag),
            "done": Out(1), "state": Out(3), "inflight": Out(2),
            "count_compute_cycles": Out(1), "count_offset_cycles": Out(1), "count_weight_stall": Out(1),
            "count_patch_stall": Out(1), "count_out_stall": Out(1), "count_passes": Out(1),
            "bin_ops_inc": Out(24),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        k, t = cfg.k_tile, cfg.tile
        m.submodules.iter = it = PassIter(t)
        for name in ("h_out", "w_out", "n_kot", "n_kit", "n_q"):
            m.d.comb += getattr(it, name).eq(getattr(self, name))

        chan = Signal(range(k))
        wbit = Signal(3)
        inflight = Signal(range(3))        # final passes started whose tile is not yet stored
        obuf = Signal()                    # output buffer of the next final pass
        pbuf = Signal()                    # output buffer of the current pass
        pass_ops = Signal(24)              # one-bit MACs per cycle of the current pass
        last_wbit = Signal()
        m.d.comb += last_wbit.eq(self.mode_1x1 | (wbit == self.qw - 1))

        # Active operands of a pass: valid output pixels x Blocks in use x in-precision activation bits x k.
        rows, cols = Signal(range(t + 1)), Signal(range(t + 1))
        hl, wl = Signal(SIDE_BITS), Signal(SIDE_BITS)
        m.d.comb += [hl.eq(self.h_out - it.ty), wl.eq(self.w_out - it.tx),
                     rows.eq(Mux(hl < t, hl, t)), cols.eq(Mux(wl < t, wl, t))]
        bits = Signal(range(5))
        m.d.comb += bits.eq(Mux(it.q, self.qa - 4, Mux(self.qa > 4, 4, self.qa)))
        blocks = Signal(range(cfg.N_BLOCKS + 1))
        m.d.comb += blocks.eq(Mux(self.mode_1x1, self.qw, cfg.N_BLOCKS))

        m.d.comb += [self.i_tag.ty.eq(it.ty), self.i_tag.tx.eq(it.tx), self.i_tag.kot.eq(it.kot),
                     self.i_tag.buf.eq(pbuf), self.i_upper.eq(it.q), self.i_chan.eq(chan),
                     self.i_wbit.eq(Mux(self.mode_1x1, 0, wbit))]

        with m.FSM(name="ctrl"):
            with m.State("IDLE"):
                m.d.comb += self.state.eq(CTRL_STATES.index("IDLE"))
                with m.If(self.start):
                    with m.If(self.bad):
                        m.next = "END"
                    with m.Else():
                        m.d.comb += [self.restart.eq(1), it.restart.eq(1)]
                        m.d.sync += [inflight.eq(0), obuf.eq(0)]
                        m.next = "PASS"
            with m.State("PASS"):
                m.d.comb += self.state.eq(CTRL_STATES.index("PASS"))
                can_out = ~it.final | (inflight < 2)
                with m.If(it.done):
                    m.next = "DRAIN"
                with m.Elif(self.patch_ready & self.params_loaded & can_out):
                    # the offset cycle
                    m.d.comb += [self.i_valid.eq(1), self.i_offset.eq(1), self.i_reset.eq(it.first),
                                 self.count_offset_cycles.eq(1), self.count_passes.eq(1)]
                    m.d.sync += [chan.eq(0), wbit.eq(0), pass_ops.eq(rows * cols * blocks * bits * k)]
                    with m.If(it.final):
                        m.d.sync += [pbuf.eq(obuf), obuf.eq(~obuf)]
                    m.next = "CHANNELS"
                with m.Elif(~self.patch_ready | ~self.params_loaded):
                    m.d.comb += self.count_patch_stall.eq(1)
                with m.Else():
                    m.d.comb += self.count_out_stall.eq(1)
            with m.State("CHANNELS"):
                m.d.comb += self.state.eq(CTRL_STATES.index("CHANNELS"))
                with m.If(self.w_valid):
                    block_end = (chan == k - 1) & last_wbit
                    m.d.comb += [self.i_valid.eq(1), self.i_reset.eq(it.first & (wbit == 0)),
                                 self.i_last.eq(it.final & last_wbit), self.take.eq(1),
                                 self.block_end.eq(block_end), self.count_compute_cycles.eq(1),
                                 self.bin_ops_inc.eq(pass_ops)]
                    m.d.sync += wbit.eq(wbit + 1)
                    with m.If(last_wbit):
                        m.d.sync += [wbit.eq(0), chan.eq(chan + 1)]
                    with m.If(block_end):
                        m.d.comb += [self.release.eq(1), it.advance.eq(1)]
                        m.next = "PASS"
                with m.Else():
                    m.d.comb += self.count_weight_stall.eq(1)
            with m.State("DRAIN"):
                m.d.comb += self.state.eq(CTRL_STATES.index("DRAIN"))
                with m.If(inflight == 0):
                    m.next = "END"
            with m.State("END"):
                m.d.comb += self.state.eq(CTRL_STATES.index("END"))
                m.d.comb += self.done.eq(1)
                m.next = "IDLE"

        started_final = Signal()
        m.d.comb += started_final.eq(self.i_offset & it.final)
        m.d.sync += inflight.eq(inflight + started_final - self.stored)
        m.d.comb += self.inflight.eq(inflight)
        return m
