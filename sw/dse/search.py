"""Optimisers: best blocking for a fixed dataflow, dataflow exploration, memory-hierarchy exploration.

Blocking search. A blocking is a chain of cumulative temporal tiles T_0 | T_1 | ... | T_top = Q (Q = the loop
bounds over the spatial factors), one per level, each fitting its level. The cost of level L depends only on
(T_{L-1}, T_L) (its own factors T_L / T_{L-1}, the factors above Q / T_L, and its loop order), so the optimum
is a shortest path over levels: dynamic programming over the divisor tuples of Q that fit each level,
vectorised with numpy over all (T_{L-1}, T_L) pairs. Loop order: the counts depend only on which loops sit
inside the first loop relevant to each tensor, and three orders dominate all others (FL-stationary: X, Y, B
innermost; IF-stationary: FX, FY then K; OF-stationary: FX, FY then C), so each level takes the best of them.
"""

from __future__ import annotations

import dataclasses
import itertools
import time

import numpy as np

from .layer import LOOPS, DseError
from .mapping import Mapping, format_dataflow, parse_dataflow
from .model import Context, evaluate
from .arch import tile_elements

__all__ = ["CANONICAL_ORDERS", "search_blocking", "blocking_spread", "spatial_candidates", "explore_dataflows",
           "explore_memory", "SearchResult", "resolve_dataflow", "best_per_pair", "four_to_sixteen"]

_I = {n: i for i, n in enumerate(LOOPS)}
CANONICAL_ORDERS = {
    "FL-stationary": [_I[n] for n in ("X", "Y", "B", "FX", "FY", "K", "C")],
    "IF-stationary": [_I[n] for n in ("FX", "FY", "K", "C", "X", "Y", "B")],
    "OF-stationary": [_I[n] for n in ("FX", "FY", "C", "K", "X", "Y", "B")],
}
_ORDERS = list(CANONICAL_ORDERS.values())
_CHUNK_PAIRS = 1 << 19


@dataclasses.dataclass
class SearchResult:
    """Best mapping found, its evaluation, and what the search did."""

    mapping: Mapping
    result: object
    seconds: float
    candidates: int          # (T_{L-1}, T_L) pairs evaluated
    valid_tiles: list        # tiles fitting each level


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _divisor_tuples(q) -> np.ndarray:
    grids = np.meshgrid(*[np.array(_divisors(int(x)), dtype=np.int64) for x in q], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=-1)


def _valid_tiles(ctx, level, D):
    lv = ctx.arch.levels[level]
    if level == ctx.M - 1:
        cand = ctx.Q[None, :]
    else:
        cand = D
    ext = cand if lv.per_pe else cand * ctx.S
    return cand[ctx.arch.fits(level, tile_elements(ext, ctx.layer))]


def _level_cost(ctx, level, lower, upper):
    """Best cost over the canonical orders and the index of that order, for broadcastable tiles."""
    if level == 0 and not ctx.arch.mac_register:
        raw = ctx.raw_counts(0, lower, upper, _ORDERS[0])
        return ctx.level_energy(0, raw), np.zeros(np.shape(raw)[:-1], dtype=np.int8)
    costs = np.stack([ctx.level_energy(level, ctx.raw_counts(level, lower, upper, o)) for o in _ORDERS])
    best = np.argmin(costs, axis=0)
    return np.take_along_axis(costs, best[None], axis=0)[0], best.astype(np.int8)


