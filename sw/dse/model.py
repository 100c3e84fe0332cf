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
    """What the counts of one (layer, architecture, spatial unrolling) need, precomputed once.

    A spatial factor that does not divide its loop bound pads the loop: the temporal loops cover
    Q = ceil(bound / S) and the model computes the padded layer (bounds Q x S), so the padding waste is
    paid in energy and cycles; :attr:`padded` is that layer.

    Per-operand hierarchies: a level stores only the tensors in its ``holds``. For tensor t at a level L
    holding it, the *child* is the next lower level holding t; the loops of every level from child + 1 to L
    (innermost first) form t's loop sequence at L, and an irrelevant loop before the first relevant one in that
    sequence is stationary (the child keeps the tile). Without bypass the sequence is L's own loops: the
    paper's model.
    """

    def __init__(self, layer, arch, spatial):
        self.layer, self.arch, self.spatial = layer, arch, tuple(tuple(d) for d in spatial)
        self.S = np.ones(len(LOOPS), dtype=np.int64)
        for dim in self.spatial:
            for j, f in dim:
                if f < 1:
                    raise DseError(f"spatial factor of {LOOPS[j]} must be a positive integer, not {f}")
                self.S[j] *= f
        bounds = np.array(layer.bounds, dtype=np.int64)
        self.Q = -(-bounds // self.S)                  # what the temporal loops must cover (ceil)
        pb = self.Q * self.S
        self.padded = (layer if np.array_equal(pb, bounds) else
                       dataclasses.replace(layer, **{n: int(pb[j]) for j, n in enumerate(LOOPS)}))
        self.M, self.P = len(arch.levels), arch.n_per_pe
        self.irr = {t: np.array([n in IRRELEVANT[t] for n in LOOPS]) for t in TENSORS}
        self.sp_irr = {t: int(np.prod(self.S[self.irr[t]])) for t in TENSORS}
        self.fan = {t: self.sp_irr[t] * self._distance(t) for t in TENSORS}
        self.stride = layer.stride_x * layer.stride_y
        self.sizes = self.padded.sizes
        self.holds = [set(lv.holds) for lv in arch.levels]
        self.levels_of = {t: [l for l in range(self.M) if t in self.holds[l]] for t in TENSORS}
        self.lo = {t: self.levels_of[t][0] for t in TENSORS}
        self.child = {t: {l: (ls[i - 1] if i else -1) for i, l in enumerate(ls)} for t, ls in self.levels_of.items()}
        # The array hops of t are counted at the first shared level holding it.
        self.hop_level = {t: min(l for l in self.levels_of[t] if l >= self.P) for t in TENSORS}
        self.bypass = any(len(h) < len(TENSORS) for h in self.holds)

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

    def innermost(self, t) -> int:
        """a per element of t at its innermost level when the MAC reads it directly: every irrelevant loop
        counts, times the spatial fan-out when that level is private to each PE."""
        a = int(np.prod(self.Q[self.irr[t]]))
        return a * (self.sp_irr[t] if self.lo[t] < self.P else 1)

    def needs(self, t, level) -> int:
        """Lowest level whose tile the count of t at ``level`` depends on (-1: none, the MAC)."""
        return self.child[t][level]

    def raw_count(self, t, level, tile, order, cache=None):
        """a per element of t at ``level`` (a level holding t), int64 array.

        ``tile(l)`` gives the cumulative temporal tiles of level l (arrays (..., 7) that broadcast; l = -1 is
        never asked), ``order(l)`` the loop indices of level l innermost first. ``cache`` (a dict) keeps the
        per-level factors between calls on the same tiles.
        """
        if level == self.lo[t] and not self.arch.mac_register:
            return np.asarray(self.innermost(t), dtype=np.int64)
        cache = {} if cache is None else cache
        c = self.child[t][level]
        irr = self.irr[t]
        key = ("a", t, c)
        if key not in cache:
            lower = tile(c) if c >= 0 else np.ones(len(LOOPS), dtype=np.int64)
            cache[key] = np.prod((self.Q // lower)[..., irr], axis=-1)
        a = cache[key]
        running = np.ones(np.shape(a), dtype=bool)
        disc = np.ones(np.shape(a), dtype=np.int64)
        for l in range(c + 1, level + 1):
            if ("F", l) not in cache:
                cache[("F", l)] = tile(l) // (tile(l - 1) if l > 0 else 1)
            F = cache[("F", l)]
            for j in order(l):
                f = F[..., j]
                if irr[j]:
                    disc = np.where(running, disc * f, disc)
                else:
                    running = running & (f == 1)
        a = a // disc
        if level < self.P:
            a = a * self.sp_irr[t]
        return a

    def count(self, t, level, raw):
        """Reported per-element count from raw a: OF read-modify-write 2a - 1; IF at its innermost level
        divided by the stride product (the MAC reads IF FX*FY*K/(sx*sy) times per element)."""
        if t == "OF":
            return 2 * raw - 1
        if t == "IF" and level == self.lo[t] and self.stride != 1:
            return raw / self.stride
        return raw

    def level_cost(self, level, tile, order, cache=None) -> np.ndarray:
        """pJ at ``level`` (plus the array hops of the tensors whose hop level it is), float array."""
        e = 0.0
        for t in TENSORS:
            if t not in self.holds[level]:
                continue
            raw = self.raw_count(t, level, tile, order, cache)
            e = e + self.sizes[t] * float(self.arch.energy(level, t)) * self.count(t, level, raw.astype(np.float64))
            if level == self.hop_level[t]:
                e = e + self.sizes[t] * self.fan[t] * float(self.arch.hop_energy(t)) * raw
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
    stall_cycles: dict = dataclasses.field(default_factory=dict)   # level name -> cycles the array waits for it
    padded_macs: int = 0  # MACs of the padded loop nest (>= macs when a spatial factor does not divide its bound)

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
        """Useful share of the PEs: unrolled PEs / all PEs, less the padding waste."""
        return float(np.prod(self.mapping.spatial_factors())) / self.arch.pes * self.macs / self.padded_macs

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
                "padded_macs": self.padded_macs, "padding_waste": 1 - self.macs / self.padded_macs,
                "compute_cycles": self.compute_cycles, "cycles": self.cycles, "bound": self.bound,
                "traffic_cycles": self.traffic_cycles, "stall_cycles": self.stall_cycles, "utilisation": self.utilisation,
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
    counts, energy, traffic, tiles, stalls = {}, {}, {}, {}, {}
    hops = {}
    compute = float(np.prod(ctx.Q)) / arch.macs_per_pe_cycle
    npe = int(np.prod(ctx.S))
    for lvl, lv in enumerate(arch.levels):
        counts[lv.name], energy[lv.name] = {}, {}
        nbytes = {}
        for tn in TENSORS:
            if tn not in lv.holds:
                continue
            raw = int(ctx.raw_count(tn, lvl, lambda l: cum[l], lambda l: orders[l]))
            c = 2 * raw - 1 if tn == "OF" else Fraction(raw) / (ctx.stride if tn == "IF" and lvl == ctx.lo[tn] else 1)
            counts[lv.name][tn] = c
            energy[lv.name][tn] = ctx.sizes[tn] * c * arch.energy(lvl, tn)
            nbytes[tn] = ctx.sizes[tn] * c * arch.bytes_per(tn) / (npe if lv.per_pe else 1)
            if lvl == ctx.hop_level[tn]:
                hops[tn] = raw * ctx.fan[tn]
        extent = cum[lvl] if lv.per_pe else cum[lvl] * ctx.S
        tiles[lv.name] = {tn: int(x) for tn, x in zip(TENSORS, tile_elements(extent, ctx.padded)) if tn in lv.holds}
        if lv.bandwidth:
            # One port per tensor (dict) or one shared port; a per-PE bandwidth serves one PE's share.
            ports = ({tn: (float(nbytes[tn]), lv.bandwidth[tn]) for tn in lv.bandwidth} if isinstance(lv.bandwidth, dict)
                     else {"all": (float(sum(nbytes.values())), lv.bandwidth)})
            cyc = max(b / bw for b, bw in ports.values())
            traffic[lv.name] = cyc
            stalls[lv.name] = max(0.0, cyc - compute) if lv.overlap else cyc
    energy["array hops"] = {tn: ctx.sizes[tn] * hops[tn] * arch.hop_energy(tn) for tn in TENSORS}
    if ctx.P > 0:
        order = [lv.name for lv in arch.levels[:ctx.P]] + ["array hops"] + [lv.name for lv in arch.levels[ctx.P:]]
    else:
        order = ["array hops"] + [lv.name for lv in arch.levels]
    energy = {n: energy[n] for n in order}
    if arch.include_mac:
        energy["MAC"] = {"MAC": ctx.padded.macs * arch.mac_pj}
    # Ports work concurrently: the array waits for the slowest one (stall = its transfer time beyond the
    # compute it overlaps, or all of it when the level does not overlap transfers with compute).
    stall, bound = 0.0, "compute"
    for name, st in stalls.items():
        if st > stall:
            stall, bound = st, name
    cycles = compute + stall
    return Result(layer=layer, arch=arch, mapping=mapping, counts=counts, hops=hops, energy=energy,
                  compute_cycles=compute, cycles=cycles, bound=bound, traffic_cycles=traffic, tiles=tiles,
                  stall_cycles=stalls, padded_macs=ctx.padded.macs)
