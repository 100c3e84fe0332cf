"""VTA instruction and micro-op encoding (HW_VER 0.0.2, spec section 2).

The field tables here are the single definition of the bit layout. The Python encoder/decoder below
uses them, and the hardware builds its ``lib.data`` layouts from the same tables
(``hw.vta.layouts``), so software and RTL cannot disagree on a bit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .config import (VTAConfig, Opcode, MemId, AluOp, LOOP_ITER_BITS, ALU_IMM_BITS, INSN_BITS)

__all__ = ["Field", "mem_fields", "store_fields", "gemm_fields", "alu_fields", "uop_fields",
           "MemInsn", "GemmInsn", "AluInsn", "FinishInsn", "Uop", "decode_insn", "encode_program",
           "InsnError", "PAD_MIN_BIT", "RQ_SHIFT_MAX",
           "MULSHR_ROUND_BIT", "mulshr_imm", "mulshr_params"]

# accelgen extension: LOAD bit 58 (unused in 0.0.2) pads with the minimum value instead of 0.
PAD_MIN_BIT = 58
# accelgen extension: STORE bits [63:58] (unused in 0.0.2) requantise in the store path:
# [58] rq_en, [59] rq_relu, [63:60] rq_shift (docs/vta-isa-extensions.md).
RQ_SHIFT_MAX = 15
# accelgen extension: an ALU MUL with the (for ALU otherwise unused) ``reset`` bit set is MULSHR:
# dst = low32((dst * operand + (2**(sh-1) if rnd else 0)) >> sh) on the exact 64-bit product, with
# sh = imm[5:0] and rnd = imm[6] (docs/vta-isa-extensions.md). The operand is acc[src] (or sext(imm) as usual).
MULSHR_ROUND_BIT = 6


def mulshr_imm(shift: int, rnd: bool) -> int:
    """The immediate of a MULSHR: shift 0..63 in bits [5:0], rounding in bit 6."""
    if not isinstance(shift, int) or not 0 <= shift <= 63:
        raise InsnError(f"MULSHR: shift must be an integer in 0..63, not {shift!r}")
    return shift | (int(bool(rnd)) << MULSHR_ROUND_BIT)


def mulshr_params(imm: int) -> tuple:
    """``(shift, rnd)`` of a MULSHR immediate."""
    return imm & 63, bool((imm >> MULSHR_ROUND_BIT) & 1)


class InsnError(ValueError):
    """An instruction that cannot be encoded or decoded; the message names the field."""


@dataclass(frozen=True)
class Field:
    name: str
    offset: int
    width: int
    signed: bool = False


def _pack(spec, start=0):
    """Lay fields out one after another from ``start``; a field that would cross bit 64 starts at 64."""
    fields, pos = [], start
    for name, width, *signed in spec:
        if pos < 64 < pos + width:
            pos = 64
        fields.append(Field(name, pos, width, bool(signed and signed[0])))
        pos += width
    if pos > INSN_BITS:
        raise InsnError(f"fields {[n for n, *_ in spec]} need {pos} bits")
    return fields


_HEADER = [("opcode", 3), ("pop_prev", 1), ("pop_next", 1), ("push_prev", 1), ("push_next", 1)]


def mem_fields(cfg: VTAConfig):
    return _pack(_HEADER + [("memory_type", 3), ("sram_base", 16), ("dram_base", 32)]) + [
        Field("pad_min", PAD_MIN_BIT, 1)] + _pack(
        [("y_size", 16), ("x_size", 16), ("x_stride", 16),
         ("y_pad_0", 4), ("y_pad_1", 4), ("x_pad_0", 4), ("x_pad_1", 4)], start=64)


def store_fields(cfg: VTAConfig):
    """STORE: the LOAD/STORE layout with the requantisation extension in place of ``pad_min``."""
    return [f for f in mem_fields(cfg) if f.name != "pad_min"] + [
        Field("rq_en", PAD_MIN_BIT, 1), Field("rq_relu", PAD_MIN_BIT + 1, 1), Field("rq_shift", PAD_MIN_BIT + 2, 4)]


def _loop_fields(cfg: VTAConfig):
    return _pack(_HEADER + [("reset", 1), ("uop_bgn", cfg.log_uop_depth), ("uop_end", cfg.log_uop_depth + 1),
                            ("iter_out", LOOP_ITER_BITS), ("iter_in", LOOP_ITER_BITS)])


def gemm_fields(cfg: VTAConfig):
    la, li, lw = cfg.log_acc_depth, cfg.log_inp_depth, cfg.log_wgt_depth
    return _loop_fields(cfg) + _pack(
        [("dst_factor_out", la), ("dst_factor_in", la), ("src_factor_out", li), ("src_factor_in", li),
         ("wgt_factor_out", lw), ("wgt_factor_in", lw)], start=64)


def alu_fields(cfg: VTAConfig):
    la = cfg.log_acc_depth
    return _loop_fields(cfg) + _pack(
        [("dst_factor_out", la), ("dst_factor_in", la), ("src_factor_out", la), ("src_factor_in", la),
         ("alu_opcode", 3), ("use_imm", 1), ("imm", ALU_IMM_BITS, True)], start=64)


def uop_fields(cfg: VTAConfig):
    return [Field("dst", 0, cfg.log_acc_depth),
            Field("src", cfg.log_acc_depth, cfg.uop_src_bits),
            Field("wgt", cfg.log_acc_depth + cfg.uop_src_bits, cfg.log_wgt_depth)]


def _encode(fields, values: dict, what: str) -> int:
    word = 0
    for f in fields:
        v = values.get(f.name, 0)
        if isinstance(v, bool):
            v = int(v)
        lo, hi = (-(1 << (f.width - 1)), (1 << (f.width - 1)) - 1) if f.signed else (0, (1 << f.width) - 1)
        if not isinstance(v, int) or not lo <= v <= hi:
            raise InsnError(f"{what}: field {f.name} must be an integer in {lo}..{hi} ({f.width} bits), not {v!r}")
        word |= (v & ((1 << f.width) - 1)) << f.offset
    return word


def _decode(fields, word: int) -> dict:
    out = {}
    for f in fields:
        v = (word >> f.offset) & ((1 << f.width) - 1)
        if f.signed and v >> (f.width - 1):
            v -= 1 << f.width
        out[f.name] = v
    return out


@dataclass(frozen=True)
class _Insn:
    pop_prev: bool = False
    pop_next: bool = False
    push_prev: bool = False
    push_next: bool = False

    def fields(self, cfg):  # pragma: no cover - overridden
        raise NotImplementedError

    def encode(self, cfg: VTAConfig) -> int:
        values = dataclasses.asdict(self)
        values["opcode"] = self.OPCODE
        return _encode(self.fields(cfg), values, type(self).__name__)

    def to_bytes(self, cfg: VTAConfig) -> bytes:
        return self.encode(cfg).to_bytes(16, "little")


@dataclass(frozen=True)
class MemInsn(_Insn):
    """LOAD (opcode 0) or STORE (opcode 1).

    ``pad_min`` exists for LOAD only; ``rq_en``/``rq_relu``/``rq_shift`` (fused requantisation) for STORE only.
    """
    opcode: int = Opcode.LOAD
    memory_type: int = MemId.INP
    sram_base: int = 0
    dram_base: int = 0
    pad_min: bool = False
    y_size: int = 0
    x_size: int = 0
    x_stride: int = 0
    y_pad_0: int = 0
    y_pad_1: int = 0
    x_pad_0: int = 0
    x_pad_1: int = 0
    rq_en: bool = False
    rq_relu: bool = False
    rq_shift: int = 0

    @property
    def OPCODE(self):
        return self.opcode

    def fields(self, cfg):
        if self.opcode == Opcode.STORE:
            if self.pad_min:
                raise InsnError("MemInsn: pad_min is a LOAD field; a STORE must leave it False")
            return store_fields(cfg)
        if self.rq_en or self.rq_relu or self.rq_shift:
            raise InsnError("MemInsn: rq_en/rq_relu/rq_shift are STORE fields; a LOAD must leave them 0")
        return mem_fields(cfg)


@dataclass(frozen=True)
class _LoopInsn(_Insn):
    reset: bool = False
    uop_bgn: int = 0
    uop_end: int = 0
    iter_out: int = 1
    iter_in: int = 1
    dst_factor_out: int = 0
    dst_factor_in: int = 0
    src_factor_out: int = 0
    src_factor_in: int = 0


@dataclass(frozen=True)
class GemmInsn(_LoopInsn):
    OPCODE = Opcode.GEMM
    wgt_factor_out: int = 0
    wgt_factor_in: int = 0

    def fields(self, cfg):
        return gemm_fields(cfg)


@dataclass(frozen=True)
class AluInsn(_LoopInsn):
    OPCODE = Opcode.ALU
    alu_opcode: int = AluOp.ADD
    use_imm: bool = False
    imm: int = 0

    def fields(self, cfg):
        return alu_fields(cfg)


@dataclass(frozen=True)
class FinishInsn(_Insn):
    OPCODE = Opcode.FINISH

    def fields(self, cfg):
        return _pack(_HEADER)


@dataclass(frozen=True)
class Uop:
    dst: int = 0
    src: int = 0
    wgt: int = 0

    def encode(self, cfg: VTAConfig) -> int:
        return _encode(uop_fields(cfg), dataclasses.asdict(self), "Uop")

    @classmethod
    def decode(cls, cfg: VTAConfig, word: int) -> "Uop":
        return cls(**_decode(uop_fields(cfg), word))


def decode_insn(cfg: VTAConfig, word: int, index: int | None = None):
    """Decode a 128-bit instruction word.

    Raises
    ------
    InsnError
        For an unknown opcode, memory type or ALU opcode; the message carries the instruction index.
    """
    where = f"instruction {index}" if index is not None else "instruction"
    opcode = word & 7
    flags = _decode(_pack(_HEADER), word)
    if opcode in (Opcode.LOAD, Opcode.STORE):
        d = _decode(store_fields(cfg) if opcode == Opcode.STORE else mem_fields(cfg), word)
        d.pop("opcode")
        bools = ("pop_prev", "pop_next", "push_prev", "push_next", "pad_min", "rq_en", "rq_relu")
        insn = MemInsn(opcode=opcode, **{k: (bool(v) if k in bools else v) for k, v in d.items()})
        allowed = (MemId.UOP, MemId.WGT, MemId.INP, MemId.ACC, MemId.ACC_8BIT) if opcode == Opcode.LOAD else (MemId.OUT,)
        if insn.memory_type not in allowed:
            raise InsnError(f"{where}: {Opcode.NAMES[opcode]} memory_type {insn.memory_type} is not one of "
                            + ", ".join(f"{MemId.NAMES[m]} {m}" for m in allowed))
        pads = {k: getattr(insn, k) for k in ("y_pad_0", "y_pad_1", "x_pad_0", "x_pad_1")}
        if opcode == Opcode.STORE and any(pads.values()):
            raise InsnError(f"{where}: STORE with a non-zero pad field ("
                            + ", ".join(f"{k}={v}" for k, v in pads.items() if v) + "); STORE pads must be 0")
        return insn
    if opcode in (Opcode.GEMM, Opcode.ALU):
        cls = GemmInsn if opcode == Opcode.GEMM else AluInsn
        d = _decode(cls.fields(cls, cfg), word)
        d.pop("opcode")
        for k in ("pop_prev", "pop_next", "push_prev", "push_next", "reset", "use_imm"):
            if k in d:
                d[k] = bool(d[k])
        insn = cls(**d)
        if opcode == Opcode.ALU and insn.alu_opcode not in AluOp.NAMES:
            raise InsnError(f"{where}: ALU alu_opcode {insn.alu_opcode} is not one of "
                            + ", ".join(f"{n} {v}" for v, n in AluOp.NAMES.items()))
        return insn
    if opcode == Opcode.FINISH:
        return FinishInsn(**{k: bool(v) for k, v in flags.items() if k != "opcode"})
    raise InsnError(f"{where}: unknown opcode {opcode} (allowed: "
                    + ", ".join(f"{n} {v}" for v, n in Opcode.NAMES.items()) + ")")


def encode_program(cfg: VTAConfig, insns) -> bytes:
    return b"".join(i.to_bytes(cfg) for i in insns)
