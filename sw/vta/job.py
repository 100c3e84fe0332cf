"""VTA-specific job checks: the configuration of a job and the static bounds of its LOAD/STORE instructions."""

from __future__ import annotations

import numpy as np

from ..common.job import Job, JobError, INSN_BYTES
from .config import VTAConfig, MemId, Opcode
from .isa import decode_insn, InsnError, MemInsn

__all__ = ["config_of", "validate", "insn_words", "ENGINE"]

ENGINE = "vta"


def config_of(job: Job) -> VTAConfig:
    """The :class:`VTAConfig` of ``job`` (from ``"config"`` or ``"config_file"``, already read by load_job).

    Raises
    ------
    JobError
        If the job is not a VTA job or its configuration is invalid (the message names the key).
    """
    if job.engine != ENGINE:
        raise JobError(f"{job.path}: engine must be {ENGINE!r} for a VTA job, not {job.engine!r}")
    try:
        return VTAConfig.from_dict(job.config)
    except (ValueError, TypeError) as e:
        raise JobError(f"{job.path}: config: {e}") from None


def insn_words(dram: np.ndarray, insn_addr: int, insn_count: int) -> list[int]:
    """The 128-bit instruction words (little-endian) stored at ``insn_addr``."""
    raw = dram[insn_addr:insn_addr + insn_count * INSN_BYTES].tobytes()
    return [int.from_bytes(raw[i:i + INSN_BYTES], "little") for i in range(0, len(raw), INSN_BYTES)]


def _mem_bounds(cfg: VTAConfig, insn: MemInsn, index: int, size: int):
    what = f"instruction {index} ({Opcode.NAMES[insn.opcode]} {MemId.NAMES[insn.memory_type]})"
    if insn.x_size == 0 and insn.opcode == Opcode.LOAD:
        return  # synchronisation no-op: touches nothing
    eb = cfg.elem_bytes(insn.memory_type)
    if insn.y_size > 0 and insn.x_size > 0:
        first = insn.dram_base * eb
        last = (insn.dram_base + (insn.y_size - 1) * insn.x_stride + insn.x_size) * eb
        if last > size:
            raise JobError(f"{what}: dram_base={insn.dram_base}, y_size={insn.y_size}, x_size={insn.x_size}, "
                           f"x_stride={insn.x_stride} touch DRAM bytes [{first}, {last}) outside the image [0, {size})")
    if insn.opcode == Opcode.LOAD:
        rows = insn.y_pad_0 + insn.y_size + insn.y_pad_1
        n = rows * (insn.x_pad_0 + insn.x_size + insn.x_pad_1)
    else:
        n = insn.y_size * insn.x_size
    sram_mem = MemId.ACC if insn.memory_type == MemId.OUT else insn.memory_type
    depth = cfg.sram_depth(sram_mem)
    if insn.sram_base + n > depth:
        raise JobError(f"{what}: sram_base={insn.sram_base} + {n} elements exceeds the "
                       f"{MemId.NAMES[sram_mem]} scratchpad depth {depth}")


def validate(cfg: VTAConfig, job: Job) -> None:
    """Check, before simulation, that instructions and data lie inside the DRAM image and scratchpads.

    Words that fail to decode are skipped: an unknown opcode is reported at run time (status ``error``).

    Raises
    ------
    JobError
        Naming the instruction index and field that falls outside.
    """
    size = job.size
    end = job.insn_addr + job.insn_count * INSN_BYTES
    if job.insn_addr % INSN_BYTES or end > size:
        raise JobError(f"{job.path}: insn range [{job.insn_addr}, {end}) outside the DRAM image [0, {size}) "
                       f"or not {INSN_BYTES}-byte aligned")
    for i, word in enumerate(insn_words(job.dram, job.insn_addr, job.insn_count)):
        try:
            insn = decode_insn(cfg, word, i)
        except InsnError:
            continue
        if isinstance(insn, MemInsn):
            _mem_bounds(cfg, insn, i, size)
