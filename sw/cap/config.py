"""CAP configuration: the one object shared by the hardware, the runtime, the emulator and the testbench.

A CAP is a CAM array of ``rows`` x ``cols`` bit cells with key/mask/tag registers in both orientations,
a program memory of micro-ops, a column buffer (entries of ``rows`` bits: the bit-sequential port) and a
row buffer (entries of ``cols`` bits: the word-sequential port), filled and drained by a DMA over a 64-bit
memory bus. Every derived width is a property here.
"""

from __future__ import annotations

import dataclasses

from sw.common.config import EngineConfig, allowed as _allowed

__all__ = ["CAPConfig", "BUS_WIDTH", "INDEX_BITS", "MAX_BITS"]

#: Memory bus width of the DMA (bits): one micro-op per bus word.
BUS_WIDTH = 64
#: Width of a row/column index field of a micro-op: arrays are at most 256 x 256.
INDEX_BITS = 8
#: Largest precision M the LUT programs accept.
MAX_BITS = 16

_POW2_64_256 = (64, 128, 256)
# (allowed values, description) per key.
_KEYS = {
    "rows": (_POW2_64_256, "CAM rows (words processed in parallel)"),
    "cols": (_POW2_64_256, "CAM columns (bit positions of all fields of a row)"),
    "prog_depth": ((1024, 2048, 4096, 8192, 16384), "program memory depth in micro-ops"),
    "colbuf_depth": ((64, 128, 256), "column buffer entries (rows bits each)"),
    "rowbuf_depth": ((16, 32, 64, 128, 256), "row buffer entries (cols bits each)"),
    "segmentation": ((False, True), "segmented vertical mode: the row pairs of a tree level moved in parallel"),
}


@dataclasses.dataclass(frozen=True)
class CAPConfig(EngineConfig):
    """A validated CAP configuration.

    Parameters
    ----------
    rows, cols : int
        CAM array size (64, 128 or 256 each).
    prog_depth : int
        Micro-ops the program memory holds.
    colbuf_depth, rowbuf_depth : int
        Entries of the column buffer (``rows`` bits each) and of the row buffer (``cols`` bits each).
    segmentation : bool
        Add the segmented vertical micro-ops SVCMP/SVWR (every segment of 2d rows moves its row d into its
        row 0 at once), so a tree level costs 2 cycles instead of 2 per row pair.

    Raises
    ------
    ValueError
        If a key is unknown or a value is not allowed; the message names the key and the allowed values.
    """

    ENGINE = "CAP"

    rows: int = 64
    cols: int = 128
    prog_depth: int = 8192
    colbuf_depth: int = 256
    rowbuf_depth: int = 64
    segmentation: bool = False

    def __post_init__(self):
        for key, (allowed, what) in _KEYS.items():
            value = getattr(self, key)
            ok = (isinstance(value, bool) if key == "segmentation"
                  else isinstance(value, int) and not isinstance(value, bool))
            if not ok or value not in allowed:
                raise ValueError(f"{key} ({what}) must be one of {_allowed(allowed)}, not {value!r}")

    @property
    def name(self) -> str:
        return f"{self.rows}x{self.cols}_p{self.prog_depth}" + ("_seg" if self.segmentation else "")

    # --- derived widths ------------------------------------------------------------------------------
    @property
    def col_lanes(self) -> int:
        """Bus words per column-buffer entry."""
        return self.rows // BUS_WIDTH

    @property
    def row_lanes(self) -> int:
        """Bus words per row-buffer entry."""
        return self.cols // BUS_WIDTH

    @property
    def pc_bits(self) -> int:
        return (self.prog_depth - 1).bit_length()

    @property
    def colbuf_addr_bits(self) -> int:
        return (self.colbuf_depth - 1).bit_length()

    @property
    def rowbuf_addr_bits(self) -> int:
        return (self.rowbuf_depth - 1).bit_length()
