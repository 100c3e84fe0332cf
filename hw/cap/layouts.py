"""Bit layouts shared by the CAP's components: the micro-op word and the decoded command.

The micro-op layout mirrors :mod:`sw.cap.isa` (the assembler encodes it; the RTL never re-derives it).
"""

from amaranth.lib import data, enum

from sw.cap.isa import AUX_LSB, HI_LSB, N_FIELDS, Op
from sw.cap.config import INDEX_BITS

__all__ = ["UopLayout", "Kind", "FieldLayout"]

FieldLayout = data.StructLayout({"en": 1, "val": 1, "idx": INDEX_BITS})

UopLayout = data.StructLayout({
    "op": 4,
    "fields": data.ArrayLayout(FieldLayout, N_FIELDS),
    "aux": INDEX_BITS,
    "hi": INDEX_BITS,
    "pad": 64 - HI_LSB - INDEX_BITS,
})
assert UopLayout["aux"].offset == AUX_LSB and UopLayout["hi"].offset == HI_LSB


class Kind(enum.Enum, shape=4):
    """What the array does in a cycle (the micro-op's opcode; CLEAR is the start command's clear)."""
    NOP = Op.NOP
    CMP = Op.CMP
    WR = Op.WR
    VCMP = Op.VCMP
    VWR = Op.VWR
    LDCOL = Op.LDCOL
    SETCOL = Op.SETCOL
    RDCOL = Op.RDCOL
    LDROW = Op.LDROW
    RDROW = Op.RDROW
    SVCMP = Op.SVCMP
    SVWR = Op.SVWR
    CLEAR = 15
