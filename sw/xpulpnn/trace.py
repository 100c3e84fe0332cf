"""Commit traces: the format shared by the ISS and the RTL's tracer, and the first-divergence finder.

One line per retired instruction::

    80000104 00c58533 x10=0000002a
    80000108 0045a50b x11=80000204 x10=00000007        (post-increment: rs1 first, then rd)
    8000010c f915f577 x11=80000208 x10=000001f4 nn2=01020304
    80000110 00a5a023 m80000200.4=0000002a

Register writes to x0 are not listed; ``m<addr>.<size>=<value>`` is a store (value masked to its size).
Reads of mcycle/cycle depend on timing, so their destination value is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from sw.xpulpnn.isa import CSR, disasm

__all__ = ["Divergence", "first_divergence", "format_divergence"]


@dataclass
class Divergence:
    """Where two traces first differ (``index`` counts retired instructions from 0)."""

    index: int
    expected: str | None
    actual: str | None
    context: list

    def __str__(self):
        return format_divergence(self)


def _timing_read(line):
    parts = line.split()
    if len(parts) < 2:
        return False
    word = int(parts[1], 16)
    return (word & 0x7F) == 0x73 and (word >> 12) & 7 and (word >> 20) in CSR.TIMING


def _canon(line):
    if _timing_read(line):
        return " ".join(line.split()[:2]) + " <timing csr>"
    return line.strip()


def first_divergence(expected, actual, context=3):
    """First index where the traces differ, or ``None`` when they are identical.

    Parameters
    ----------
    expected, actual : list of str
        Trace lines (e.g. ISS and RTL).
    context : int
        Matching lines to keep before the divergence.
    """
    n = max(len(expected), len(actual))
    for i in range(n):
        a = expected[i] if i < len(expected) else None
        b = actual[i] if i < len(actual) else None
        if a is None or b is None or _canon(a) != _canon(b):
            return Divergence(i, a, b, expected[max(0, i - context):i])
    return None


def _describe(line):
    if line is None:
        return "(trace ended)"
    parts = line.split()
    try:
        return f"{line}    # {disasm(int(parts[1], 16), int(parts[0], 16))}"
    except (IndexError, ValueError):
        return line


def format_divergence(d: Divergence, names=("iss", "rtl")) -> str:
    lines = [f"first divergence at retired instruction {d.index}:"]
    lines += [f"      {_describe(c)}" for c in d.context]
    lines.append(f"  {names[0]}: {_describe(d.expected)}")
    lines.append(f"  {names[1]}: {_describe(d.actual)}")
    return "\n".join(lines)
