"""Register maps as tables: one declaration per engine generates its hardware, its testbench accessors and its docs.

An engine lists its host registers once, in ``sw/<engine>/regs.py``, as a :class:`RegisterMap` of :class:`Reg`
rows. From that table

- :class:`hw.common.regfile.RegisterFile` builds the register block (decoder, storage, counters);
- the testbenches read and write registers by name (:meth:`RegisterMap.offset`), and read every counter
  (:meth:`RegisterMap.counters`) into the result's ``counters``;
- ``accelgen verilog`` puts :meth:`RegisterMap.manifest` into the manifest's memory map;
- the docs show :meth:`RegisterMap.markdown`.

Kinds
-----
``ctrl``
    The control/status word (one per map): writing bit 0 starts the engine (a one-cycle ``launch`` pulse);
    reading gives bit 0 running, bit 1 done, bit 2 error.
``rw``
    Written by the host, read back, driven into the engine (job parameters, base addresses).
``status``
    Read-only, driven by the engine (error codes, debug words).
``counter``
    Read-only, kept in the register block: while the engine runs it adds its ``count_<name>`` input
    (``inc_width`` bits; ``inc_width=0`` counts every running cycle). A 64-bit counter takes two words
    (``offset`` low, ``offset + 4`` high).
``peak``
    Read-only, kept in the register block: the largest ``count_<name>`` seen while running.

``clear_on_start`` (counters, peaks and status words held by the engine) says whether a start clears it.
"""

from __future__ import annotations

import dataclasses

__all__ = ["Reg", "RegisterMap", "KINDS", "CTRL_BITS"]

KINDS = ("ctrl", "rw", "status", "counter", "peak")
#: Port names of the generated RegisterFile that a register may not take.
_PORTS = ("host", "launch", "running", "finish", "error")
#: Bits of the ``ctrl`` word when read.
CTRL_BITS = {"running": 0, "done": 1, "error": 2}


@dataclasses.dataclass(frozen=True)
class Reg:
    """One host register.

    Parameters
    ----------
    name : str
        Python identifier; also the port name on the register block and the counter name in results.
    offset : int
        Byte offset, a multiple of 4.
    kind : str
        One of :data:`KINDS`.
    width : int
        Stored bits: 1..32, or 64 for a counter (two words).
    doc : str
        One line for the docs table.
    clear_on_start : bool
        Counters and peaks: cleared when the engine starts (default True).
    inc_width : int
        Counters and peaks: width of the ``count_<name>`` input (0 = count running cycles).
    """

    name: str
    offset: int
    kind: str
    width: int = 32
    doc: str = ""
    clear_on_start: bool = True
    inc_width: int = 1

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"register name must be an identifier, not {self.name!r}")
        if not isinstance(self.offset, int) or self.offset < 0 or self.offset % 4:
            raise ValueError(f"register {self.name}: offset must be a non-negative multiple of 4, not {self.offset!r}")
        if self.kind not in KINDS:
            raise ValueError(f"register {self.name}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        wide = self.kind == "counter" and self.width == 64
        if not (wide or 1 <= self.width <= 32):
            raise ValueError(f"register {self.name}: width must be 1..32 (or 64 for a counter), not {self.width!r}")
        if self.kind in ("counter", "peak") and not 0 <= self.inc_width <= self.width:
            raise ValueError(f"register {self.name}: inc_width must be 0..{self.width}, not {self.inc_width!r}")
        if self.kind == "peak" and self.inc_width == 0:
            raise ValueError(f"register {self.name}: a peak needs inc_width >= 1")

    @property
    def words(self) -> int:
        """Bus words the register occupies (2 for a 64-bit counter)."""
        return 2 if self.width == 64 else 1

    @property
    def access(self) -> str:
        """``"rw"`` for the host-writable kinds, ``"ro"`` otherwise."""
        return "rw" if self.kind in ("ctrl", "rw") else "ro"


class RegisterMap:
    """An engine's register table.

    Parameters
    ----------
    engine : str
        Engine name (docs, errors).
    regs : iterable of Reg
        The rows; offsets must not overlap, names must be unique, exactly one ``ctrl`` row.

    Raises
    ------
    ValueError
        Naming the offending register.
    """

    def __init__(self, engine: str, regs):
        self.engine = engine
        self.regs = tuple(regs)
        names, words = set(), {}
        for r in self.regs:
            if r.name in names:
                raise ValueError(f"{engine} register map: duplicate name {r.name!r}")
            names.add(r.name)
            for w in range(r.words):
                a = r.offset + 4 * w
                if a in words:
                    raise ValueError(f"{engine} register map: {r.name} at 0x{a:02X} overlaps {words[a]}")
                words[a] = r.name
        ctrls = [r for r in self.regs if r.kind == "ctrl"]
        if len(ctrls) != 1:
            raise ValueError(f"{engine} register map: needs exactly one ctrl register, has {len(ctrls)}")
        for r in self.regs:
            if r.name in _PORTS or r.name.startswith("count_"):
                raise ValueError(f"{engine} register map: name {r.name!r} clashes with a RegisterFile port "
                                 f"({', '.join(_PORTS)}, count_*)")
        self._by_name = {r.name: r for r in self.regs}

    def __iter__(self):
        return iter(self.regs)

    def __getitem__(self, name) -> Reg:
        return self._by_name[name]

    def __contains__(self, name) -> bool:
        return name in self._by_name

    @property
    def ctrl(self) -> Reg:
        return next(r for r in self.regs if r.kind == "ctrl")

    def offset(self, name: str) -> int:
        """Byte offset of register ``name``; ``KeyError`` naming the known registers otherwise."""
        try:
            return self._by_name[name].offset
        except KeyError:
            raise KeyError(f"{self.engine} has no register {name!r}; registers: {', '.join(self._by_name)}") from None

    def of_kind(self, *kinds) -> list[Reg]:
        return [r for r in self.regs if r.kind in kinds]

    def counters(self) -> list[str]:
        """Names of the counters and peaks, in table order: the ``counters`` of every result."""
        return [r.name for r in self.of_kind("counter", "peak")]

    @property
    def span(self) -> int:
        """Bytes of address space the map covers (last word + 4)."""
        return max(r.offset + 4 * r.words for r in self.regs)

    @property
    def addr_bits(self) -> int:
        return max(1, (self.span - 1).bit_length())

    def manifest(self) -> list[dict]:
        """The memory map as JSON-able rows (``accelgen verilog``'s manifest)."""
        return [{"name": r.name, "offset": r.offset, "access": r.access, "kind": r.kind, "width": r.width,
                 "clear_on_start": r.clear_on_start if r.kind in ("counter", "peak") else False, "doc": r.doc}
                for r in self.regs]

    def markdown(self) -> str:
        """The docs table (Markdown)."""
        rows = ["| offset | name | access | width | cleared on start | meaning |", "|---|---|---|---|---|---|"]
        for r in self.regs:
            off = f"0x{r.offset:02X}" + (f"/0x{r.offset + 4:02X}" if r.words == 2 else "")
            clr = "yes" if r.kind == "ctrl" or (r.kind in ("counter", "peak") and r.clear_on_start) else "no"
            rows.append(f"| {off} | {r.name} | {r.access} | {r.width} | {clr} | {r.doc} |")
        return "\n".join(rows) + "\n"
