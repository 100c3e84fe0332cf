"""Programs for the core: memory segments + entry point + symbols, read from ELF32 files or built in Python.

The ELF reader is self-contained (``struct`` only): it takes the ``PT_LOAD`` segments and the symbol table
(for ``tohost`` and any data symbol a test wants to read back) and rejects anything outside the RAM map.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from sw.xpulpnn.config import RAM_BASE, XpulpNNConfig

__all__ = ["Program", "ProgramError", "load_elf", "image", "RESULT_STATUSES", "status_of_tohost"]

#: Statuses of result.json.
RESULT_STATUSES = ("pass", "fail", "timeout", "error")


class ProgramError(ValueError):
    """A program that cannot run on the configured core (bad ELF, outside the RAM map...)."""


@dataclass
class Program:
    """An executable image.

    Attributes
    ----------
    segments : list of (int, bytes)
        Byte address and contents of each initialised region (``.bss`` included as zeros).
    entry : int
        Address of the first instruction.
    tohost : int
        Address of the ``tohost`` word (a store of a non-zero value there ends the run).
    symbols : dict
        Symbol name -> (address, size).
    name : str
        Label for reports.
    """

    segments: list
    entry: int
    tohost: int
    symbols: dict = field(default_factory=dict)
    name: str = "program"

    def check(self, cfg: XpulpNNConfig):
        """Raise :class:`ProgramError` unless every segment, the entry and ``tohost`` lie in the RAM."""
        ram = f"the RAM 0x{RAM_BASE:08x}-0x{cfg.ram_end - 1:08x} ({cfg.ram_kib} KiB, config key ram_kib)"
        for addr, data in self.segments:
            if not cfg.in_ram(addr, max(len(data), 1)):
                raise ProgramError(f"{self.name}: segment 0x{addr:08x}-0x{addr + len(data) - 1:08x} "
                                   f"({len(data)} bytes) lies outside {ram}")
        if not cfg.in_ram(self.entry, 4) or self.entry & 3:
            raise ProgramError(f"{self.name}: entry point 0x{self.entry:08x} is not a word address in {ram}")
        if not cfg.in_ram(self.tohost, 4) or self.tohost & 3:
            raise ProgramError(f"{self.name}: tohost 0x{self.tohost:08x} is not a word address in {ram}")
        return self

    def symbol(self, name) -> int:
        """Address of symbol ``name``; ``KeyError`` naming the program otherwise."""
        try:
            return self.symbols[name][0]
        except KeyError:
            raise KeyError(f"{self.name} has no symbol {name!r}") from None


def status_of_tohost(value: int) -> tuple:
    """(status, message) for a value written to ``tohost`` (riscv-tests: 1 pass, odd v fail with test v >> 1)."""
    if value == 1:
        return "pass", ""
    if value & 1:
        return "fail", f"test {value >> 1} failed (tohost = {value})"
    return "fail", f"tohost = {value} (even: not a riscv-tests exit code)"


def image(program: Program, cfg: XpulpNNConfig) -> bytearray:
    """The RAM contents from ``RAM_BASE`` up to the last byte any segment initialises (whole words)."""
    program.check(cfg)
    top = max((a + len(d) for a, d in program.segments), default=RAM_BASE) - RAM_BASE
    buf = bytearray(top + (-top % 4))
    for addr, data in program.segments:
        buf[addr - RAM_BASE:addr - RAM_BASE + len(data)] = data
    return buf


_PT_LOAD = 1
_SHT_SYMTAB = 2
_EM_RISCV = 243


def load_elf(path, cfg: XpulpNNConfig | None = None) -> Program:
    """Read a little-endian ELF32 RISC-V executable.

    Parameters
    ----------
    path : path-like
    cfg : XpulpNNConfig, optional
        When given, the program is checked against the RAM map (:meth:`Program.check`).

    Raises
    ------
    ProgramError
        Not an ELF32 RISC-V executable, no ``tohost`` symbol, or (with ``cfg``) outside the RAM.
    OSError
        The file cannot be read.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:4] != b"\x7fELF":
        raise ProgramError(f"{path}: not an ELF file")
    if raw[4] != 1 or raw[5] != 1:
        raise ProgramError(f"{path}: must be ELF32 little-endian (RV32), not class {raw[4]} data {raw[5]}")
    (e_type, e_machine, _, e_entry, e_phoff, e_shoff, _, _, e_phentsize, e_phnum, e_shentsize, e_shnum,
     _) = struct.unpack_from("<HHIIIIIHHHHHH", raw, 16)
    if e_machine != _EM_RISCV:
        raise ProgramError(f"{path}: machine {e_machine} is not RISC-V ({_EM_RISCV})")
    if e_type != 2:
        raise ProgramError(f"{path}: not an executable (e_type {e_type}); link it first")
    segments = []
    for i in range(e_phnum):
        p_type, p_offset, _, p_paddr, p_filesz, p_memsz, _, _ = struct.unpack_from(
            "<IIIIIIII", raw, e_phoff + i * e_phentsize)
        if p_type != _PT_LOAD or p_memsz == 0:
            continue
        data = raw[p_offset:p_offset + p_filesz] + bytes(p_memsz - p_filesz)
        segments.append((p_paddr, data))
    symbols = {}
    sections = [struct.unpack_from("<IIIIIIIIII", raw, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    for sh in sections:
        if sh[1] != _SHT_SYMTAB:
            continue
        strtab = sections[sh[6]]
        str_off = strtab[4]
        for j in range(sh[5] // 16):
            st_name, st_value, st_size, st_info, _, st_shndx = struct.unpack_from("<IIIBBH", raw, sh[4] + 16 * j)
            if st_name == 0 or st_shndx == 0:
                continue
            end = raw.index(b"\0", str_off + st_name)
            name = raw[str_off + st_name:end].decode(errors="replace")
            if name and not name.startswith(".L") and not name.startswith("$"):
                symbols.setdefault(name, (st_value, st_size))
    prog = Program(segments, e_entry, symbols.get("tohost", (RAM_BASE, 0))[0], symbols, path.name)
    if cfg is not None:
        prog.check(cfg)
    if "tohost" not in symbols:
        raise ProgramError(f"{path}: no 'tohost' symbol (the program cannot report an end of run; "
                           "see sw/xpulpnn/env/riscv_test.h)")
    return prog
