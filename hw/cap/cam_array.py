"""CAMArray: the 2D content-addressable array with its tag registers (horizontal and vertical).

Every cycle it performs at most one of: a horizontal compare (tags the rows whose masked cells equal the
key), a horizontal write (key bits into the masked columns of the tagged rows), a vertical compare (tags the
columns of a window whose masked rows equal the vertical key), a vertical write (vertical key bits into the
masked rows of the tagged columns), a column load/constant/read (bit-sequential port), a row load/read
(word-sequential port), or a clear of the whole array. With segmentation, a segmented vertical compare
tags, in every segment of 2d rows, the window columns set in the segment's row d (one tag vector per
segment), and a segmented vertical write sets those columns in the segment's row 0.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .layouts import Kind

__all__ = ["CAMArray"]


class CAMArray(wiring.Component):
    """A ``rows`` x ``cols`` CAM with horizontal tags (one per row) and vertical tags (one per column).

    Parameters
    ----------
    cfg : sw.cap.config.CAPConfig

    Attributes
    ----------
    kind : In(Kind)
        The operation of this cycle.
    key_h, mask_h : In(cols)
        Horizontal key and mask registers (a one-hot ``mask_h`` selects the column of LDCOL/SETCOL/RDCOL;
        SETCOL's constant is ``key_h``).
    key_v, mask_v : In(rows)
        Vertical key and mask registers (a one-hot ``mask_v`` selects the row of LDROW/RDROW).
    window : In(cols)
        Columns a vertical compare may tag.
    col_in : In(rows)
        Column-buffer entry for LDCOL.
    row_in : In(cols)
        Row-buffer entry for LDROW.
    col_out : Out(rows)
        The column selected by ``mask_h`` (bit-sequential read).
    row_out : Out(cols)
        The row selected by ``mask_v`` (word-sequential read).
    seg_k : In(3)
        log2 of the segment half-size d of SVCMP/SVWR (configs with segmentation).
    tag_h : Out(rows)
    tag_v : Out(cols)
    """

    def __init__(self, cfg):
        self.cfg = cfg
        super().__init__({
            "kind": In(Kind),
            "key_h": In(cfg.cols), "mask_h": In(cfg.cols),
            "key_v": In(cfg.rows), "mask_v": In(cfg.rows),
            "window": In(cfg.cols),
            "col_in": In(cfg.rows), "row_in": In(cfg.cols), "seg_k": In(3),
            "col_out": Out(cfg.rows), "row_out": Out(cfg.cols),
            "tag_h": Out(cfg.rows), "tag_v": Out(cfg.cols),
        })

    def elaborate(self, platform):
        m = Module()
        R, C = self.cfg.rows, self.cfg.cols
        cells = [Signal(C, name=f"row{r}") for r in range(R)]
        ones = (1 << C) - 1
        k = self.kind

        # Reads: AND-OR through the one-hot selects (no wide multiplexers).
        m.d.comb += self.col_out.eq(Cat((cells[r] & self.mask_h).any() for r in range(R)))
        row_sel = 0
        for r in range(R):
            row_sel = row_sel | (cells[r] & self.mask_v[r].replicate(C))
        m.d.comb += self.row_out.eq(row_sel)

        # Horizontal compare: a row matches when no masked cell differs from the key.
        with m.If(k == Kind.CMP):
            m.d.sync += self.tag_h.eq(Cat(((cells[r] ^ self.key_h) & self.mask_h) == 0 for r in range(R)))

        # Vertical compare: a column matches when no masked row differs from its key bit.
        mismatch = 0
        for r in range(R):
            mismatch = mismatch | (self.mask_v[r].replicate(C) & (cells[r] ^ self.key_v[r].replicate(C)))
        with m.If(k == Kind.VCMP):
            m.d.sync += self.tag_v.eq(self.window & ~mismatch)

        # Segmented vertical mode: row r is the base of a segment of 2^(k+1) rows when r % 2^(k+1) == 0;
        # its tag vector lives with it (only even rows can be bases).
        seg_base = {}
        if self.cfg.segmentation:
            for r in range(0, R, 2):
                ks = [j for j in range(R.bit_length() - 1) if r % (2 << j) == 0]
                is_base = Cat(self.seg_k == j for j in ks).any()
                source = 0
                for j in ks:
                    source = source | Mux(self.seg_k == j, cells[r + (1 << j)], 0)
                tag = Signal(C, name=f"stag{r}")
                with m.If(k == Kind.SVCMP):
                    m.d.sync += tag.eq(Mux(is_base, source & self.window, 0))
                seg_base[r] = (is_base, tag)

        # Writes: every kind of write is "cells <- key where mask" with a per-row key and mask.
        for r in range(R):
            wmask = Signal(C, name=f"wmask{r}")
            wkey = Signal(C, name=f"wkey{r}")
            with m.Switch(k):
                with m.Case(Kind.WR):
                    m.d.comb += [wmask.eq(self.mask_h & self.tag_h[r].replicate(C)), wkey.eq(self.key_h)]
                with m.Case(Kind.SETCOL):
                    m.d.comb += [wmask.eq(self.mask_h), wkey.eq(self.key_h)]
                with m.Case(Kind.LDCOL):
                    m.d.comb += [wmask.eq(self.mask_h), wkey.eq(self.col_in[r].replicate(C))]
                with m.Case(Kind.VWR):
                    m.d.comb += [wmask.eq(self.tag_v & self.mask_v[r].replicate(C)),
                                 wkey.eq(self.key_v[r].replicate(C))]
                with m.Case(Kind.LDROW):
                    m.d.comb += [wmask.eq(self.mask_v[r].replicate(C)), wkey.eq(self.row_in)]
                with m.Case(Kind.CLEAR):
                    m.d.comb += [wmask.eq(ones), wkey.eq(0)]
                if r in seg_base:
                    with m.Case(Kind.SVWR):
                        is_base, tag = seg_base[r]
                        m.d.comb += [wmask.eq(Mux(is_base, tag, 0)), wkey.eq(ones)]
            m.d.sync += cells[r].eq((cells[r] & ~wmask) | (wkey & wmask))
        return m
