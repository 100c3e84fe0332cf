"""An accelerator as the analytic model sees it: a PE array and a hierarchy of memory levels.

Levels are listed innermost first. The first ``per_pe`` levels are private to each PE (register files); the
spatial unrolling sits between the last per-PE level and the first shared level, and moving data across the
array costs one hop per receiving PE. The last level (DRAM) may be unbounded.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from pathlib import Path

import numpy as np

from .energy import PAPER_TABLE, EnergyTable, exact, load_energy_table
from .layer import LOOPS, TENSORS, DseError, read_json

__all__ = ["MemLevel", "Arch", "load_arch", "tile_elements"]

_KINDS = ("rf", "sram", "dram")
_L = {n: i for i, n in enumerate(LOOPS)}


@dataclasses.dataclass(frozen=True)
class MemLevel:
    """One memory level.

    Parameters
    ----------
    name : str
    kind : {"rf", "sram", "dram"}
        Selects the energy-table column when ``access_pj`` is not given.
    size_bytes : int or None
        Capacity shared by the three tensors (per PE for a per-PE level); None = unbounded.
    partitions : dict or None
        Tensor -> bytes when each tensor has its own buffer (VTA's inp/wgt/acc); replaces ``size_bytes``.
    per_pe : bool
        Private to each PE (below the array) rather than shared (above it).
    access_pj : dict
        Tensor -> pJ per ``word_bits`` access (resolved from the table when the JSON does not give it).
    double_buffered : bool
        Only half of each capacity holds the working tile.
    bandwidth : float, dict or None
        Bytes per cycle of the level's port (one number: one port shared by the tensors it holds; a dict
        tensor -> bytes per cycle: one port per tensor); None = unlimited. Turns into stall cycles.
    holds : tuple
        Tensors this level stores (default all three); the others bypass it (ZigZag's per-operand hierarchy).
    overlap : bool
        Transfers out of this level overlap computation (prefetch into a double buffer, decoupled
        access/execute); when False they stall the array for their whole duration.
    """

    name: str
    kind: str
    size_bytes: int | None
    partitions: dict | None
    per_pe: bool
    access_pj: dict
    double_buffered: bool = False
    bandwidth: object = None
    holds: tuple = TENSORS
    overlap: bool = True

    def capacity(self, tensor):
        """Bytes available to ``tensor``'s tile (None = unbounded; for shared capacity the caller sums)."""
        cap = self.partitions[tensor] if self.partitions else self.size_bytes
        if cap is None:
            return None
        return cap // 2 if self.double_buffered else cap


def tile_elements(t, layer):
    """Elements of the IF, OF, FL tiles of cumulative loop extents ``t`` (n x 7 array) -> (n x 3)."""
    t = np.asarray(t, dtype=np.int64)
    col = lambda n: t[..., _L[n]]
    inw = (col("X") - 1) * layer.stride_x + col("FX")
    inh = (col("Y") - 1) * layer.stride_y + col("FY")
    return np.stack([col("B") * col("C") * inh * inw,
                     col("B") * col("K") * col("Y") * col("X"),
                     col("K") * col("C") * col("FY") * col("FX")], axis=-1)


@dataclasses.dataclass(frozen=True)
class Arch:
    """A PE array plus memory levels plus energy parameters.

    Parameters
    ----------
    name : str
    array : tuple of int
        PEs along each array dimension (e.g. (16, 16); VTA: (BATCH, BLOCK_OUT, BLOCK_IN)).
    levels : tuple of MemLevel
        Innermost first; per-PE levels first.
    hop_pj, mac_pj : Fraction
    include_mac : bool
        Add MACs x mac_pj to the total (the reproduction target excludes it).
    bits : dict
        Tensor -> bits per element (per-operand precision; energies scale by bits / table word_bits).
    mac_register : bool
        The MAC has an operand register, so the innermost level also profits from stationarity.
    replication_hop_distance : bool
        A loop replicated on a dimension sends a tensor it is irrelevant to across the loops unrolled inside it
        that the tensor depends on, one hop per PE crossed.
    macs_per_pe_cycle : float
        MACs one PE completes per cycle.
    table : EnergyTable
    """

    name: str
    array: tuple
    levels: tuple
    hop_pj: Fraction
    mac_pj: Fraction
    include_mac: bool = False
    bits: dict = dataclasses.field(default_factory=lambda: {t: 16 for t in TENSORS})
    mac_register: bool = False
    replication_hop_distance: bool = True
    macs_per_pe_cycle: float = 1
    table: EnergyTable = PAPER_TABLE
    source: dict = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def pes(self) -> int:
        return math.prod(self.array)

    @property
    def n_per_pe(self) -> int:
        """Number of per-PE levels (index of the first shared level)."""
        return sum(lv.per_pe for lv in self.levels)

    def energy(self, level: int, tensor: str):
        """pJ per element access of ``tensor`` at ``level`` (scaled to the tensor's precision)."""
        return self.levels[level].access_pj[tensor] * Fraction(self.bits[tensor], self.table.word_bits)

    def hop_energy(self, tensor: str):
        return self.hop_pj * Fraction(self.bits[tensor], self.table.word_bits)

    def bytes_per(self, tensor: str) -> Fraction:
        return Fraction(self.bits[tensor], 8)

    def fits(self, level: int, tiles):
        """Boolean mask: tiles (n x 3 elements of IF, OF, FL) fit ``level``."""
        lv = self.levels[level]
        tiles = np.asarray(tiles)
        nbytes = [tiles[..., i] * float(self.bytes_per(t)) for i, t in enumerate(TENSORS)]
        if lv.partitions:
            ok = np.ones(tiles.shape[:-1], dtype=bool)
            for i, t in enumerate(TENSORS):
                if t in lv.holds:
                    ok &= nbytes[i] <= lv.capacity(t)
            return ok
        if lv.size_bytes is None:
            return np.ones(tiles.shape[:-1], dtype=bool)
        return sum(nbytes[i] for i, t in enumerate(TENSORS) if t in lv.holds) <= lv.capacity(None)

    def overflow(self, level: int, tile) -> str | None:
        """Why ``tile`` (3 element counts) does not fit ``level``, or None."""
        lv = self.levels[level]
        where = f"level {lv.name}{' (per PE)' if lv.per_pe else ''}"
        db = " (half of it, double-buffered)" if lv.double_buffered else ""
        b = {t: int(tile[i]) * self.bytes_per(t) for i, t in enumerate(TENSORS) if t in lv.holds}
        if lv.partitions:
            for t in lv.holds:
                if b[t] > lv.capacity(t):
                    return (f"{where}: the {t} tile of {int(tile[TENSORS.index(t)])} elements = {float(b[t]):g} B "
                            f"exceeds its {lv.capacity(t)} B buffer{db}")
            return None
        if lv.size_bytes is not None and sum(b.values()) > lv.capacity(None):
            parts = " + ".join(f"{t} {int(tile[i])}" for i, t in enumerate(TENSORS) if t in lv.holds)
            return (f"{where}: tiles {parts} elements = {float(sum(b.values())):g} B exceed its "
                    f"{lv.capacity(None)} B{db}")
        return None

    def with_sizes(self, sizes: dict, name=None) -> "Arch":
        """A copy with level ``name -> size_bytes`` changed and energies looked up again in the table."""
        d = dict(self.source)
        d["levels"] = [dict(lv, size_bytes=sizes.get(lv["name"], lv.get("size_bytes"))) for lv in d["levels"]]
        for lv in d["levels"]:
            if lv["name"] in sizes:
                lv.pop("access_pj", None)
        d["name"] = name or self.name
        return Arch.from_dict(d, table=self.table)

    def to_dict(self) -> dict:
        return {"name": self.name, "array": list(self.array), "hop_pj": float(self.hop_pj),
                "mac_pj": float(self.mac_pj), "include_mac": self.include_mac, "bits": dict(self.bits),
                "mac_register": self.mac_register, "replication_hop_distance": self.replication_hop_distance,
                "macs_per_pe_cycle": self.macs_per_pe_cycle, "energy_table": self.table.name,
                "levels": [{"name": lv.name, "kind": lv.kind, "size_bytes": lv.size_bytes,
                            "partitions": lv.partitions, "per_pe": lv.per_pe,
                            "access_pj": {t: float(e) for t, e in lv.access_pj.items()},
                            "double_buffered": lv.double_buffered, "bandwidth": lv.bandwidth,
                            "holds": list(lv.holds), "overlap": lv.overlap}
                           for lv in self.levels]}

    @classmethod
    def from_dict(cls, d: dict, *, table: EnergyTable | None = None, where="arch") -> "Arch":
        """Build and validate an architecture from its JSON form (see docs/dse.md)."""
        if not isinstance(d, dict):
            raise DseError(f"{where}: an architecture must be a JSON object")
        allowed = {"name", "description", "array", "levels", "hop_pj", "mac_pj", "include_mac", "bits",
                   "mac_register", "replication_hop_distance", "macs_per_pe_cycle", "energy_table"}
        for key in d:
            if key not in allowed:
                raise DseError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(sorted(allowed))}")
        if table is None:
            table = load_energy_table(d.get("energy_table"))
        array = d.get("array")
        if (not isinstance(array, list) or not array
                or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in array)):
            raise DseError(f"{where}: array must be a list of PE counts per dimension, e.g. [16, 16], not {array!r}")
        bits = {t: 16 for t in TENSORS}
        for t, b in (d.get("bits") or {}).items():
            if t not in TENSORS or not isinstance(b, int) or b < 1:
                raise DseError(f"{where}: bits must map IF/OF/FL to a positive bit width, not {t!r}: {b!r}")
            bits[t] = b
        levels_in = d.get("levels")
        if not isinstance(levels_in, list) or not levels_in:
            raise DseError(f"{where}: levels must be a non-empty list, innermost first")
        levels = []
        for i, lv in enumerate(levels_in):
            levels.append(_level(lv, table, f"{where}: levels[{i}]"))
        names = [lv.name for lv in levels]
        if len(set(names)) != len(names):
            raise DseError(f"{where}: level names must be unique, not {names}")
        per_pe = [lv.per_pe for lv in levels]
        if per_pe != sorted(per_pe, reverse=True):
            raise DseError(f"{where}: per-PE levels must come first (innermost), got per_pe {per_pe}")
        if all(per_pe):
            raise DseError(f"{where}: at least one level must be shared (per_pe false), e.g. the DRAM")
        if set(levels[-1].holds) != set(TENSORS):
            raise DseError(f"{where}: levels[{len(levels) - 1}] ({levels[-1].name}): the outermost level must hold "
                           f"every tensor (IF, OF, FL), not only {', '.join(levels[-1].holds)}")
        flags = {}
        for key, default in (("include_mac", False), ("mac_register", False), ("replication_hop_distance", True)):
            v = d.get(key, default)
            if not isinstance(v, bool):
                raise DseError(f"{where}: {key} must be true or false, not {v!r}")
            flags[key] = v
        mpc = d.get("macs_per_pe_cycle", 1)
        if isinstance(mpc, bool) or not isinstance(mpc, (int, float)) or mpc <= 0:
            raise DseError(f"{where}: macs_per_pe_cycle must be a positive number, not {mpc!r}")
        hop = _energy(d.get("hop_pj", table.hop), f"{where}: hop_pj")
        mac = _energy(d.get("mac_pj", table.mac), f"{where}: mac_pj")
        return cls(name=str(d.get("name", where)), array=tuple(array), levels=tuple(levels), hop_pj=hop,
                   mac_pj=mac, bits=bits, macs_per_pe_cycle=mpc, table=table, source=d, **flags)


