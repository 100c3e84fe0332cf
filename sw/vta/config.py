"""VTA configuration: the one object shared by hardware, runtime, golden model and testbenches.

Loaded from VTA's JSON keys (``LOG_INP_WIDTH`` ... ``LOG_ACC_BUFF_SIZE``), plus the Intel-fork keys
``LOG_BLOCK_IN`` / ``LOG_BLOCK_OUT`` and ``BUS_WIDTH``, plus accelgen keys for queue depths. Every derived
width lives here as a property; nothing else in the project recomputes one.
"""

from __future__ import annotations

import dataclasses

from sw.common.config import EngineConfig

__all__ = ["VTAConfig", "MemId", "Opcode", "AluOp", "INSN_BITS", "UOP_BITS", "LOOP_ITER_BITS", "ALU_IMM_BITS"]

INSN_BITS = 128
UOP_BITS = 32
LOOP_ITER_BITS = 14
ALU_IMM_BITS = 16


class Opcode:
    LOAD = 0
    STORE = 1
    GEMM = 2
    FINISH = 3
    ALU = 4
    NAMES = {0: "LOAD", 1: "STORE", 2: "GEMM", 3: "FINISH", 4: "ALU"}


class MemId:
    UOP = 0
    WGT = 1
    INP = 2
    ACC = 3
    OUT = 4
    ACC_8BIT = 5
    NAMES = {0: "UOP", 1: "WGT", 2: "INP", 3: "ACC", 4: "OUT", 5: "ACC_8BIT"}


class AluOp:
    """ALU opcodes. 0-4 are upstream VTA; CLP and MOV are accelgen extensions (docs/vta.md)."""
    MIN = 0
    MAX = 1
    ADD = 2
    SHR = 3
    MUL = 4
    CLP = 5
    MOV = 6
    NAMES = {0: "MIN", 1: "MAX", 2: "ADD", 3: "SHR", 4: "MUL", 5: "CLP", 6: "MOV"}


# (key, default, allowed values). Ranges are what the datapath and the 128-bit encoding support.
_KEYS = {
    "LOG_INP_WIDTH": (3, (3,)),
    "LOG_WGT_WIDTH": (3, (3,)),
    "LOG_ACC_WIDTH": (5, (5,)),
    "LOG_BATCH": (0, range(0, 4)),
    "LOG_BLOCK_IN": (4, range(1, 7)),
    "LOG_BLOCK_OUT": (4, range(1, 7)),
    "LOG_UOP_BUFF_SIZE": (15, range(3, 19)),
    "LOG_INP_BUFF_SIZE": (15, range(4, 24)),
    "LOG_WGT_BUFF_SIZE": (18, range(4, 26)),
    "LOG_ACC_BUFF_SIZE": (17, range(4, 26)),
    "BUS_WIDTH": (64, (64, 128, 256, 512)),
    # accelgen extensions: instruction queue depth between fetch and each module, and the capacity of
    # each dependency-token queue. Both are architectural (they decide when a program deadlocks), so the
    # golden model honours them too.
    "INSN_QUEUE_DEPTH": (64, (8, 16, 32, 64, 128, 256, 512)),
    "TOKEN_QUEUE_DEPTH": (256, (4, 8, 16, 32, 64, 128, 256, 512)),
    # Read bursts the memory master keeps in flight (hardware only; does not change results).
    "MAX_READS_IN_FLIGHT": (8, (1, 2, 4, 8, 16, 32)),
}
# Keys of upstream vta_config.json that describe the software target, not the hardware.
_IGNORED_KEYS = {"TARGET", "HW_VER"}


