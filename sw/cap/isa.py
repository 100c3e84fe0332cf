"""CAP micro-ops: encoding, decoding and the assembler.

Every micro-op is one 64-bit word and costs one cycle on the hardware:

===========  ==========================================================================================
``CMP``      horizontal compare: ``tag_h[r] = 1`` for every row whose cells at the (up to 4) given columns
             equal the given bits (no field: every row).
``WR``       horizontal write: in every row with ``tag_h`` set, write the given bits into the given columns.
``VCMP``     vertical compare: ``tag_v[c] = 1`` for every column ``lo <= c <= hi`` whose cells at the given
             rows equal the given bits.
``VWR``      vertical write: in every column with ``tag_v`` set, write the given bits into the given rows.
``LDCOL``    bit-sequential write: column ``col`` of every row from column-buffer entry ``entry``.
``SETCOL``   bit-sequential write of a constant: column ``col`` of every row := ``val``.
``RDCOL``    bit-sequential read: column-buffer entry ``entry`` := column ``col``.
``LDROW``    word-sequential write: row ``row`` := row-buffer entry ``entry``.
``RDROW``    word-sequential read: row-buffer entry ``entry`` := row ``row``.
``SVCMP``    segmented vertical compare (configs with ``segmentation``): the rows form segments of 2d rows
             (d = 2^k, ``k`` in field 0); in every segment, tag the columns ``lo..hi`` whose cell in the
             segment's row d is 1 (one vertical tag vector per segment).
``SVWR``     segmented vertical write: in every segment, set row 0 to 1 in the segment's tagged columns.
``NOP``      nothing.
===========  ==========================================================================================

Bit layout (LSB first): ``op`` [3:0]; four fields at [4 + 10k, 14 + 10k): ``en`` (1), ``val`` (1), ``idx`` (8);
``aux`` [44:52] (buffer entry, or ``lo`` of a vertical compare); ``hi`` [52:60]. Single-index micro-ops use
field 0 for the column/row (and its ``val`` for SETCOL).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .config import INDEX_BITS, CAPConfig

__all__ = ["Op", "Uop", "Program", "ProgramError", "N_FIELDS", "encode", "decode", "COUNTER_OF"]

N_FIELDS = 4
FIELD_BITS = 2 + INDEX_BITS
AUX_LSB = 4 + N_FIELDS * FIELD_BITS
HI_LSB = AUX_LSB + INDEX_BITS


class Op:
    NOP = 0
    CMP = 1
    WR = 2
    VCMP = 3
    VWR = 4
    LDCOL = 5
    SETCOL = 6
    RDCOL = 7
    LDROW = 8
    RDROW = 9
    SVCMP = 10
    SVWR = 11
    NAMES = {0: "NOP", 1: "CMP", 2: "WR", 3: "VCMP", 4: "VWR", 5: "LDCOL", 6: "SETCOL", 7: "RDCOL",
             8: "LDROW", 9: "RDROW", 10: "SVCMP", 11: "SVWR"}


#: Which result counter a micro-op increments (the paper's C / W / R); NOP increments none.
COUNTER_OF = {Op.CMP: "compares", Op.VCMP: "compares", Op.WR: "writes", Op.VWR: "writes",
              Op.LDCOL: "writes", Op.SETCOL: "writes", Op.LDROW: "writes", Op.RDCOL: "reads",
              Op.RDROW: "reads", Op.SVCMP: "compares", Op.SVWR: "writes"}


class ProgramError(ValueError):
    """A micro-op or program the CAP cannot run; the message names the field and the allowed values."""


@dataclasses.dataclass(frozen=True)
class Uop:
    """One decoded micro-op: ``fields`` is a tuple of ``(index, bit)``; ``aux``/``hi`` as in the layout."""

    op: int
    fields: tuple = ()
    aux: int = 0
    hi: int = 0

    def __str__(self):
        f = " ".join(f"{i}={b}" for i, b in self.fields)
        return f"{Op.NAMES.get(self.op, self.op)} {f} aux={self.aux} hi={self.hi}"


def encode(u: Uop) -> int:
    w = u.op
    for k, (idx, bit) in enumerate(u.fields):
        w |= (1 | (bit & 1) << 1 | idx << 2) << (4 + k * FIELD_BITS)
    return w | u.aux << AUX_LSB | u.hi << HI_LSB


def decode(word: int) -> Uop:
    word = int(word)
    fields = []
    for k in range(N_FIELDS):
        f = word >> (4 + k * FIELD_BITS) & ((1 << FIELD_BITS) - 1)
        if f & 1:
            fields.append((f >> 2, f >> 1 & 1))
    mask = (1 << INDEX_BITS) - 1
    return Uop(word & 15, tuple(fields), word >> AUX_LSB & mask, word >> HI_LSB & mask)


class Program:
    """Assembler: builds a checked micro-op list for one CAP configuration.

    Parameters
    ----------
    cfg : CAPConfig

    Raises
    ------
    ProgramError
        From every method, for an index outside the array or a buffer, more than 4 fields, a column given
        twice, or (in :meth:`words`) a program longer than the program memory.
    """

    def __init__(self, cfg: CAPConfig):
        self.cfg = cfg
        self.uops: list[Uop] = []

    def __len__(self):
        return len(self.uops)

    def _fields(self, pairs, limit, what):
        pairs = tuple((int(i), int(b)) for i, b in (pairs.items() if isinstance(pairs, dict) else pairs))
        if len(pairs) > N_FIELDS:
            raise ProgramError(f"a micro-op has at most {N_FIELDS} {what} fields, not {len(pairs)}: {pairs}")
        seen = set()
        for i, b in pairs:
            if not 0 <= i < limit:
                raise ProgramError(f"{what} index must be 0..{limit - 1}, not {i}")
            if b not in (0, 1):
                raise ProgramError(f"{what} {i}: bit must be 0 or 1, not {b}")
            if i in seen:
                raise ProgramError(f"{what} {i} appears twice in one micro-op")
            seen.add(i)
        return pairs

    def _idx(self, i, limit, what):
        if not 0 <= int(i) < limit:
            raise ProgramError(f"{what} must be 0..{limit - 1}, not {i}")
        return int(i)

    def cmp(self, fields):
        """Horizontal compare on ``{column: bit}`` (at most 4)."""
        self.uops.append(Uop(Op.CMP, self._fields(fields, self.cfg.cols, "column")))

    def wr(self, fields):
        """Horizontal write of ``{column: bit}`` (at most 4) into the tagged rows."""
        f = self._fields(fields, self.cfg.cols, "column")
        if not f:
            raise ProgramError("a write needs at least one column")
        self.uops.append(Uop(Op.WR, f))

    def pass_(self, search, write):
        """One LUT pass: compare then write (2 cycles)."""
        self.cmp(search)
        self.wr(write)

    def vcmp(self, fields, lo, hi):
        """Vertical compare on ``{row: bit}`` over the columns ``lo..hi``."""
        lo, hi = self._idx(lo, self.cfg.cols, "lo column"), self._idx(hi, self.cfg.cols, "hi column")
        if lo > hi:
            raise ProgramError(f"vertical compare window lo={lo} > hi={hi}")
        self.uops.append(Uop(Op.VCMP, self._fields(fields, self.cfg.rows, "row"), lo, hi))

    def vwr(self, fields):
        """Vertical write of ``{row: bit}`` into the tagged columns."""
        f = self._fields(fields, self.cfg.rows, "row")
        if not f:
            raise ProgramError("a vertical write needs at least one row")
        self.uops.append(Uop(Op.VWR, f))

    def _seg(self, k):
        if not self.cfg.segmentation:
            raise ProgramError("segmented vertical micro-ops need a config with segmentation: true")
        if not 0 <= int(k) < self.cfg.rows.bit_length() - 1:
            raise ProgramError(f"segment distance log2 must be 0..{self.cfg.rows.bit_length() - 2}, not {k}")
        return ((int(k), 0),)

    def svcmp(self, k, lo, hi):
        """Segmented vertical compare: in every segment of 2^(k+1) rows, tag the columns lo..hi set in row 2^k."""
        lo, hi = self._idx(lo, self.cfg.cols, "lo column"), self._idx(hi, self.cfg.cols, "hi column")
        if lo > hi:
            raise ProgramError(f"vertical compare window lo={lo} > hi={hi}")
        self.uops.append(Uop(Op.SVCMP, self._seg(k), lo, hi))

    def svwr(self, k):
        """Segmented vertical write: row 0 of every segment of 2^(k+1) rows := 1 in its tagged columns."""
        self.uops.append(Uop(Op.SVWR, self._seg(k)))

    def ldcol(self, col, entry):
        self.uops.append(Uop(Op.LDCOL, ((self._idx(col, self.cfg.cols, "column"), 0),),
                             self._idx(entry, self.cfg.colbuf_depth, "column-buffer entry")))

    def setcol(self, col, val):
        if val not in (0, 1):
            raise ProgramError(f"SETCOL value must be 0 or 1, not {val!r}")
        self.uops.append(Uop(Op.SETCOL, ((self._idx(col, self.cfg.cols, "column"), val),)))

    def rdcol(self, col, entry):
        self.uops.append(Uop(Op.RDCOL, ((self._idx(col, self.cfg.cols, "column"), 0),),
                             self._idx(entry, self.cfg.colbuf_depth, "column-buffer entry")))

    def ldrow(self, row, entry):
        self.uops.append(Uop(Op.LDROW, ((self._idx(row, self.cfg.rows, "row"), 0),),
                             self._idx(entry, self.cfg.rowbuf_depth, "row-buffer entry")))

    def rdrow(self, row, entry):
        self.uops.append(Uop(Op.RDROW, ((self._idx(row, self.cfg.rows, "row"), 0),),
                             self._idx(entry, self.cfg.rowbuf_depth, "row-buffer entry")))

    def nop(self):
        self.uops.append(Uop(Op.NOP))

    def counts(self) -> dict:
        """``{"cycles", "compares", "writes", "reads"}`` of the program (one cycle per micro-op)."""
        c = {"cycles": len(self.uops), "compares": 0, "writes": 0, "reads": 0}
        for u in self.uops:
            if u.op in COUNTER_OF:
                c[COUNTER_OF[u.op]] += 1
        return c

    def words(self) -> np.ndarray:
        """The encoded program as ``uint64``; ProgramError if it does not fit the program memory."""
        if len(self.uops) > self.cfg.prog_depth:
            raise ProgramError(f"program of {len(self.uops)} micro-ops is longer than the program memory "
                               f"(prog_depth={self.cfg.prog_depth})")
        return np.array([encode(u) for u in self.uops], dtype=np.uint64)