def _level(lv, table, where) -> MemLevel:
    if not isinstance(lv, dict):
        raise DseError(f"{where}: must be a JSON object")
    allowed = {"name", "kind", "size_bytes", "partitions", "per_pe", "access_pj", "double_buffered",
               "bandwidth_bytes_per_cycle", "description", "holds", "overlap"}
    for key in lv:
        if key not in allowed:
            raise DseError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(sorted(allowed))}")
    name = lv.get("name")
    if not isinstance(name, str) or not name:
        raise DseError(f"{where}: name must be a non-empty string")
    where = f"{where} ({name})"
    kind = lv.get("kind", "sram")
    if kind not in _KINDS:
        raise DseError(f"{where}: kind must be one of {', '.join(_KINDS)}, not {kind!r}")
    size = lv.get("size_bytes")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
        raise DseError(f"{where}: size_bytes must be a positive integer or null (unbounded), not {size!r}")
    parts = lv.get("partitions")
    if parts is not None:
        if size is not None:
            raise DseError(f"{where}: give either size_bytes (shared) or partitions (per tensor), not both")
        want = set(lv.get("holds", TENSORS)) if isinstance(lv.get("holds", TENSORS), (list, tuple)) else set(TENSORS)
        if not isinstance(parts, dict) or set(parts) != want or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in parts.values()):
            raise DseError(f"{where}: partitions must give positive bytes for each tensor it holds "
                           f"({', '.join(t for t in TENSORS if t in want)}), not {parts!r}")
    holds = lv.get("holds", list(TENSORS))
    if (not isinstance(holds, list) or not holds or len(set(holds)) != len(holds)
            or not all(t in TENSORS for t in holds)):
        raise DseError(f"{where}: holds must be a non-empty list of the tensors stored here (IF, OF, FL), not {holds!r}")
    holds = tuple(t for t in TENSORS if t in holds)
    pj = lv.get("access_pj")
    if pj is None:
        acc = {t: exact(table.lookup(kind, parts[t] if parts else size)) if not parts or t in parts else Fraction(0)
               for t in TENSORS}
    elif isinstance(pj, dict):
        if set(pj) != set(TENSORS):
            raise DseError(f"{where}: access_pj must be a number or give IF, OF and FL, not {pj!r}")
        acc = {t: _energy(v, f"{where}: access_pj[{t}]") for t, v in pj.items()}
    else:
        acc = {t: _energy(pj, f"{where}: access_pj") for t in TENSORS}
    per_pe = lv.get("per_pe", kind == "rf")
    if not isinstance(per_pe, bool):
        raise DseError(f"{where}: per_pe must be true or false, not {per_pe!r}")
    db = lv.get("double_buffered", False)
    if not isinstance(db, bool):
        raise DseError(f"{where}: double_buffered must be true or false, not {db!r}")
    bw = lv.get("bandwidth_bytes_per_cycle")
    ok = lambda x: not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x) and x > 0
    if isinstance(bw, dict):
        if not bw or not set(bw) <= set(holds) or not all(ok(v) for v in bw.values()):
            raise DseError(f"{where}: bandwidth_bytes_per_cycle must be a positive number, or give positive bytes per "
                           f"cycle for tensors it holds ({', '.join(holds)}), not {bw!r}")
        bw = {t: bw[t] for t in TENSORS if t in bw}
    elif bw is not None and not ok(bw):
        raise DseError(f"{where}: bandwidth_bytes_per_cycle must be a positive number of bytes per cycle or null "
                       f"(unlimited), not {bw!r}")
    ov = lv.get("overlap", True)
    if not isinstance(ov, bool):
        raise DseError(f"{where}: overlap must be true or false, not {ov!r}")
    return MemLevel(name=name, kind=kind, size_bytes=size, partitions=dict(parts) if parts else None,
                    per_pe=per_pe, access_pj=acc, double_buffered=db, bandwidth=bw, holds=holds, overlap=ov)


def _energy(x, where) -> Fraction:
    """A pJ value that makes physical sense: a finite number >= 0."""
    if isinstance(x, bool) or not isinstance(x, (int, float, str, Fraction)) or (
            isinstance(x, float) and not math.isfinite(x)):
        raise DseError(f"{where} must be a finite number of pJ, not {x!r}")
    try:
        v = exact(x)
    except (DseError, ValueError, ZeroDivisionError):
        raise DseError(f"{where} must be a finite number of pJ, not {x!r}") from None
    if v < 0:
        raise DseError(f"{where} must be >= 0 pJ (an energy cannot be negative), not {x!r}")
    return v


def load_arch(path, table_path=None) -> Arch:
    """Read an architecture JSON; ``table_path`` overrides its ``energy_table``."""
    d = read_json(path)
    table = load_energy_table(table_path) if table_path else None
    if table is None and isinstance(d, dict) and d.get("energy_table"):
        p = Path(d["energy_table"])
        if not p.is_absolute() and not p.exists():
            p = Path(path).parent / p
        table = load_energy_table(p)
    return Arch.from_dict(d, table=table, where=str(path))
