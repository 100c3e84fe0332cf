"""PatchLoader: the stationary input-patch buffer (two of them) and the loads that fill it.

While the Cores compute on one patch, the next pass's patch is loaded into the other buffer, so input loads
overlap computation (the reference loads and computes in turn and loses ~27% of its cycles to it).
A patch is ``P x P`` pixel chunks (P = tile + 2 in 3x3 mode, tile in 1x1 mode); one chunk holds the 4
bit-planes of one pixel, one k_in tile and one activation tile. Each patch row is one read burst; every
beat carries ``chunks_per_beat`` consecutive chunks of the row (docs/rbe.md, activation layout).
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, fifo, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import ReadPortSignature, log2, word_addr_bits
from sw.rbe.config import RBEConfig

from .pass_iter import SIDE_BITS, TILE_BITS, PassIter

__all__ = ["PatchLoader"]


class PatchLoader(wiring.Component):
    """Double-buffered input patch.

    Attributes
    ----------
    rd : Out(ReadPortSignature)      reads of the activation region
    restart : In(1)                  start of a job (also empties both buffers)
    mode_1x1 : In(1); height, width, h_out, w_out : In(16); n_kot, n_kit : In(12); n_q : In(2)
    x_base : In(32)                  chunk address of the activations (byte address / chunk bytes)
    patch : Out(array of P*P chunks) the buffer the Cores compute on (row-major)
    ready : Out(1)                   that buffer holds the current pass's patch
    release : In(1)                  the Cores are done with it (the loader may refill it)
    """

    def __init__(self, cfg: RBEConfig):
        self.cfg = cfg
        self.p = cfg.patch_max
        super().__init__({
            "rd": Out(ReadPortSignature(cfg.PORT_WIDTH)),
            "restart": In(1), "mode_1x1": In(1),
            "height": In(SIDE_BITS), "width": In(SIDE_BITS), "h_out": In(SIDE_BITS), "w_out": In(SIDE_BITS),
            "n_kot": In(TILE_BITS), "n_kit": In(TILE_BITS), "n_q": In(2),
            "x_base": In(32),
            "patch": Out(data.ArrayLayout(cfg.chunk_bits, cfg.patch_max * cfg.patch_max)),
            "ready": Out(1), "release": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg, p = self.cfg, self.p
        cpb = cfg.chunks_per_beat
        lcpb = log2(cpb)
        cb = cfg.chunk_bits

        m.submodules.iter = it = PassIter(cfg.tile)
        for name in ("h_out", "w_out", "n_kot", "n_kit", "n_q"):
            m.d.comb += getattr(it, name).eq(getattr(self, name))
        m.d.comb += it.restart.eq(self.restart)

        bufs = [[Signal(cb, name=f"buf{b}_{i}") for i in range(p * p)] for b in range(2)]
        full = Signal(2)
        cbuf = Signal()        # buffer the Cores read
        lbuf = Signal()        # buffer being loaded
        for i in range(p * p):
            m.d.comb += self.patch[i].eq(Mux(cbuf, bufs[1][i], bufs[0][i]))
        m.d.comb += self.ready.eq(full.bit_select(cbuf, 1))

        # ---- requests: one burst per patch row inside the image ------------------------------------
        rows = Signal(range(p + 1))
        m.d.comb += rows.eq(Mux(self.mode_1x1, cfg.tile, cfg.tile + 2))
        r = Signal(range(p + 1))
        h = Signal(SIDE_BITS + 1)
        m.d.comb += h.eq(it.ty + r)
        ncols = Signal(range(p + 1))
        avail = Signal(SIDE_BITS + 1)
        m.d.comb += [avail.eq(self.width - it.tx), ncols.eq(Mux(avail < rows, avail, rows))]
        plane = Signal(TILE_BITS + 2)
        m.d.comb += plane.eq(it.kit * self.n_q + it.q)
        chunk = Signal(48)
        m.d.comb += chunk.eq(self.x_base + (plane * self.height + h) * self.width + it.tx)
        off = Signal(lcpb) if lcpb else None
        if lcpb:
            m.d.comb += off.eq(chunk[:lcpb])
        beat_addr = Signal(word_addr_bits(cfg.PORT_WIDTH))
        m.d.comb += beat_addr.eq(chunk >> lcpb)
        last_beat = Signal(8)
        m.d.comb += last_beat.eq(((off if lcpb else 0) + ncols - 1) >> lcpb)

        row_info = data.StructLayout({"row": range(p), "off": max(lcpb, 1), "n": range(p + 1)})
        m.submodules.rows_fifo = rows_fifo = fifo.SyncFIFOBuffered(width=row_info.size, depth=8)
        outstanding = Signal(range(p + 2))
        issue = Signal()
        done_row = Signal()

        m.d.comb += [self.rd.rd_req.payload.addr.eq(beat_addr), self.rd.rd_req.payload.len.eq(last_beat)]
        info_w = data.View(row_info, rows_fifo.w_data)
        m.d.comb += [info_w.row.eq(r), info_w.n.eq(ncols)]
        if lcpb:
            m.d.comb += info_w.off.eq(off)

        with m.FSM(name="load"):
            with m.State("WAIT"):
                m.d.sync += r.eq(0)
                with m.If(~self.restart & ~it.done & ~full.bit_select(lbuf, 1)):
                    m.next = "ISSUE"
            with m.State("ISSUE"):
                with m.If(r == rows):
                    m.next = "DRAIN"
                with m.Elif(h >= self.height):
                    m.d.sync += r.eq(r + 1)
                with m.Else():
                    m.d.comb += [self.rd.rd_req.valid.eq(rows_fifo.w_rdy), issue.eq(self.rd.rd_req.ready
                                                                                     & rows_fifo.w_rdy)]
                    with m.If(issue):
                        m.d.sync += r.eq(r + 1)
            with m.State("DRAIN"):
                with m.If((outstanding == 0) & ~done_row):
                    m.d.sync += [full.bit_select(lbuf, 1).eq(1), lbuf.eq(~lbuf)]
                    m.d.comb += it.advance.eq(1)
                    m.next = "WAIT"
        m.d.comb += rows_fifo.w_en.eq(issue)
        m.d.sync += outstanding.eq(outstanding + issue - done_row)

        # ---- responses: scatter each beat's chunks to the columns they belong to -------------------------
        head = data.View(row_info, rows_fifo.r_data)
        kb = Signal(8)         # beat index inside the row's burst
        m.d.comb += self.rd.rd_resp.ready.eq(1)
        beat = self.rd.rd_resp.payload.data
        fire = self.rd.rd_resp.valid & rows_fifo.r_rdy
        m.d.comb += [done_row.eq(fire & self.rd.rd_resp.payload.last), rows_fifo.r_en.eq(done_row)]
        with m.If(fire):
            m.d.sync += kb.eq(Mux(self.rd.rd_resp.payload.last, 0, kb + 1))
        for j in range(p):
            g = Signal(lcpb + 4, name=f"g{j}")
            m.d.comb += g.eq((head.off if lcpb else 0) + j)
            col = Signal(cb, name=f"col{j}")
            slots = [beat[s * cb:(s + 1) * cb] for s in range(cpb)]
            m.d.comb += col.eq(slots[0])
            for s in range(1, cpb):
                with m.If(g[:lcpb] == s):
                    m.d.comb += col.eq(slots[s])
            we = Signal(name=f"we{j}")
            m.d.comb += we.eq(fire & (j < head.n) & ((g >> lcpb) == kb))
            for rr in range(p):
                for b in range(2):
                    with m.If(we & (head.row == rr) & (lbuf == b)):
                        m.d.sync += bufs[b][rr * p + j].eq(col)

        with m.If(self.release):
            m.d.sync += [full.bit_select(cbuf, 1).eq(0), cbuf.eq(~cbuf)]
        with m.If(self.restart):
            m.d.sync += [full.eq(0), cbuf.eq(0), lbuf.eq(0)]
        return m
