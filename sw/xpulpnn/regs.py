"""The xpulpnn "register map": its CSR table.

The core has no host register block (no bus a host writes to start it): a run starts at reset from the entry
point and ends when the program writes ``tohost``; what a host sees are the top's ports (``halted``,
``error``, ``stop_pc``, ``tohost_value``, ``cycle``, ``instret``). Its registers are the machine-mode CSRs the
program reads and writes, so the table here lists them once, by number, for the docs (docs/xpulpnn.md), the
manifest and the results' counter names; :class:`hw.xpulpnn.csr.CsrFile` implements exactly these (a test
checks the two agree), and any other CSR number reads as zero and ignores writes.
"""

from __future__ import annotations

import dataclasses

from sw.xpulpnn.isa import CSR

__all__ = ["Csr", "CSRS", "COUNTERS", "markdown", "manifest", "implemented"]


@dataclasses.dataclass(frozen=True)
class Csr:
    """One CSR: name, number, access (``rw``, ``ro``), width, whether it needs XpulpV2, meaning."""

    name: str
    number: int
    access: str
    doc: str
    xpulpv2: bool = False
    width: int = 32


CSRS = (
    Csr("mstatus", CSR.MSTATUS, "rw", "bit 3 MIE, bit 7 MPIE held; MPP (12:11) reads 3 (machine mode only)"),
    Csr("misa", CSR.MISA, "ro", f"0x{CSR.MISA_VALUE:08X}: RV32, I, M and X (non-standard extensions)"),
    Csr("mtvec", CSR.MTVEC, "rw", "trap vector (direct mode)"),
    Csr("mscratch", CSR.MSCRATCH, "rw", "scratch"),
    Csr("mepc", CSR.MEPC, "rw", "pc of the trapping instruction (bits 1:0 read 0)"),
    Csr("mcause", CSR.MCAUSE, "rw", "trap cause (3 breakpoint, 11 ecall from M)"),
    Csr("mtval", CSR.MTVAL, "rw", "written by the program only (traps leave it)"),
    Csr("mcycle", CSR.MCYCLE, "ro", "cycles since reset, low word (writes ignored); the result's cycles"),
    Csr("mcycleh", CSR.MCYCLEH, "ro", "cycles since reset, high word"),
    Csr("minstret", CSR.MINSTRET, "ro", "instructions retired, low word (counts the reading instruction)"),
    Csr("minstreth", CSR.MINSTRETH, "ro", "instructions retired, high word"),
    Csr("cycle", CSR.CYCLE, "ro", "user alias of mcycle"),
    Csr("cycleh", CSR.CYCLEH, "ro", "user alias of mcycleh"),
    Csr("instret", CSR.INSTRET, "ro", "user alias of minstret"),
    Csr("instreth", CSR.INSTRETH, "ro", "user alias of minstreth"),
    Csr("lpstart0", CSR.LPSTART0, "rw", "hardware loop 0 (inner) start address", True),
    Csr("lpend0", CSR.LPEND0, "rw", "hardware loop 0 end: address of the last body instruction", True),
    Csr("lpcount0", CSR.LPCOUNT0, "rw", "hardware loop 0 iterations left", True),
    Csr("lpstart1", CSR.LPSTART1, "rw", "hardware loop 1 (outer) start address", True),
    Csr("lpend1", CSR.LPEND1, "rw", "hardware loop 1 end", True),
    Csr("lpcount1", CSR.LPCOUNT1, "rw", "hardware loop 1 iterations left", True),
)

#: Counter CSR -> result counter: ``counters`` of every result (cycles and retired instructions).
COUNTERS = {"mcycle": "cycles", "minstret": "instret"}


def implemented(xpulpv2: bool = True) -> dict:
    """``{number: name}`` of the CSRs a core with/without XpulpV2 implements."""
    return {c.number: c.name for c in CSRS if xpulpv2 or not c.xpulpv2}


def manifest() -> list[dict]:
    """The CSR table as JSON-able rows (``accelgen verilog``'s manifest)."""
    return [{"name": c.name, "number": c.number, "access": c.access, "width": c.width,
             "needs": "xpulpv2" if c.xpulpv2 else "", "doc": c.doc} for c in CSRS]


def markdown() -> str:
    """The docs table (Markdown)."""
    rows = ["| number | name | access | width | needs | meaning |", "|---|---|---|---|---|---|"]
    for c in CSRS:
        rows.append(f"| 0x{c.number:03X} | {c.name} | {c.access} | {c.width} | {'XpulpV2' if c.xpulpv2 else ''} "
                    f"| {c.doc} |")
    return "\n".join(rows) + "\n"
