"""Configuration of the ``xpulpnn`` core, shared by the RTL, the instruction-set simulator and the testbench.

The core has one tightly coupled RAM at ``RAM_BASE`` holding code and data (an instruction port and a data
port). The extension switches decide which custom instructions decode; a disabled extension's instructions
are illegal in the RTL and in the ISS alike.
"""

from __future__ import annotations

import dataclasses

from sw.common.config import EngineConfig, allowed as _allowed

__all__ = ["XpulpNNConfig", "RAM_BASE"]

#: Byte address of the RAM (the riscv-tests and linker-script convention).
RAM_BASE = 0x8000_0000

# key -> allowed values
_KEYS = {
    "ram_kib": (4, 8, 16, 32, 64, 128, 256, 512, 1024),
    "xpulpv2": (True, False),
    "xpulpnn": (True, False),
    "div_cycles": (1, 2, 4, 8, 16, 32),
}


@dataclasses.dataclass(frozen=True)
class XpulpNNConfig(EngineConfig):
    """A validated configuration of the core.

    Parameters
    ----------
    ram_kib : int
        Size of the RAM in KiB (a power of two from 4 to 1024), mapped at ``RAM_BASE``.
    xpulpv2 : bool
        Post-increment loads/stores, hardware loops and the 16/8-bit SIMD dot products.
    xpulpnn : bool
        Nibble/crumb dot products, the NN register file and the MAC&LOAD instructions (needs ``xpulpv2``).
    div_cycles : int
        Cycles a DIV/DIVU/REM/REMU occupies the execute stage (1, 2, 4, 8, 16 or 32): the iterative
        divider produces ``32 // div_cycles`` quotient bits per cycle. Timing only: results do not depend on it.

    Raises
    ------
    ValueError
        If a key is unknown or a value is not allowed; the message names the key and the allowed values.
    """

    ENGINE = "xpulpnn"

    ram_kib: int = 256
    xpulpv2: bool = True
    xpulpnn: bool = True
    div_cycles: int = 32

    def __post_init__(self):
        for key, allowed in _KEYS.items():
            value = getattr(self, key)
            if type(value) not in {type(a) for a in allowed} or value not in allowed:
                raise ValueError(f"{key} must be one of {_allowed(allowed)}, not {value!r}")
        if self.xpulpnn and not self.xpulpv2:
            raise ValueError("xpulpnn=true needs xpulpv2=true (MAC&LOAD builds on the XpulpV2 dot products)")

    @property
    def name(self) -> str:
        ext = "xpulpnn" if self.xpulpnn else "xpulpv2" if self.xpulpv2 else "rv32im"
        return f"{ext}_ram{self.ram_kib}k_div{self.div_cycles}"

    # --- derived -------------------------------------------------------------------------------------
    @property
    def ram_bytes(self) -> int:
        return self.ram_kib * 1024

    @property
    def ram_words_log2(self) -> int:
        """log2 of the RAM depth in 32-bit words (the width of a word address)."""
        return (self.ram_bytes // 4).bit_length() - 1

    @property
    def ram_end(self) -> int:
        """First byte address after the RAM."""
        return RAM_BASE + self.ram_bytes

    @property
    def div_bits_per_cycle(self) -> int:
        """Quotient bits the iterative divider produces per cycle."""
        return 32 // min(self.div_cycles, 32)

    def in_ram(self, addr: int, size: int = 1) -> bool:
        """Whether bytes ``[addr, addr + size)`` lie in the RAM."""
        return RAM_BASE <= addr and addr + size <= self.ram_end
