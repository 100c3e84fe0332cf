"""Run CAP operations on the AP emulator (the golden model): the same chunks the RTL runs."""

from __future__ import annotations

from .config import CAPConfig
from .emulator import APEmulator
from .programs import check_inputs, op_chunks, run_generator

__all__ = ["execute_chunk", "run_op"]


def execute_chunk(emu: APEmulator, chunk):
    """Fill the buffers, run the program on a cleared array, return ``(col_out, row_out, counters)``."""
    emu.colbuf[:len(chunk.col_in)] = chunk.col_in
    emu.rowbuf[:len(chunk.row_in)] = chunk.row_in
    counters = emu.run(chunk.program.words(), clear=True)
    c0, cn = chunk.col_out
    r0, rn = chunk.row_out
    return emu.colbuf[c0:c0 + cn].copy(), emu.rowbuf[r0:r0 + rn].copy(), counters


def run_op(cfg: CAPConfig, op, bits, signed, inputs, window=None, emu=None):
    """Check and run one operation on the emulator; returns ``(result, counters, n_chunks)``."""
    arrs = check_inputs(op, bits, signed, inputs, window)
    emu = emu or APEmulator(cfg)
    return run_generator(op_chunks(cfg, op, bits, signed, arrs, window), lambda ch: execute_chunk(emu, ch))
