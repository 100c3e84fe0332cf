"""Store: streams a finished output tile (N_CORES pixels x one k_out tile) to memory, one chunk per write.

The Cores fill one output buffer while this unit drains the other, so output streaming overlaps the next
tile's computation. Pixels outside the image (edge tiles) are not written.
"""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import data, fifo, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import MemBusSignature, log2
from sw.rbe.config import RBEConfig

from .core import OUT_PLANES
from .pass_iter import SIDE_BITS, TILE_BITS

__all__ = ["Store", "TileTag"]

TileTag = data.StructLayout({"ty": SIDE_BITS, "tx": SIDE_BITS, "kot": TILE_BITS, "buf": 1})


class Store(wiring.Component):
    """Output streamer.

    Attributes
    ----------
    wr : Out(write stream of MemBusSignature)
    done_valid : In(1); done_tag : In(TileTag)   a tile's last channel was written into buffer ``tag.buf``
    planes : In(array over Cores of 8 words)      every Core's output planes of buffer ``rd_buf``
    rd_buf : Out(1)
    h_out, w_out : In(16); n_qao : In(2); y_base : In(32)   chunk address of the outputs
    stored : Out(1)      pulse: a tile is in memory
    idle : Out(1)
    """

    def __init__(self, cfg: RBEConfig):
        self.cfg = cfg
        bus = MemBusSignature(cfg.PORT_WIDTH)
        super().__init__({
            "wr": Out(bus.members["wr"].signature),
            "done_valid": In(1), "done_tag": In(TileTag),
            "planes": In(data.ArrayLayout(data.ArrayLayout(cfg.k_tile, OUT_PLANES), cfg.N_CORES)),
            "rd_buf": Out(1),
            "h_out": In(SIDE_BITS), "w_out": In(SIDE_BITS), "n_qao": In(2),
            "y_base": In(32),
            "stored": Out(1), "idle": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        t = cfg.tile
        cpb, lcpb, cb = cfg.chunks_per_beat, log2(cfg.chunks_per_beat), cfg.chunk_bits
        m.submodules.queue = queue = fifo.SyncFIFO(width=TileTag.size, depth=2)
        m.d.comb += [queue.w_data.eq(self.done_tag.as_value()), queue.w_en.eq(self.done_valid)]
        tag = data.View(TileTag, queue.r_data)
        m.d.comb += self.rd_buf.eq(tag.buf)

        pix = Signal(range(cfg.N_CORES))
        q = Signal()
        oh = Signal(range(t))
        ow = Signal(range(t))
        with m.Switch(pix):
            for p in range(cfg.N_CORES):
                with m.Case(p):
                    m.d.comb += [oh.eq(p // t), ow.eq(p % t)]
        h = Signal(SIDE_BITS + 1)
        w = Signal(SIDE_BITS + 1)
        m.d.comb += [h.eq(tag.ty + oh), w.eq(tag.tx + ow)]
        inside = Signal()
        m.d.comb += inside.eq((h < self.h_out) & (w < self.w_out))
        chunk = Signal(48)
        m.d.comb += chunk.eq(self.y_base + ((tag.kot * self.n_qao + q) * self.h_out + h) * self.w_out + w)

        data_chunk = Signal(cb)
        with m.Switch(Cat(q, pix)):
            for p in range(cfg.N_CORES):
                for qq in range(2):
                    with m.Case(qq | (p << 1)):
                        m.d.comb += data_chunk.eq(Cat(*(self.planes[p][4 * qq + b] for b in range(4))))
        slot = Signal(max(lcpb, 1))
        if lcpb:
            m.d.comb += slot.eq(chunk[:lcpb])
        m.d.comb += [self.wr.payload.addr.eq(chunk >> lcpb),
                     self.wr.payload.data.eq(Cat(*([data_chunk] * cpb))),
                     self.wr.payload.strb.eq(Const((1 << cfg.chunk_bytes) - 1, cfg.port_bytes)
                                             << (slot * cfg.chunk_bytes))]

        step = Signal()
        with m.If(queue.r_rdy):
            with m.If(inside):
                m.d.comb += [self.wr.valid.eq(1), step.eq(self.wr.ready)]
            with m.Else():
                m.d.comb += step.eq(1)
        last_q = q == self.n_qao - 1
        with m.If(step):
            m.d.sync += q.eq(q + 1)
            with m.If(last_q):
                m.d.sync += [q.eq(0), pix.eq(pix + 1)]
                with m.If(pix == cfg.N_CORES - 1):
                    m.d.sync += pix.eq(0)
                    m.d.comb += [queue.r_en.eq(1), self.stored.eq(1)]
        m.d.comb += self.idle.eq(~queue.r_rdy)
        return m
