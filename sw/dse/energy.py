"""Energy per access: the paper's Table 3 (28 nm, per 16-bit access) as default, other tables loadable from JSON.

Energies are kept as exact fractions of the decimal numbers written in the table so that the reproduction
target's energies come out to the last digit; the search converts them to floats.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from pathlib import Path

from .layer import DseError, read_json

__all__ = ["EnergyTable", "PAPER_TABLE", "load_energy_table", "exact"]


def exact(x) -> Fraction:
    """The decimal number ``x`` as written (0.96 -> 24/25), not its binary float approximation."""
    if isinstance(x, bool) or not isinstance(x, (int, float, str, Fraction)):
        raise DseError(f"an energy must be a number, not {x!r}")
    return Fraction(str(x)) if isinstance(x, float) else Fraction(x)


@dataclasses.dataclass(frozen=True)
class EnergyTable:
    """Energy per access of each memory kind, per MAC and per array hop, for ``word_bits``-bit words.

    Parameters
    ----------
    name : str
    rf, sram : dict
        Size in bytes -> pJ per access. Sizes between or beyond the entries scale by ``rf_scale`` /
        ``sram_scale`` per doubling from the nearest entry (the paper's x2 and x1.5 rules).
    dram, mac, hop : float
        pJ per DRAM access, per MAC, per hop to a neighbour PE.
    word_bits : int
        Width of the access the numbers are for (16 in the paper); a tensor of other precision scales linearly.
    """

    name: str
    rf: dict
    sram: dict
    dram: Fraction
    mac: Fraction
    hop: Fraction
    rf_scale: Fraction = Fraction(2)
    sram_scale: Fraction = Fraction(3, 2)
    word_bits: int = 16

    def lookup(self, kind: str, size_bytes) -> float:
        """pJ per ``word_bits`` access of a memory of ``kind`` (rf, sram, dram) and ``size_bytes``.

        Exact for a size in the table (as a Fraction); otherwise extrapolated from the nearest entry by
        the per-doubling scale (a float).
        """
        if kind == "dram":
            return self.dram
        if kind not in ("rf", "sram"):
            raise DseError(f"memory kind must be one of rf, sram, dram, not {kind!r}")
        if size_bytes is None:
            raise DseError(f"an {kind} level needs size_bytes to look its energy up in table {self.name!r}")
        table, scale = (self.rf, self.rf_scale) if kind == "rf" else (self.sram, self.sram_scale)
        if size_bytes in table:
            return table[size_bytes]
        ref = min(table, key=lambda s: abs(math.log2(size_bytes / s)))
        return float(table[ref]) * float(scale) ** math.log2(size_bytes / ref)

    def to_dict(self) -> dict:
        return {"name": self.name, "word_bits": self.word_bits,
                "rf": {str(k): float(v) for k, v in sorted(self.rf.items())}, "rf_scale_per_doubling": float(self.rf_scale),
                "sram": {str(k): float(v) for k, v in sorted(self.sram.items())},
                "sram_scale_per_doubling": float(self.sram_scale),
                "dram": float(self.dram), "mac": float(self.mac), "hop": float(self.hop)}

    @classmethod
    def from_dict(cls, d: dict, where="energy table") -> "EnergyTable":
        if not isinstance(d, dict):
            raise DseError(f"{where}: must be a JSON object")
        allowed = {"name", "word_bits", "rf", "sram", "rf_scale_per_doubling", "sram_scale_per_doubling",
                   "dram", "mac", "hop", "description"}
        for key in d:
            if key not in allowed:
                raise DseError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(sorted(allowed))}")
        for key in ("rf", "sram", "dram", "mac", "hop"):
            if key not in d:
                raise DseError(f"{where}: missing key {key!r}")

        def sizes(key):
            t = d[key]
            if not isinstance(t, dict) or not t:
                raise DseError(f"{where}: {key} must map sizes in bytes to pJ, e.g. {{\"512\": 0.96}}")
            out = {}
            for s, e in t.items():
                if not str(s).isdigit() or int(s) < 1:
                    raise DseError(f"{where}: {key} size {s!r} must be a positive integer number of bytes")
                out[int(s)] = _positive(e, f"{where}: {key}[{s}]")
            return out

        return cls(name=str(d.get("name", where)), rf=sizes("rf"), sram=sizes("sram"),
                   dram=_positive(d["dram"], f"{where}: dram"), mac=_positive(d["mac"], f"{where}: mac", zero=True),
                   hop=_positive(d["hop"], f"{where}: hop", zero=True),
                   rf_scale=_positive(d.get("rf_scale_per_doubling", 2), f"{where}: rf_scale_per_doubling"),
                   sram_scale=_positive(d.get("sram_scale_per_doubling", 1.5), f"{where}: sram_scale_per_doubling"),
                   word_bits=int(d.get("word_bits", 16)))


def _positive(x, where, zero=False) -> Fraction:
    try:
        v = exact(x)
    except DseError:
        raise DseError(f"{where} must be a number of pJ, not {x!r}") from None
    if v < 0 or (v == 0 and not zero):
        raise DseError(f"{where} must be {'>= 0' if zero else '> 0'} pJ, not {x!r}")
    return v


# Interstellar Table 3 (28 nm, 16-bit access).
PAPER_TABLE = EnergyTable.from_dict({
    "name": "interstellar-table3-28nm",
    "rf": {"16": 0.03, "32": 0.06, "64": 0.12, "128": 0.24, "256": 0.48, "512": 0.96},
    "sram": {"32768": 6, "65536": 9, "131072": 13.5, "262144": 20.25, "524288": 30.375},
    "dram": 200, "mac": 0.075, "hop": 0.035})


def load_energy_table(path=None) -> EnergyTable:
    """The table in ``path`` (JSON), or the paper's Table 3 when ``path`` is None."""
    if path is None:
        return PAPER_TABLE
    return EnergyTable.from_dict(read_json(path), where=str(Path(path)))