def _dp(ctx):
    """Shortest path over levels; returns (cost, chain of tiles, order index per level, pairs, valid counts)."""
    D = _divisor_tuples(ctx.Q)
    V = [_valid_tiles(ctx, lvl, D) for lvl in range(ctx.M)]
    for lvl, v in enumerate(V):
        if len(v) == 0:
            raise DseError(f"no tile of layer {ctx.layer.name!r} fits level {ctx.arch.levels[lvl].name} of "
                           f"{ctx.arch.name!r} with dataflow {format_dataflow(ctx.spatial)}")
    one = np.ones(len(LOOPS), dtype=np.int64)
    best, order0 = _level_cost(ctx, 0, one[None, :], V[0])
    back, orders = [None], [order0]
    pairs = len(V[0])
    for lvl in range(1, ctx.M):
        A, B = V[lvl - 1], V[lvl]
        nb = len(B)
        new_best = np.full(nb, np.inf)
        arg = np.zeros(nb, dtype=np.int64)
        ordr = np.zeros(nb, dtype=np.int8)
        step = max(1, _CHUNK_PAIRS // max(1, len(A)))
        for s in range(0, nb, step):
            b = B[s:s + step]
            ok = np.all(b[None, :, :] % A[:, None, :] == 0, axis=-1)           # T_{L-1} | T_L
            ia, ib = np.nonzero(ok)
            if len(ia) == 0:
                continue
            pairs += len(ia)
            cost, o = _level_cost(ctx, lvl, A[ia], b[ib])
            total = best[ia] + cost
            # Per column b, the minimum over its valid rows a.
            idx = np.lexsort((total, ib))
            first = np.ones(len(idx), dtype=bool)
            first[1:] = ib[idx][1:] != ib[idx][:-1]
            sel = idx[first]
            new_best[s + ib[sel]] = total[sel]
            arg[s + ib[sel]] = ia[sel]
            ordr[s + ib[sel]] = o[sel]
        best = new_best
        back.append(arg)
        orders.append(ordr)
    if not np.isfinite(best).any():
        raise DseError(f"no blocking of layer {ctx.layer.name!r} fits {ctx.arch.name!r} with dataflow "
                       f"{format_dataflow(ctx.spatial)} (tiles of adjacent levels never nest)")
    j = int(np.argmin(best))
    cost = float(best[j])
    chain, ords = [], []
    for lvl in range(ctx.M - 1, -1, -1):
        chain.append(V[lvl][j])
        ords.append(int(orders[lvl][j]))
        if lvl:
            j = int(back[lvl][j])
    return cost, chain[::-1], ords[::-1], pairs, [len(v) for v in V]


def search_blocking(layer, arch, spatial, *, name=None) -> SearchResult:
    """Minimum-energy blocking and loop orders for a fixed spatial unrolling.

    Parameters
    ----------
    layer, arch
    spatial : list or str
        Per array dimension ``[(loop index, factor), ...]`` or a U|V string with factors (``"C16|K16"``).
    """
    t0 = time.perf_counter()
    if isinstance(spatial, str):
        spatial = resolve_dataflow(layer, arch, spatial)
    ctx = Context(layer, arch, spatial)
    cost, chain, ords, pairs, nvalid = _dp(ctx)
    temporal, prev = [], np.ones(len(LOOPS), dtype=np.int64)
    for lvl, tile in enumerate(chain):
        f = tile // prev
        prev = tile
        temporal.append(tuple((j, int(f[j])) for j in _ORDERS[ords[lvl]] if f[j] > 1))
    m = Mapping(temporal=tuple(temporal), spatial=ctx.spatial,
                name=name or f"best-{format_dataflow(ctx.spatial)}")
    res = evaluate(layer, arch, m)
    model = float(res.total) - (float(res.level_total("MAC")) if "MAC" in res.energy else 0.0)
    if abs(model - cost) > 1e-6 * max(1.0, cost):
        raise AssertionError(f"search cost {cost} disagrees with the evaluation {model} of {m}")
    return SearchResult(mapping=m, result=res, seconds=time.perf_counter() - t0, candidates=pairs,
                        valid_tiles=nvalid)


def blocking_spread(layer, arch, spatial, ratio=1.25):
    """Fraction of all valid blockings (each with its best loop orders) whose energy is within ``ratio`` of
    the best, for a three-level hierarchy; returns (fraction, number of blockings)."""
    ctx = Context(layer, arch, spatial if not isinstance(spatial, str) else resolve_dataflow(layer, arch, spatial))
    if ctx.M != 3:
        raise DseError("blocking_spread handles three-level hierarchies (RF, SRAM, DRAM)")
    D = _divisor_tuples(ctx.Q)
    V0, V1 = _valid_tiles(ctx, 0, D), _valid_tiles(ctx, 1, D)
    top = ctx.Q[None, :]
    one = np.ones(len(LOOPS), dtype=np.int64)
    c0, _ = _level_cost(ctx, 0, one[None, :], V0)
    c2, _ = _level_cost(ctx, 2, V1, top)
    ok = np.all(V1[None, :, :] % V0[:, None, :] == 0, axis=-1)
    ia, ib = np.nonzero(ok)
    c1, _ = _level_cost(ctx, 1, V0[ia], V1[ib])
    total = c0[ia] + c1 + c2[ib]
    return float(np.mean(total <= ratio * total.min())), int(len(total))


def _largest_divisor(n, limit):
    return max(d for d in _divisors(n) if d <= limit)


def resolve_dataflow(layer, arch, text):
    """A U|V string to spatial factors; a loop without a factor takes the largest divisor of its bound that
    still fits the dimension (after the loops before it)."""
    dims = parse_dataflow(text)
    if len(dims) > len(arch.array):
        raise DseError(f"dataflow {text!r} has {len(dims)} dimensions, the array {len(arch.array)}")
    out = []
    for d, dim in enumerate(dims):
        room, res = arch.array[d], []
        for j, f in dim:
            if f is None:
                f = _largest_divisor(layer.bounds[j], room)
            room //= max(f, 1)
            res.append((j, f))
        out.append(tuple(res))
    return out


def spatial_candidates(layer, arch, replication=True):
    """Every unrolled-loop pair U|V (unordered on a square array), each without replication and, when
    ``replication``, with one more loop replicated on either or both dimensions (U,W|V  U|V,W  U,W|V,W').

    Returns a list of spatial unrollings (lists per dimension of (loop, factor)); factors are the largest
    divisors that fit. Only loops with a bound above 1 are unrolled.
    """
    if len(arch.array) != 2:
        raise DseError(f"dataflow exploration needs a 2-D array, {arch.name!r} has {len(arch.array)} dimensions")
    rows, cols = arch.array
    loops = [j for j in range(len(LOOPS)) if layer.bounds[j] > 1]
    pairs = itertools.combinations(loops, 2) if rows == cols else itertools.permutations(loops, 2)
    out = []
    for u, v in pairs:
        fu, fv = _largest_divisor(layer.bounds[u], rows), _largest_divisor(layer.bounds[v], cols)
        base = [((u, fu),), ((v, fv),)]
        out.append(base)
        if not replication:
            continue
        reps = []
        for d, (size, f) in enumerate(((rows, fu), (cols, fv))):
            opts = [None]
            for w in loops:
                if w in (u, v):
                    continue
                fw = _largest_divisor(layer.bounds[w], size // f)
                if fw > 1:
                    opts.append((w, fw))
            reps.append(opts)
        for ru, rv in itertools.product(*reps):
            if ru is None and rv is None:
                continue
            if ru is not None and rv is not None and ru[0] == rv[0]:
                continue
            out.append([base[0] + ((ru,) if ru else ()), base[1] + ((rv,) if rv else ())])
    return out


def _search_row(layer, arch, spatial, row):
    """``row`` completed with the best blocking's energy, utilisation, cycles and mapping (or the error)."""
    try:
        s = search_blocking(layer, arch, spatial)
    except DseError as e:
        return dict(row, energy_pJ=None, error=str(e))
    r = s.result
    return dict(row, energy_pJ=float(r.total), pJ_per_MAC=r.pj_per_mac, utilisation=r.utilisation,
                cycles=r.cycles, search_s=s.seconds, mapping=s.mapping.to_dict(arch),
                energy_per_level_pJ={n: float(r.level_total(n)) for n in r.energy})


def explore_dataflows(layer, arch, replication=True, progress=None):
    """Best blocking of every candidate dataflow. Returns (rows sorted by energy, seconds).

    Each row: dataflow (with factors), pair (U|V loops), replicated, energy, pJ/MAC, utilisation, cycles,
    search seconds. Dataflows with no valid blocking are reported with energy None and the reason.
    """
    t0 = time.perf_counter()
    rows = []
    cands = spatial_candidates(layer, arch, replication)
    for i, sp in enumerate(cands):
        pair = "|".join(LOOPS[dim[0][0]] for dim in sp)
        row = {"dataflow": format_dataflow(sp), "pair": pair, "replicated": any(len(d) > 1 for d in sp)}
        rows.append(_search_row(layer, arch, sp, row))
        if progress:
            progress(i + 1, len(cands))
    rows.sort(key=lambda r: (r["energy_pJ"] is None, r["energy_pJ"] or 0))
    return rows, time.perf_counter() - t0


def best_per_pair(rows):
    """The lowest-energy row of each unrolled-loop pair, without and with replication."""
    out = {}
    for r in rows:
        if r["energy_pJ"] is None:
            continue
        key = r["pair"]
        e = out.setdefault(key, {"pair": key})
        for tag in (("any",) + (("replicated",) if r["replicated"] else ("plain",))):
            if tag not in e or r["energy_pJ"] < e[tag]["energy_pJ"]:
                e[tag] = r
        if r["utilisation"] > e.get("best_util", {"utilisation": -1})["utilisation"]:
            e["best_util"] = r
    return sorted(out.values(), key=lambda e: e["any"]["energy_pJ"])


def four_to_sixteen(sizes):
    """True when every pair of adjacent sizes (aggregate bytes, innermost first) differs by 4x to 16x."""
    return all(4 <= b / a <= 16 for a, b in zip(sizes, sizes[1:]))


def explore_memory(layer, arch, dataflow, rf_sizes, sram_sizes, rf_level="RF", sram_level="SRAM", progress=None):
    """Best blocking for every (RF size, SRAM size), energies looked up in the architecture's table.

    Returns (rows, seconds); a row has rf_bytes, sram_bytes, energy, per-level energy, pJ/MAC, whether the
    hierarchy obeys the 4-16x rule (aggregate RF over all PEs vs SRAM) and the mapping.
    """
    t0 = time.perf_counter()
    rows = []
    grid = list(itertools.product(rf_sizes, sram_sizes))
    for i, (rf, sram) in enumerate(grid):
        a = arch.with_sizes({rf_level: rf, sram_level: sram}, name=f"{arch.name}_rf{rf}_sram{sram // 1024}k")
        row = {"rf_bytes": rf, "sram_bytes": sram, "rule_4_16x": four_to_sixteen([rf * arch.pes, sram])}
        rows.append(_search_row(layer, a, dataflow, row))
        if progress:
            progress(i + 1, len(grid))
    return rows, time.perf_counter() - t0
