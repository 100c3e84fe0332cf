"""WeightStreamer: prefetches the weight blocks of every pass and cuts the bus beats into broadcast words.

For each pass (see :class:`~hw.rbe.pass_iter.PassIter`) the block of its (k_out tile, k_in tile) is read
in bursts into a FIFO of whole beats; a gearbox of BINCONV_WIDTH-bit slots then hands out one weight word
of N_BLOCKS slots per cycle (288 bits by default), whatever the port width. A burst is requested only when
the FIFO has room for all of it, so responses never back up into the shared memory port. Blocks start on a
beat; at a block's last word the gearbox also drops the block's padding slots.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, fifo, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import ReadPortSignature, log2, word_addr_bits
from sw.rbe.config import RBEConfig

from .pass_iter import SIDE_BITS, TILE_BITS, PassIter

__all__ = ["WeightStreamer"]

#: Longest weight burst, in beats (short enough that patch loads interleave on the shared port).
MAX_BURST = 16


class WeightStreamer(wiring.Component):
    """Weight word source of the array.

    Attributes
    ----------
    rd : Out(ReadPortSignature)
    restart : In(1); h_out, w_out : In(16); n_kot, n_kit : In(12); n_q : In(2)
    w_base : In(word address)    first beat of the weights
    block_beats : In(16)         beats from one block to the next
    pad_slots : In(8)            slots of padding after a block's last word
    word : Out(array of N_BLOCKS words)  the weight word at the head
    valid : Out(1)               ``word`` is available
    take : In(1)                 consume ``word``
    block_end : In(1)            with ``take``: it is its block's last word (drop the padding too)
    """

    def __init__(self, cfg: RBEConfig):
        self.cfg = cfg
        spb = cfg.slots_per_beat
        self.max_pop = cfg.word_slots + spb - 1
        # Whole beats, enough for the largest pop plus one beat arriving.
        self.n_slots = spb * (-(-self.max_pop // spb) + 1)
        super().__init__({
            "rd": Out(ReadPortSignature(cfg.PORT_WIDTH)),
            "restart": In(1),
            "h_out": In(SIDE_BITS), "w_out": In(SIDE_BITS), "n_kot": In(TILE_BITS), "n_kit": In(TILE_BITS),
            "n_q": In(2),
            "w_base": In(word_addr_bits(cfg.PORT_WIDTH)), "block_beats": In(16), "pad_slots": In(8),
            "word": Out(data.ArrayLayout(cfg.k_tile, cfg.word_slots)),
            "valid": Out(1), "take": In(1), "block_end": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        k, spb, ns = cfg.k_tile, cfg.slots_per_beat, self.n_slots
        depth = cfg.WEIGHT_FIFO_BEATS
        burst_max = min(MAX_BURST, depth)

        m.submodules.iter = it = PassIter(cfg.tile)
        for name in ("h_out", "w_out", "n_kot", "n_kit", "n_q"):
            m.d.comb += getattr(it, name).eq(getattr(self, name))
        m.d.comb += it.restart.eq(self.restart)

        # ---- requests --------------------------------------------------------------------------------
        m.submodules.beats = beats = fifo.SyncFIFOBuffered(width=cfg.PORT_WIDTH, depth=depth)
        reserved = Signal(range(depth + 1))      # beats requested and not yet handed to the gearbox
        sent = Signal(16)                        # beats of the current block already requested
        left = Signal(16)
        burst = Signal(range(burst_max + 1))
        m.d.comb += [left.eq(self.block_beats - sent),
                     burst.eq(Mux(left < burst_max, left, burst_max))]
        block = Signal(2 * TILE_BITS)
        m.d.comb += block.eq(it.kot * self.n_kit + it.kit)
        m.d.comb += [self.rd.rd_req.payload.addr.eq(self.w_base + block * self.block_beats + sent),
                     self.rd.rd_req.payload.len.eq(burst - 1)]
        req = Signal()
        with m.If(~self.restart & ~it.done & (depth - reserved >= burst)):
            m.d.comb += self.rd.rd_req.valid.eq(1)
            m.d.comb += req.eq(self.rd.rd_req.ready)
        with m.If(req):
            with m.If(sent + burst == self.block_beats):
                m.d.sync += sent.eq(0)
                m.d.comb += it.advance.eq(1)
            with m.Else():
                m.d.sync += sent.eq(sent + burst)
        with m.If(self.restart):
            m.d.sync += sent.eq(0)

        m.d.comb += [beats.w_data.eq(self.rd.rd_resp.payload.data), beats.w_en.eq(self.rd.rd_resp.valid),
                     self.rd.rd_resp.ready.eq(beats.w_rdy)]

        # ---- gearbox: beats in, N_BLOCKS-slot words out --------------------------------------------------
        slots = [Signal(k, name=f"slot{i}") for i in range(ns)]
        level = Signal(range(ns + 1))
        rd_ptr = Signal(range(ns))
        wr_beat = Signal(range(ns // spb))
        push = Signal()
        pop = Signal(range(self.max_pop + 1))
        m.d.comb += [push.eq(beats.r_rdy & (ns - level >= spb)), beats.r_en.eq(push)]
        with m.If(push):
            for b in range(ns // spb):
                with m.If(wr_beat == b):
                    for s in range(spb):
                        m.d.sync += slots[b * spb + s].eq(beats.r_data[s * k:(s + 1) * k])
            m.d.sync += wr_beat.eq(Mux(wr_beat == ns // spb - 1, 0, wr_beat + 1))
        for r in range(cfg.word_slots):
            idx = Signal(range(2 * ns), name=f"idx{r}")
            m.d.comb += idx.eq(rd_ptr + r)
            sel = Signal(range(ns), name=f"sel{r}")
            m.d.comb += sel.eq(Mux(idx >= ns, idx - ns, idx))
            with m.Switch(sel):
                for i in range(ns):
                    with m.Case(i):
                        m.d.comb += self.word[r].eq(slots[i])
        m.d.comb += self.valid.eq(level >= cfg.word_slots)
        with m.If(self.take):
            m.d.comb += pop.eq(Mux(self.block_end, cfg.word_slots + self.pad_slots, cfg.word_slots))
        nxt = Signal(range(2 * ns))
        m.d.comb += nxt.eq(rd_ptr + pop)
        m.d.sync += [rd_ptr.eq(Mux(nxt >= ns, nxt - ns, nxt)), level.eq(level + Mux(push, spb, 0) - pop),
                     reserved.eq(reserved + Mux(req, burst, 0) - push)]
        with m.If(self.restart):
            m.d.sync += [rd_ptr.eq(0), level.eq(0), wr_beat.eq(0), reserved.eq(0)]
        return m
