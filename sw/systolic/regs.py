"""The systolic engine's host registers: one table behind the hardware register block
(:class:`hw.common.regfile.RegisterFile`), the testbench accessors, the manifest and docs/systolic.md.

32-bit words at byte offsets. One start bit runs either the array (the sequencer descriptor) or the DMA (the
``dma_*`` command), as ``target`` says; every start clears the counters, so the host reads the array's counters
after an array run and ``dma_cycles`` after a DMA command. The descriptor registers are ``cfg.count_bits`` wide
(:func:`register_map`); :data:`REGS` is the map of the default configuration (offsets and names are the same for
every configuration).
"""

from __future__ import annotations

from ..common.regs import Reg, RegisterMap
from .config import SystolicConfig

__all__ = ["REGS", "register_map", "DESCRIPTOR_FIELDS", "DMA_FIELDS", "COUNTERS", "TARGET_ARRAY", "TARGET_DMA",
           "BUSY_BITS", "GAP_MAX"]

#: Sequencer descriptor registers in register-map order (values: ``sw.systolic.schedule.Run.regs``).
DESCRIPTOR_FIELDS = ("nco", "nkh", "nkw", "ncf", "ng", "nhb", "nwb", "g_stride", "y_stride", "x_stride",
                     "kh_stride", "kw_stride", "cf_stride", "out_base", "out_co_stride")
_DESCRIPTOR_DOCS = {
    "nco": "output-channel folds", "nkh": "filter rows", "nkw": "filter columns (tiles)",
    "ncf": "input-channel folds", "ng": "groups (batch x output-row blocks)", "nhb": "output rows per group",
    "nwb": "output columns", "g_stride": "word step per group", "y_stride": "word step per output row",
    "x_stride": "word step per output column (the stride)", "kh_stride": "word step per filter row",
    "kw_stride": "word step per filter column", "cf_stride": "word step per input-channel fold",
    "out_base": "first result word in the vector memories", "out_co_stride": "result words per output fold"}
#: DMA command registers (``dma_<name>``): memory ``m`` word ``mem_addr + i`` <-> DRAM word
#: ``dram_addr + m * words + i`` for ``n_mems`` memories; flags bit 0 weight banks, bit 1 store to DRAM.
DMA_FIELDS = ("dram_addr", "words", "n_mems", "mem_addr", "flags")
_DMA_DOCS = {"dram_addr": "first DRAM word", "words": "words per memory", "n_mems": "memories (from 0)",
             "mem_addr": "first memory word", "flags": "bit 0: weight banks (else vector memories); bit 1: store"}
TARGET_ARRAY, TARGET_DMA = 0, 1
#: Bits of the ``busy`` status word.
BUSY_BITS = {"array": 0, "dma": 1}
#: The read-gap word saturates here (any gap >= W is "once every W cycles or less often").
GAP_MAX = 63


def register_map(cfg: SystolicConfig) -> RegisterMap:
    """The register table of ``cfg`` (descriptor registers ``cfg.count_bits`` wide)."""
    n = cfg.count_bits
    return RegisterMap("systolic", [
        Reg("ctrl", 0x00, "ctrl", doc="write 1: start what `target` names; read: bit 0 running, bit 1 done, "
                                      "bit 2 error (a de-serializer word was lost)"),
        *(Reg(f, 4 * (1 + i), "rw", n, doc=f"descriptor: {_DESCRIPTOR_DOCS[f]}")
          for i, f in enumerate(DESCRIPTOR_FIELDS)),
        *(Reg(f"dma_{f}", 4 * (16 + i), "rw", doc=f"DMA: {_DMA_DOCS[f]}") for i, f in enumerate(DMA_FIELDS)),
        Reg("target", 0x54, "rw", 1, doc="what a start runs: 0 the array (descriptor), 1 the DMA command"),
        Reg("cycles", 0x80, "counter", doc="array cycles from start to done (the DMA's are in dma_cycles)"),
        Reg("pe_busy", 0x84, "counter", 64, inc_width=(cfg.R * cfg.C).bit_length(),
            doc="PE-cycles with a valid operand"),
        Reg("mem_reads", 0x8C, "counter", inc_width=cfg.n_mems.bit_length(), doc="vector-memory word reads"),
        Reg("mem_writes", 0x90, "counter", inc_width=cfg.n_mems.bit_length(),
            doc="result words written into the vector memories"),
        Reg("port_conflicts", 0x94, "counter", inc_width=cfg.n_mems.bit_length(),
            doc="memory-cycles with a read and a write (0 when W >= 2)"),
        Reg("min_read_gap", 0x98, "status", 6, doc=f"fewest cycles between two reads of one vector memory "
                                                   f"(saturates at {GAP_MAX}; cleared by an array start)"),
        Reg("wgt_reads", 0x9C, "counter", inc_width=cfg.R.bit_length(), doc="weight-bank row reads"),
        Reg("dma_cycles", 0xA0, "counter", doc="cycles the DMA was busy"),
        Reg("acc_writes", 0xA4, "counter", inc_width=cfg.C.bit_length(), doc="partial sums written back"),
        Reg("results", 0xA8, "counter", inc_width=cfg.C.bit_length(), doc="finished outputs (int32)"),
        Reg("busy", 0xAC, "status", 2, doc="bit 0: the array is busy; bit 1: the DMA is busy"),
    ])


#: The map of the default configuration (docs, manifest of the default; offsets are the same for every config).
REGS = register_map(SystolicConfig())
#: Counter names in every result's ``counters`` (hardware registers), plus ``min_read_gap`` (a status word).
COUNTERS = tuple(REGS.counters()) + ("min_read_gap",)