@dataclasses.dataclass(frozen=True)
class VTAConfig(EngineConfig):
    """A validated VTA configuration.

    Parameters
    ----------
    LOG_INP_WIDTH, LOG_WGT_WIDTH, LOG_ACC_WIDTH : int
        log2 of the input, weight and accumulator element widths in bits.
    LOG_BATCH, LOG_BLOCK_IN, LOG_BLOCK_OUT : int
        log2 of the GEMM tile: BATCH x BLOCK_IN inputs times BLOCK_OUT x BLOCK_IN weights.
    LOG_UOP_BUFF_SIZE, LOG_INP_BUFF_SIZE, LOG_WGT_BUFF_SIZE, LOG_ACC_BUFF_SIZE : int
        log2 of each scratchpad's size in bytes.
    BUS_WIDTH : int
        Data width of the memory master in bits (64, 128, 256 or 512).
    INSN_QUEUE_DEPTH, TOKEN_QUEUE_DEPTH, MAX_READS_IN_FLIGHT : int
        accelgen extensions (see docs/vta.md).

    Raises
    ------
    ValueError
        If a key is unknown, out of range, or the resulting field widths do not fit the 128-bit
        instruction or the 32-bit micro-op. The message names the key and the allowed values.
    """

    ENGINE = "VTA"

    LOG_INP_WIDTH: int = 3
    LOG_WGT_WIDTH: int = 3
    LOG_ACC_WIDTH: int = 5
    LOG_BATCH: int = 0
    LOG_BLOCK_IN: int = 4
    LOG_BLOCK_OUT: int = 4
    LOG_UOP_BUFF_SIZE: int = 15
    LOG_INP_BUFF_SIZE: int = 15
    LOG_WGT_BUFF_SIZE: int = 18
    LOG_ACC_BUFF_SIZE: int = 17
    BUS_WIDTH: int = 64
    INSN_QUEUE_DEPTH: int = 64
    TOKEN_QUEUE_DEPTH: int = 256
    MAX_READS_IN_FLIGHT: int = 8

    def __post_init__(self):
        self.check_int_choices(_KEYS)
        self._check_depth("LOG_UOP_BUFF_SIZE", self.log_uop_depth)
        self._check_depth("LOG_INP_BUFF_SIZE", self.log_inp_depth)
        self._check_depth("LOG_WGT_BUFF_SIZE", self.log_wgt_depth)
        self._check_depth("LOG_ACC_BUFF_SIZE", self.log_acc_depth)
        # The packing limits of spec section 2: a field never straddles bit 64 of the instruction.
        lu, la, li, lw = self.log_uop_depth, self.log_acc_depth, self.log_inp_depth, self.log_wgt_depth
        gemm_lo = 3 + 4 + 1 + lu + (lu + 1) + 2 * LOOP_ITER_BITS
        if gemm_lo > 64:
            raise ValueError(f"LOG_UOP_BUFF_SIZE={self.LOG_UOP_BUFF_SIZE} gives a {lu}-bit uop index and a "
                             f"{gemm_lo}-bit GEMM lower word (must be <= 64): LOG_UOP_BUFF_SIZE must be "
                             f"<= {self.LOG_UOP_BUFF_SIZE - (gemm_lo - 64 + 1) // 2}")
        gemm_hi = 2 * (la + li + lw)
        if gemm_hi > 64:
            raise ValueError(f"LOG_ACC_BUFF_SIZE/LOG_INP_BUFF_SIZE/LOG_WGT_BUFF_SIZE give index widths "
                             f"{la}+{li}+{lw}: the GEMM factor fields need {gemm_hi} bits (must be <= 64)")
        alu_hi = 4 * la + 3 + 1 + ALU_IMM_BITS
        if alu_hi > 64:
            raise ValueError(f"LOG_ACC_BUFF_SIZE={self.LOG_ACC_BUFF_SIZE} gives a {la}-bit acc index: the ALU "
                             f"upper word needs {alu_hi} bits (must be <= 64, so the acc depth must be <= 2^11)")
        uop = la + max(la, li) + lw
        if uop > UOP_BITS:
            raise ValueError(f"LOG_ACC_BUFF_SIZE/LOG_INP_BUFF_SIZE/LOG_WGT_BUFF_SIZE give a {uop}-bit micro-op "
                             f"(acc {la} + src {max(la, li)} + wgt {lw} bits; must be <= {UOP_BITS})")

    def _check_depth(self, key, log_depth):
        # sram_base is a 16-bit field; a scratchpad needs at least 2 entries.
        if not 1 <= log_depth <= 16:
            raise ValueError(f"{key}={getattr(self, key)} gives a scratchpad of 2^{log_depth} elements; "
                             f"the depth must be 2^1..2^16 (sram_base is 16 bits)")

    # --- loading -------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict) -> "VTAConfig":
        if not isinstance(d, dict):
            raise ValueError(f"a VTA config must be a JSON object, not {type(d).__name__}")
        kw = {}
        for key, value in d.items():
            if key in _IGNORED_KEYS:
                continue
            if key == "LOG_BLOCK":
                for k in ("LOG_BLOCK_IN", "LOG_BLOCK_OUT"):
                    if k in d and d[k] != value:
                        raise ValueError(f"LOG_BLOCK={value!r} contradicts {k}={d[k]!r}")
                    kw[k] = value
                continue
            if key not in _KEYS:
                raise ValueError(f"unknown VTA config key {key!r}; allowed keys: LOG_BLOCK, "
                                 + ", ".join(_KEYS))
            kw[key] = value
        return cls(**kw)

    @property
    def name(self) -> str:
        return (f"{self.batch}x{self.block_in}x{self.block_out}_bus{self.BUS_WIDTH}"
                f"_u{self.LOG_UOP_BUFF_SIZE}i{self.LOG_INP_BUFF_SIZE}w{self.LOG_WGT_BUFF_SIZE}a{self.LOG_ACC_BUFF_SIZE}")

    # --- derived widths ------------------------------------------------------------------------------
    @property
    def inp_bits(self): return 1 << self.LOG_INP_WIDTH
    @property
    def wgt_bits(self): return 1 << self.LOG_WGT_WIDTH
    @property
    def acc_bits(self): return 1 << self.LOG_ACC_WIDTH
    @property
    def out_bits(self): return self.inp_bits
    @property
    def batch(self): return 1 << self.LOG_BATCH
    @property
    def block_in(self): return 1 << self.LOG_BLOCK_IN
    @property
    def block_out(self): return 1 << self.LOG_BLOCK_OUT

    # Element (one scratchpad entry) sizes in bits.
    @property
    def uop_elem_bits(self): return UOP_BITS
    @property
    def inp_elem_bits(self): return self.batch * self.block_in * self.inp_bits
    @property
    def wgt_elem_bits(self): return self.block_out * self.block_in * self.wgt_bits
    @property
    def acc_elem_bits(self): return self.batch * self.block_out * self.acc_bits
    @property
    def out_elem_bits(self): return self.batch * self.block_out * self.out_bits

    def elem_bytes(self, mem_id: int) -> int:
        """Bytes of one DRAM element of memory ``mem_id`` (the unit of dram_base and x_stride)."""
        bits = {MemId.UOP: self.uop_elem_bits, MemId.WGT: self.wgt_elem_bits, MemId.INP: self.inp_elem_bits,
                MemId.ACC: self.acc_elem_bits, MemId.OUT: self.out_elem_bits,
                MemId.ACC_8BIT: self.out_elem_bits}[mem_id]
        return bits // 8

    @property
    def log_uop_depth(self): return self.LOG_UOP_BUFF_SIZE - (UOP_BITS // 8).bit_length() + 1
    @property
    def log_inp_depth(self): return self.LOG_INP_BUFF_SIZE - (self.inp_elem_bits // 8).bit_length() + 1
    @property
    def log_wgt_depth(self): return self.LOG_WGT_BUFF_SIZE - (self.wgt_elem_bits // 8).bit_length() + 1
    @property
    def log_acc_depth(self): return self.LOG_ACC_BUFF_SIZE - (self.acc_elem_bits // 8).bit_length() + 1
    @property
    def uop_depth(self): return 1 << self.log_uop_depth
    @property
    def inp_depth(self): return 1 << self.log_inp_depth
    @property
    def wgt_depth(self): return 1 << self.log_wgt_depth
    @property
    def acc_depth(self): return 1 << self.log_acc_depth

    def sram_depth(self, mem_id: int) -> int:
        return {MemId.UOP: self.uop_depth, MemId.WGT: self.wgt_depth, MemId.INP: self.inp_depth,
                MemId.ACC: self.acc_depth, MemId.ACC_8BIT: self.acc_depth}[mem_id]

    @property
    def uop_src_bits(self):
        """Width of the micro-op src field: it indexes inp (GEMM) or acc (ALU)."""
        return max(self.log_acc_depth, self.log_inp_depth)

    @property
    def bus_bytes(self): return self.BUS_WIDTH // 8

    @property
    def macs_per_cycle(self): return self.batch * self.block_in * self.block_out
