"""Functional associative-processor emulator: the golden model of the CAP, written from the spec.

It executes the same encoded micro-ops as the hardware, on a boolean ``rows x cols`` array with a
horizontal tag per row and a vertical tag per column (spec section 1: compare tags every row whose masked
cells equal the key, an empty mask tags every row; a write sets the key bits in the masked cells of every
tagged row). It counts cycles (one per micro-op), compares, writes and reads.
"""

from __future__ import annotations

import numpy as np

from .config import CAPConfig
from .isa import COUNTER_OF, Op, ProgramError, decode

__all__ = ["APEmulator"]


class APEmulator:
    """A CAP's state: the array, the tags, the column and row buffers.

    Parameters
    ----------
    cfg : CAPConfig

    Attributes
    ----------
    cells : numpy.ndarray of bool, shape (rows, cols)
    tag_h : numpy.ndarray of bool, shape (rows,)
    tag_v : numpy.ndarray of bool, shape (cols,)
    colbuf : numpy.ndarray of bool, shape (colbuf_depth, rows)
    rowbuf : numpy.ndarray of bool, shape (rowbuf_depth, cols)
    counters : dict
        ``cycles``, ``compares``, ``writes``, ``reads`` of the last :meth:`run`.
    """

    def __init__(self, cfg: CAPConfig):
        self.cfg = cfg
        self.cells = np.zeros((cfg.rows, cfg.cols), bool)
        self.tag_h = np.zeros(cfg.rows, bool)
        self.tag_v = np.zeros(cfg.cols, bool)
        self.colbuf = np.zeros((cfg.colbuf_depth, cfg.rows), bool)
        self.rowbuf = np.zeros((cfg.rowbuf_depth, cfg.cols), bool)
        self.tag_s = np.zeros((cfg.rows, cfg.cols), bool)      # segmented tags, one vector per segment
        self.counters = {}

    def clear(self):
        """Zero the array (what the start command's clear flag does)."""
        self.cells[:] = False

    def run(self, words, *, clear=True):
        """Execute encoded micro-ops; returns the counters.

        Raises
        ------
        ProgramError
            For a program longer than the program memory, an unknown opcode or an index outside the
            array or a buffer (naming the micro-op's position).
        """
        cfg = self.cfg
        words = np.asarray(words, dtype=np.uint64)
        if len(words) > cfg.prog_depth:
            raise ProgramError(f"program of {len(words)} micro-ops is longer than the program memory "
                               f"(prog_depth={cfg.prog_depth})")
        if clear:
            self.clear()
        c = {"cycles": 0, "compares": 0, "writes": 0, "reads": 0}
        cells = self.cells
        for pc, w in enumerate(words):
            u = decode(int(w))
            try:
                self._step(u, cells)
            except IndexError:
                raise ProgramError(f"micro-op {pc} ({u}): index outside the array or a buffer") from None
            c["cycles"] += 1
            if u.op in COUNTER_OF:
                c[COUNTER_OF[u.op]] += 1
        self.counters = c
        return c

    def _step(self, u, cells):
        cfg = self.cfg
        op = u.op
        if op == Op.CMP:
            match = np.ones(cfg.rows, bool)
            for col, bit in u.fields:
                match &= cells[:, self._chk(col, cfg.cols)] == bool(bit)
            self.tag_h = match
        elif op == Op.WR:
            for col, bit in u.fields:
                cells[self.tag_h, self._chk(col, cfg.cols)] = bool(bit)
        elif op == Op.VCMP:
            match = np.zeros(cfg.cols, bool)
            match[self._chk(u.aux, cfg.cols):self._chk(u.hi, cfg.cols) + 1] = True
            for row, bit in u.fields:
                match &= cells[self._chk(row, cfg.rows), :] == bool(bit)
            self.tag_v = match
        elif op == Op.VWR:
            for row, bit in u.fields:
                cells[self._chk(row, cfg.rows), self.tag_v] = bool(bit)
        elif op == Op.LDCOL:
            cells[:, self._chk(u.fields[0][0], cfg.cols)] = self.colbuf[self._chk(u.aux, cfg.colbuf_depth)]
        elif op == Op.SETCOL:
            col, bit = u.fields[0]
            cells[:, self._chk(col, cfg.cols)] = bool(bit)
        elif op == Op.RDCOL:
            self.colbuf[self._chk(u.aux, cfg.colbuf_depth)] = cells[:, self._chk(u.fields[0][0], cfg.cols)]
        elif op == Op.LDROW:
            cells[self._chk(u.fields[0][0], cfg.rows), :] = self.rowbuf[self._chk(u.aux, cfg.rowbuf_depth)]
        elif op == Op.RDROW:
            self.rowbuf[self._chk(u.aux, cfg.rowbuf_depth)] = cells[self._chk(u.fields[0][0], cfg.rows), :]
        elif op in (Op.SVCMP, Op.SVWR) and cfg.segmentation:
            d = 1 << u.fields[0][0]
            if 2 * d > cfg.rows:
                raise IndexError(d)
            if op == Op.SVCMP:
                window = np.zeros(cfg.cols, bool)
                window[self._chk(u.aux, cfg.cols):self._chk(u.hi, cfg.cols) + 1] = True
                self.tag_s = cells[d::2 * d] & window          # one row per segment: its row d
            else:
                cells[::2 * d] |= self.tag_s
        elif op != Op.NOP:
            raise ProgramError(f"unknown opcode {op}; opcodes: {Op.NAMES}")

    @staticmethod
    def _chk(i, limit):
        if not 0 <= i < limit:
            raise IndexError(i)
        return i
