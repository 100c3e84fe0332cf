"""A loop-nest mapping: temporal blocking and loop order per memory level, spatial unrolling on the PE array.

Spatial unrolling is written in the paper's U|V notation, one field per array dimension; a dimension that
unrolls two loops (replication, U|VW) lists them innermost first, e.g. ``FY3,K4|Y13`` puts F_Y (3 PEs) and
4 replicas of it for K on the vertical dimension and Y (13) on the horizontal one.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from .arch import tile_elements
from .layer import LOOPS, DseError, loop_index

__all__ = ["Mapping", "parse_dataflow", "format_dataflow"]


def parse_dataflow(text: str) -> list:
    """``"FY3,K4|Y13"`` -> [[(FY, 3), (K, 4)], [(Y, 13)]] (loop indices); a factor may be omitted (None)."""
    if not isinstance(text, str) or not text.strip():
        raise DseError(f"a dataflow is written U|V (e.g. C|K or FY3,K4|Y13), not {text!r}")
    dims = []
    for field in text.replace(" ", "").split("|"):
        dim = []
        for item in filter(None, field.split(",")):
            m = re.fullmatch(r"([A-Za-z_]+?)(\d*)", item)
            if not m:
                raise DseError(f"dataflow {text!r}: cannot read {item!r}; write a loop name and optional factor, e.g. K4")
            dim.append((loop_index(m.group(1)), int(m.group(2)) if m.group(2) else None))
        dims.append(dim)
    return dims


def format_dataflow(spatial, factors=True) -> str:
    """Inverse of :func:`parse_dataflow` (loops with factor 1 are left out; an unused dimension is '-')."""
    out = []
    for dim in spatial:
        items = [LOOPS[j] + (str(f) if factors else "") for j, f in dim if f is None or f > 1]
        out.append(",".join(items) or "-")
    return "|".join(out)


@dataclasses.dataclass(frozen=True)
class Mapping:
    """Temporal loops per level and spatial loops per array dimension.

    Parameters
    ----------
    temporal : tuple
        One tuple per memory level (innermost level first) of ``(loop index, factor)``, innermost loop first.
    spatial : tuple
        One tuple per array dimension of ``(loop index, factor)``, innermost (contiguous PEs) first.
    name : str
    """

    temporal: tuple
    spatial: tuple
    name: str = "mapping"

    @property
    def dataflow(self) -> str:
        """U|V with factors, e.g. FY3,K4|Y13."""
        return format_dataflow(self.spatial)

    @property
    def dataflow_loops(self) -> str:
        """U|V without factors, e.g. FY,K|Y."""
        return format_dataflow(self.spatial, factors=False)

    @property
    def replicated(self) -> bool:
        return any(sum(f > 1 for _, f in dim) > 1 for dim in self.spatial)

    def spatial_factors(self) -> np.ndarray:
        s = np.ones(len(LOOPS), dtype=np.int64)
        for dim in self.spatial:
            for j, f in dim:
                s[j] *= f
        return s

    def temporal_factors(self) -> np.ndarray:
        t = np.ones((len(self.temporal), len(LOOPS)), dtype=np.int64)
        for lvl, loops in enumerate(self.temporal):
            for j, f in loops:
                t[lvl, j] *= f
        return t

    def orders(self) -> list:
        """Loop indices per level, innermost first (only the loops the mapping lists)."""
        return [[j for j, _ in loops] for loops in self.temporal]

    def validate(self, layer, arch):
        """Raise DseError if factors do not multiply to the loop bounds, the array or a level overflows."""
        if len(self.temporal) != len(arch.levels):
            raise DseError(f"mapping {self.name!r} has {len(self.temporal)} temporal levels, architecture "
                           f"{arch.name!r} has {len(arch.levels)} ({', '.join(lv.name for lv in arch.levels)})")
        if len(self.spatial) > len(arch.array):
            raise DseError(f"mapping {self.name!r} unrolls on {len(self.spatial)} array dimensions, "
                           f"the array has {len(arch.array)} ({'x'.join(map(str, arch.array))})")
        for d, dim in enumerate(self.spatial):
            p = 1
            for _, f in dim:
                p *= f
            if p > arch.array[d]:
                raise DseError(f"mapping {self.name!r}: array dimension {d} unrolls "
                               f"{' x '.join(f'{LOOPS[j]} {f}' for j, f in dim)} = {p} PEs, it has {arch.array[d]}")
        t, s = self.temporal_factors(), self.spatial_factors()
        for j, bound in enumerate(layer.bounds):
            temporal = int(np.prod(t[:, j]))
            total = temporal * int(s[j])
            need = -(-bound // int(s[j]))
            if temporal != need:
                parts = [f"{f} ({arch.levels[lvl].name})" for lvl, loops in enumerate(self.temporal)
                         for jj, f in loops if jj == j]
                parts += [f"{f} (spatial)" for dim in self.spatial for jj, f in dim if jj == j]
                pad = "" if bound % int(s[j]) == 0 else (
                    f" (with {int(s[j])} spatial the temporal factors must multiply to ceil({bound}/{int(s[j])}) = {need})")
                raise DseError(f"mapping {self.name!r}: loop {LOOPS[j]} factors {' x '.join(parts) or '(none)'} = "
                               f"{total}, but layer {layer.name!r} has {LOOPS[j]} = {bound}{pad}")
        padded = dataclasses.replace(layer, **{n: int(t[:, j].prod() * s[j]) for j, n in enumerate(LOOPS)})
        cum = np.cumprod(t, axis=0)
        for lvl, lv in enumerate(arch.levels):
            extent = cum[lvl] if lv.per_pe else cum[lvl] * s
            why = arch.overflow(lvl, tile_elements(extent, padded))
            if why:
                raise DseError(f"mapping {self.name!r}: {why}")

    def to_dict(self, arch) -> dict:
        return {"name": self.name,
                "temporal": {lv.name: [[LOOPS[j], f] for j, f in loops]
                             for lv, loops in zip(arch.levels, self.temporal)},
                "spatial": [[[LOOPS[j], f] for j, f in dim] for dim in self.spatial],
                "dataflow": self.dataflow}

    @classmethod
    def from_dict(cls, d: dict, arch, where="mapping") -> "Mapping":
        """Read ``{"temporal": {LEVEL: [[loop, factor], ...]}, "spatial": [[[loop, factor], ...], ...]}``
        (or ``"spatial": "FY3,K4|Y13"``); loops innermost first; a level left out has no loops."""
        if not isinstance(d, dict):
            raise DseError(f"{where}: a mapping must be a JSON object")
        for key in d:
            if key not in ("name", "description", "temporal", "spatial", "dataflow"):
                raise DseError(f"{where}: unknown key {key!r}; allowed keys: description, name, spatial, temporal")
        name = str(d.get("name", where))
        names = [lv.name for lv in arch.levels]
        temporal_in = d.get("temporal", {})
        if not isinstance(temporal_in, dict):
            raise DseError(f"{where}: temporal must map level names ({', '.join(names)}) to loop lists")
        for key in temporal_in:
            if key not in names:
                raise DseError(f"{where}: temporal level {key!r} is not a level of {arch.name!r}; "
                               f"levels: {', '.join(names)}")
        temporal = tuple(_loops(temporal_in.get(n, []), f"{where}: temporal[{n}]") for n in names)
        sp = d.get("spatial", d.get("dataflow", []))
        if isinstance(sp, str):
            dims = parse_dataflow(sp)
            for dim in dims:
                for j, f in dim:
                    if f is None:
                        raise DseError(f"{where}: spatial {sp!r} must give every factor (e.g. K4)")
            spatial = tuple(tuple(dim) for dim in dims)
        elif isinstance(sp, list):
            spatial = tuple(_loops(dim, f"{where}: spatial[{i}]") for i, dim in enumerate(sp))
        else:
            raise DseError(f"{where}: spatial must be a U|V string or a list per array dimension")
        return cls(temporal=temporal, spatial=spatial, name=name)


def _loops(items, where) -> tuple:
    if not isinstance(items, list):
        raise DseError(f"{where}: must be a list of [loop, factor] pairs, innermost first")
    out, seen = [], set()
    for it in items:
        if not (isinstance(it, list) and len(it) == 2):
            raise DseError(f"{where}: each entry must be [loop, factor], not {it!r}")
        j = loop_index(it[0])
        f = it[1]
        if not isinstance(f, int) or isinstance(f, bool) or f < 1:
            raise DseError(f"{where}: factor of {it[0]} must be a positive integer, not {f!r}")
        if j in seen:
            raise DseError(f"{where}: loop {LOOPS[j]} appears twice; give one factor per loop and level")
        seen.add(j)
        out.append((j, f))
    return tuple(out)
