"""Access counts, energy and cycles of a mapping (Interstellar's analytic model, spec section 2).

Per element of a tensor, the accesses at level L are the product of the factors, at L and above, of the loops
irrelevant to that tensor, except that an irrelevant loop ordered inside every relevant loop of its own
level (stationarity) is served by the level below and so does not count at L. The innermost level feeds the
MAC directly (no MAC-side register unless the architecture says so): every MAC reads it. Outputs count
read-modify-write, 2a - 1 accesses for an element accessed a times. Moving data across the PE array is an
extra level: a(first shared level) x the spatial fan-out of the loops the tensor does not depend on, one hop
per receiving PE (times the hop distance of a replicated loop).

The same vectorised functions serve the single-mapping evaluation (exact integer counts) and the search.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from .layer import IRRELEVANT, LOOPS, TENSORS, DseError
from .arch import tile_elements

__all__ = ["Context", "Result", "evaluate"]


class Context:
    """What the counts of one (layer, architecture, spatial unrolling) need, precomputed once."""

    def __init__(self, layer, arch, spatial):
        self.layer, self.arch, self.spatial = layer, arch, tuple(tuple(d) for d in spatial)
        self.S = np.ones(len(LOOPS), dtype=np.int64)
        for dim in self.spatial:
            for j, f in dim:
                self.S[j] *= f
        bounds = np.array(layer.bounds, dtype=np.int64)
        if np.any(bounds % self.S):
            bad = [LOOPS[j] for j in range(len(LOOPS)) if bounds[j] % self.S[j]]
            raise DseError(f"spatial factors {dict((LOOPS[j], int(self.S[j])) for j in range(7) if self.S[j] > 1)} "
                           f"do not divide layer {layer.name!r} bounds of {', '.join(bad)}")
        self.Q = bounds // self.S                      # what the temporal loops must cover
        self.M, self.P = len(arch.levels), arch.n_per_pe
        self.irr = {t: np.array([n in IRRELEVANT[t] for n in LOOPS]) for t in TENSORS}
        self.sp_irr = {t: int(np.prod(self.S[self.irr[t]])) for t in TENSORS}
        self.fan = {t: self.sp_irr[t] * self._distance(t) for t in TENSORS}
        self.stride = layer.stride_x * layer.stride_y
        self.sizes = layer.sizes

    def _distance(self, tensor) -> int:
        # A replica loop on a dimension is spaced by the loops unrolled inside it; a tensor it does not depend
        # on crosses the PEs of the inner loops the tensor does depend on to reach every replica.
        if not self.arch.replication_hop_distance:
            return 1
        d = 1
        for dim in self.spatial:
            inner_relevant = 1
            for j, f in dim:
                if self.irr[tensor][j]:
                    d *= inner_relevant
                else:
                    inner_relevant *= f
        return d

    def innermost(self) -> np.ndarray:
        """a per element (IF, OF, FL) at level 0 when the MAC reads it directly: every irrelevant loop counts."""
        out = []
        for t in TENSORS:
            a = int(np.prod(self.Q[self.irr[t]]))
            out.append(a * (self.sp_irr[t] if self.P > 0 else 1))
        return np.array(out, dtype=np.int64)

    def raw_counts(self, level, lower, upper, order) -> np.ndarray:
        """a per element of IF, OF, FL at ``level`` (shape (..., 3), int64).

        ``lower``/``upper`` are the cumulative temporal extents of the levels below / up to ``level``
        (arrays (..., 7) that broadcast), ``order`` the loop indices of the level innermost first.
        """
        if level == 0 and not self.arch.mac_register:
            return np.broadcast_to(self.innermost(), np.broadcast_shapes(
                np.shape(lower)[:-1], np.shape(upper)[:-1]) + (3,))
        F = upper // lower
        above = self.Q // upper
        out = []
        for t in TENSORS:
            irr = self.irr[t]
            a = np.prod(np.where(irr, above * F, 1), axis=-1)
            running = np.ones(F.shape[:-1], dtype=bool)
            disc = np.ones(F.shape[:-1], dtype=np.int64)
            for j in order:
                f = F[..., j]
                if irr[j]:
                    disc = np.where(running, disc * f, disc)
                else:
                    running &= f == 1
            a = a // disc
            if level < self.P:
                a = a * self.sp_irr[t]
            out.append(a)
        return np.stack(out, axis=-1)

    def counts(self, level, raw):
        """Reported per-element counts from raw a: OF read-modify-write 2a - 1; IF at the innermost level
        divided by the stride product (the MAC reads IF FX*FY*K/(sx*sy) times per element)."""
        c = raw.astype(np.float64)
        c[..., 1] = 2 * raw[..., 1] - 1
        if level == 0 and self.stride != 1:
            c[..., 0] = c[..., 0] / self.stride
        return c

    def level_energy(self, level, raw) -> np.ndarray:
        """pJ at ``level`` (plus the array hops if it is the first shared level) for raw counts (..., 3), float."""
        c = self.counts(level, raw)
        e = sum(self.sizes[t] * float(self.arch.energy(level, t)) * c[..., i] for i, t in enumerate(TENSORS))
        if level == self.P:
            e = e + sum(self.sizes[t] * self.fan[t] * float(self.arch.hop_energy(t)) * raw[..., i]
                        for i, t in enumerate(TENSORS))
        return e


@dataclasses.dataclass
class Result:
    """Per-level, per-tensor access counts and energies of one mapping, with cycles and utilisation."""

    layer: object
    arch: object
    mapping: object
    counts: dict          # level name -> tensor -> accesses per element (Fraction for IF at a strided level 0)
    hops: dict            # tensor -> hops per element
    energy: dict          # level name (and "array hops", "MAC") -> tensor -> pJ (Fraction)
    compute_cycles: float
    cycles: float
    bound: str
    traffic_cycles: dict
    tiles: dict           # level name -> tensor -> elements of the tile it holds

    @property
    def macs(self) -> int:
        return self.layer.macs

    def level_total(self, name) -> Fraction:
        return sum(self.energy[name].values(), Fraction(0))

    @property
    def total(self) -> Fraction:
        return sum((self.level_total(n) for n in self.energy), Fraction(0))

    @property
    def pj_per_mac(self) -> float:
        return float(self.total) / self.macs

    @property
    def utilisation(self) -> float:
        """MACs / (cycles x PEs x MACs per PE-cycle)."""
        return self.macs / (self.cycles * self.arch.pes * self.arch.macs_per_pe_cycle)

    @property
    def spatial_utilisation(self) -> float:
        return float(np.prod(self.mapping.spatial_factors())) / self.arch.pes

    def rows(self) -> list:
        """One table row per level (and the hops and MAC lines): counts per element, energies, share."""
        tot = float(self.total)
        rows = []
        for name, per in self.energy.items():
            cnt = self.counts.get(name) or ({t: self.hops[t] for t in TENSORS} if name == "array hops" else {})
            row = {"level": name, "total_pJ": float(sum(per.values(), Fraction(0))),
                   "share": float(sum(per.values(), Fraction(0))) / tot if tot else 0.0}
            for t in TENSORS:
                row[f"{t}_acc"] = _num(cnt[t]) if t in cnt else "-"
                row[f"{t}_pJ"] = float(per[t]) if t in per else 0.0
            rows.append(row)
        return rows

    def to_dict(self) -> dict:
        return {"layer": self.layer.to_dict(), "arch": self.arch.name, "mapping": self.mapping.to_dict(self.arch),
                "dataflow": self.mapping.dataflow, "macs": self.macs,
                "sizes": self.layer.sizes,
                "counts_per_element": {n: {t: _num(v) for t, v in c.items()} for n, c in self.counts.items()},
                "hops_per_element": {t: _num(v) for t, v in self.hops.items()},
                "energy_pJ": {n: {t: float(v) for t, v in e.items()} for n, e in self.energy.items()},
                "energy_per_level_pJ": {n: float(self.level_total(n)) for n in self.energy},
                "energy_per_tensor_pJ": {t: float(sum((e.get(t, 0) for e in self.energy.values()), Fraction(0)))
                                         for t in TENSORS + ("MAC",)},
                "total_pJ": float(self.total), "pJ_per_MAC": self.pj_per_mac,
                "compute_cycles": self.compute_cycles, "cycles": self.cycles, "bound": self.bound,
                "traffic_cycles": self.traffic_cycles, "utilisation": self.utilisation,
                "spatial_utilisation": self.spatial_utilisation, "tiles": self.tiles,
                "mac_energy_included": self.arch.include_mac}


def _num(v):
    v = Fraction(v)
    return int(v) if v.denominator == 1 else float(v)


def evaluate(layer, arch, mapping) -> Result:
    """Validate ``mapping`` and compute its exact per-level counts, energies, cycles and utilisation."""
    mapping.validate(layer, arch)
    ctx = Context(layer, arch, mapping.spatial)
    t = mapping.temporal_factors()
    cum = np.cumprod(t, axis=0)
    orders = mapping.orders()
    counts, energy, traffic, tiles = {}, {}, {}, {}
    hops = None
    for lvl, lv in enumerate(arch.levels):
        lower = cum[lvl - 1] if lvl else np.ones(len(LOOPS), dtype=np.int64)
        raw = [int(x) for x in ctx.raw_counts(lvl, lower, cum[lvl], orders[lvl])]
        c = [Fraction(int(raw[0])) / (ctx.stride if lvl == 0 else 1), 2 * int(raw[1]) - 1, int(raw[2])]
        counts[lv.name] = dict(zip(TENSORS, c))
        energy[lv.name] = {tn: ctx.sizes[tn] * c[i] * arch.energy(lvl, tn) for i, tn in enumerate(TENSORS)}
        extent = cum[lvl] if lv.per_pe else cum[lvl] * ctx.S
        tiles[lv.name] = dict(zip(TENSORS, (int(x) for x in tile_elements(extent, layer))))
        if lv.bandwidth:
            nbytes = sum(ctx.sizes[tn] * c[i] * arch.bytes_per(tn) for i, tn in enumerate(TENSORS))
            if lv.per_pe:     # a per-PE bandwidth serves one PE's share
                nbytes /= int(np.prod(ctx.S))
            traffic[lv.name] = float(nbytes) / lv.bandwidth
        if lvl == ctx.P:
            hops = {tn: int(raw[i]) * ctx.fan[tn] for i, tn in enumerate(TENSORS)}
            # The hops sit between the per-PE levels and the first shared level in the energy breakdown.
            energy["array hops"] = {tn: ctx.sizes[tn] * hops[tn] * arch.hop_energy(tn) for tn in TENSORS}
    if ctx.P > 0:
        order = [lv.name for lv in arch.levels[:ctx.P]] + ["array hops"] + [lv.name for lv in arch.levels[ctx.P:]]
    else:
        order = ["array hops"] + [lv.name for lv in arch.levels]
    energy = {n: energy[n] for n in order}
    if arch.include_mac:
        energy["MAC"] = {"MAC": layer.macs * arch.mac_pj}
    compute = layer.macs / float(np.prod(ctx.S)) / arch.macs_per_pe_cycle
    cycles, bound = compute, "compute"
    for name, cyc in traffic.items():
        if cyc > cycles:
            cycles, bound = cyc, name
    return Result(layer=layer, arch=arch, mapping=mapping, counts=counts, hops=hops, energy=energy,
                  compute_cycles=compute, cycles=cycles, bound=bound, traffic_cycles=traffic, tiles=tiles)
