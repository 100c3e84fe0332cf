"""Systolic-array configuration: the one object shared by hardware, runtime, golden model and testbenches.

Keys (plain JSON integers):

============== ======================================================================================
``R``          PE rows: the reduction dimension (input channels x decomposed filter positions)
``C``          PE columns: output channels computed at once
``W``          word size in elements: one vector-memory word holds ``W`` 32-bit elements
``MEM_DEPTH``  words per vector memory (one single-port SRAM per PE row / column)
``ACC_DEPTH``  int32 accumulators per column (stream positions of one fold)
``WGT_DEPTH``  folds whose weights each per-row weight bank holds
``MAX_TILES``  cap on multi-tile packing for small C_I (1 turns it off)
============== ======================================================================================

Every derived width lives here as a property; nothing else in the project recomputes one.
"""

from __future__ import annotations

import dataclasses

from sw.common.config import EngineConfig

__all__ = ["SystolicConfig", "ELEM_BITS", "IN_BITS", "ACC_BITS"]

#: Width of one vector-memory element (TPU v2: 4-byte elements). int8 inputs are stored sign-extended.
ELEM_BITS = 32
#: Operand width of the PEs (int8 inputs and weights).
IN_BITS = 8
#: Accumulator width (int32).
ACC_BITS = 32

_POW2 = lambda lo, hi: tuple(1 << k for k in range(lo, hi + 1))  # noqa: E731

# (default, allowed values)
_KEYS = {
    "R": (16, range(2, 129)),
    "C": (16, range(2, 129)),
    "W": (8, _POW2(0, 5)),
    "MEM_DEPTH": (4096, _POW2(6, 20)),
    "ACC_DEPTH": (4096, _POW2(4, 16)),
    "WGT_DEPTH": (1024, _POW2(2, 16)),
    "MAX_TILES": (8, range(1, 129)),
}


def _bits(n: int) -> int:
    """Bits to hold the values 0..n (at least 1)."""
    return max(1, int(n).bit_length())


@dataclasses.dataclass(frozen=True)
class SystolicConfig(EngineConfig):
    """A validated weight-stationary systolic-array configuration.

    Parameters
    ----------
    R, C : int
        PE rows and columns (2..128).
    W : int
        Word size: elements per vector-memory word, a power of two 1..32.
    MEM_DEPTH : int
        Words per vector memory, a power of two 2^6..2^20.
    ACC_DEPTH : int
        int32 accumulator entries per column, a power of two 2^4..2^16.
    WGT_DEPTH : int
        Folds held by each per-row weight bank, a power of two 2^2..2^16.
    MAX_TILES : int
        Largest number of multi-tile copies (1..128; 1 disables multi-tile).

    Raises
    ------
    ValueError
        If a key is unknown or out of range; the message names the key and the allowed values.
    """

    ENGINE = "systolic"

    R: int = 16
    C: int = 16
    W: int = 8
    MEM_DEPTH: int = 4096
    ACC_DEPTH: int = 4096
    WGT_DEPTH: int = 1024
    MAX_TILES: int = 8

    def __post_init__(self):
        self.check_int_choices(_KEYS)

    @property
    def name(self) -> str:
        return (f"{self.R}x{self.C}_w{self.W}_m{self.MEM_DEPTH}_a{self.ACC_DEPTH}_g{self.WGT_DEPTH}"
                f"_t{self.MAX_TILES}")

    # --- derived widths ------------------------------------------------------------------------------
    @property
    def n_mems(self) -> int:
        """Vector memories: memory m feeds PE row m (m < R) and takes column m's results (m < C)."""
        return max(self.R, self.C)

    @property
    def word_bits(self) -> int:
        return self.W * ELEM_BITS

    @property
    def lane_bits(self) -> int:
        """Bits of a lane index (0 when W == 1)."""
        return (self.W - 1).bit_length()

    @property
    def mem_addr_bits(self) -> int:
        return (self.MEM_DEPTH - 1).bit_length()

    @property
    def acc_addr_bits(self) -> int:
        return (self.ACC_DEPTH - 1).bit_length()

    @property
    def wgt_addr_bits(self) -> int:
        return (self.WGT_DEPTH - 1).bit_length()

    @property
    def wgt_word_bits(self) -> int:
        """One weight-bank word: the int8 weights of one PE row for one fold."""
        return self.C * IN_BITS

    @property
    def bus_width(self) -> int:
        """DMA bus width: one bus word carries one vector-memory word or one weight-bank word."""
        need = max(32, self.word_bits, self.wgt_word_bits)
        return 1 << (need - 1).bit_length()

    @property
    def count_bits(self) -> int:
        """Width of the loop counters and strides of the sequencer (memory addresses and loop trip counts)."""
        return max(self.mem_addr_bits, self.acc_addr_bits, self.wgt_addr_bits) + 1

    @property
    def drain(self) -> int:
        """Cycles the sequencer waits after issuing the last position, until its result is in the vector memory:
        memory read and serializer (3), skew to row R-1 and column C-1, accumulator, de-serializer, write slot."""
        return self.R + self.C + 5

    @property
    def macs_per_cycle(self) -> int:
        return self.R * self.C
