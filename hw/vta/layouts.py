"""``lib.data`` layouts of VTA instructions and micro-ops, built from the field tables of sw.vta.isa.

The tables are the single definition of the bit layout; building the hardware layouts from them keeps
the RTL decoder and the software encoder bit-identical for every configuration.
"""

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from sw.vta.config import INSN_BITS, UOP_BITS, VTAConfig
from sw.vta import isa

__all__ = ["TraceWriteLayout", "mem_layout", "store_layout", "gemm_layout", "alu_layout", "uop_layout", "QueuedInsn"]


def _layout(size, fields):
    return data.FlexibleLayout(size, {
        f.name: data.Field(signed(f.width) if f.signed else unsigned(f.width), f.offset) for f in fields})


def mem_layout(cfg: VTAConfig):
    return _layout(INSN_BITS, isa.mem_fields(cfg))


def store_layout(cfg: VTAConfig):
    return _layout(INSN_BITS, isa.store_fields(cfg))


def gemm_layout(cfg: VTAConfig):
    return _layout(INSN_BITS, isa.gemm_fields(cfg))


def alu_layout(cfg: VTAConfig):
    return _layout(INSN_BITS, isa.alu_fields(cfg))


def uop_layout(cfg: VTAConfig):
    return _layout(UOP_BITS, isa.uop_fields(cfg))


#: Width of the instruction index that travels with each instruction (for error and hang reports).
INDEX_BITS = 32


def QueuedInsn():
    """What fetch puts into a module's instruction queue: the raw word and its position in the stream."""
    return data.StructLayout({"insn": INSN_BITS, "index": INDEX_BITS})


def TraceWriteLayout(addr_bits, data_bits):
    """One scratchpad write as seen by the trace ports (simulation builds only)."""
    return data.StructLayout({"en": 1, "addr": addr_bits, "data": data_bits})
