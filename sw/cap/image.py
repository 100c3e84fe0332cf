"""Packing CAP buffer entries into 64-bit DRAM words and back (lane 0 holds bits 0..63 of an entry)."""

import numpy as np

from .config import BUS_WIDTH

__all__ = ["pack_entries", "unpack_entries"]


def pack_entries(bits: np.ndarray) -> np.ndarray:
    """Bool array (entries, width) -> uint64 words (entries * width / 64), entry-major, lane-minor."""
    bits = np.asarray(bits, bool)
    n, width = bits.shape
    if width % BUS_WIDTH:
        raise ValueError(f"entry width must be a multiple of {BUS_WIDTH}, not {width}")
    if n == 0:
        return np.zeros(0, np.uint64)
    by = np.packbits(bits.reshape(n, -1, 8), axis=-1, bitorder="little").reshape(n, width // 8)
    return by.reshape(-1).view("<u8").copy()


def unpack_entries(words: np.ndarray, width: int) -> np.ndarray:
    """uint64 words -> bool array (entries, width)."""
    by = np.ascontiguousarray(np.asarray(words, "<u8")).view(np.uint8)
    return np.unpackbits(by, bitorder="little").reshape(-1, width).astype(bool)
