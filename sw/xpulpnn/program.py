"""Programs for the core: memory segments + entry point + symbols, read from ELF32 files or built in Python.

The ELF reader is self-contained (``struct`` only): it takes the ``PT_LOAD`` segments and the symbol table
(for ``tohost`` and any data symbol a test wants to read back) and rejects anything outside the RAM map.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from sw.common.contract import BadInput, read_bytes
from sw.xpulpnn.config import RAM_BASE, XpulpNNConfig

__all__ = ["Program", "ProgramError", "load_elf", "image", "RESULT_STATUSES", "status_of_tohost"]

#: Statuses of result.json.
RESULT_STATUSES = ("pass", "fail", "timeout", "error")


class ProgramError(BadInput):
    """A program that cannot run on the configured core (bad ELF, outside the RAM map...): bad input (exit 2)."""


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


#: Largest memory image an ELF segment may ask for: the largest RAM of any config (1 MiB).
MAX_SEGMENT_BYTES = 1 << 20


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
        (a :class:`~sw.common.contract.BadInput`) A missing, empty, truncated or non-ELF file, an ELF for
        another architecture or class, no ``tohost`` symbol, a segment or table outside the file, or (with
        ``cfg``) a program outside the RAM; the message names the file.
    """
    path = Path(path)
    try:
        raw = read_bytes(path, "ELF file")
    except BadInput as e:
        raise ProgramError(str(e)) from None
    if raw[:4] != b"\x7fELF":
        raise ProgramError(f"{path}: not an ELF file (it does not start with 0x7f 'ELF')")
    if len(raw) < 52:
        raise ProgramError(f"{path}: truncated ELF: {len(raw)} bytes, the ELF32 header alone has 52")
    if raw[4] != 1 or raw[5] != 1:
        raise ProgramError(f"{path}: must be ELF32 little-endian (RV32), not class {raw[4]} data {raw[5]}")
    try:
        return _parse_elf(path, raw, cfg)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError) as e:
        if isinstance(e, ProgramError):
            raise
        raise ProgramError(f"{path}: truncated or corrupt ELF ({e})") from None


def _parse_elf(path, raw, cfg):
    (e_type, e_machine, _, e_entry, e_phoff, e_shoff, _, _, e_phentsize, e_phnum, e_shentsize, e_shnum,
     _) = struct.unpack_from("<HHIIIIIHHHHHH", raw, 16)
    if e_machine != _EM_RISCV:
        raise ProgramError(f"{path}: machine {e_machine} is not RISC-V ({_EM_RISCV}): an ELF for another "
                           "architecture")
    if e_type != 2:
        raise ProgramError(f"{path}: not an executable (e_type {e_type}); link it first")
    if e_phnum and (e_phentsize < 32 or e_phoff + e_phnum * e_phentsize > len(raw)):
        raise ProgramError(f"{path}: truncated ELF: the program headers ({e_phnum} at {e_phoff}) end past the "
                           f"file's {len(raw)} bytes")
    if e_shnum and (e_shentsize < 40 or e_shoff + e_shnum * e_shentsize > len(raw)):
        raise ProgramError(f"{path}: truncated ELF: the section headers ({e_shnum} at {e_shoff}) end past the "
                           f"file's {len(raw)} bytes")
    segments = []
    for i in range(e_phnum):
        p_type, p_offset, _, p_paddr, p_filesz, p_memsz, _, _ = struct.unpack_from(
            "<IIIIIIII", raw, e_phoff + i * e_phentsize)
        if p_type != _PT_LOAD or p_memsz == 0:
            continue
        if p_offset + p_filesz > len(raw):
            raise ProgramError(f"{path}: truncated ELF: segment {i} (bytes {p_offset}..{p_offset + p_filesz}) ends "
                               f"past the file's {len(raw)} bytes")
        if p_filesz > p_memsz or p_memsz > MAX_SEGMENT_BYTES:
            raise ProgramError(f"{path}: segment {i} at 0x{p_paddr:08x} asks for {p_memsz:,} bytes of memory; "
                               f"at most {MAX_SEGMENT_BYTES:,} (the largest RAM) and not less than its "
                               f"{p_filesz:,} file bytes")
        data = raw[p_offset:p_offset + p_filesz] + bytes(p_memsz - p_filesz)
        segments.append((p_paddr, data))
    symbols = {}
    sections = [struct.unpack_from("<IIIIIIIIII", raw, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    for sh in sections:
        if sh[1] != _SHT_SYMTAB:
            continue
        if sh[6] >= len(sections) or sh[4] + sh[5] > len(raw):
            raise ProgramError(f"{path}: truncated or corrupt ELF: the symbol table lies outside the file")
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
    if not segments:
        raise ProgramError(f"{path}: the ELF has no loadable segment")
    if cfg is not None:
        prog.check(cfg)
    if "tohost" not in symbols:
        raise ProgramError(f"{path}: no 'tohost' symbol (the program cannot report an end of run; "
                           "see sw/xpulpnn/env/riscv_test.h)")
    return prog
