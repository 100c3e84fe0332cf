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

from .layer import LOOPS, TENSORS, DseError
from .mapping import Mapping, format_dataflow, parse_dataflow
from .model import Context, evaluate
from .arch import tile_elements

__all__ = ["CANONICAL_ORDERS", "check_searchable", "search_blocking", "blocking_spread", "spatial_candidates", "explore_dataflows",
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


# Refuse searches whose tile space would take hours (the product of the divisor counts of the loop bounds).
MAX_TILE_CANDIDATES = 2_000_000


def check_searchable(layer):
    """Refuse up front a layer whose tile space (the product of the divisor counts of its bounds) would make
    the blocking search take hours."""
    n = 1
    for b in layer.bounds:
        n *= len(_divisors(int(b)))
    if n > MAX_TILE_CANDIDATES:
        raise DseError(f"layer {layer.name!r}: loop bounds {', '.join(f'{k}={v}' for k, v in zip(LOOPS, layer.bounds))} "
                       f"give {n:,} tile candidates per level (limit {MAX_TILE_CANDIDATES:,}): the search would take "
                       f"hours; split the layer")
    return n


def _divisor_tuples(q) -> np.ndarray:
    n = 1
    for x in q:
        n *= len(_divisors(int(x)))
    if n > MAX_TILE_CANDIDATES:
        raise DseError(f"loop bounds {dict(zip(LOOPS, (int(x) for x in q)))} give {n:,} tile candidates per level "
                       f"(limit {MAX_TILE_CANDIDATES:,}): the blocking search would take hours; split the layer")
    grids = np.meshgrid(*[np.array(_divisors(int(x)), dtype=np.int64) for x in q], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=-1)


def _valid_tiles(ctx, level, D):
    lv = ctx.arch.levels[level]
    if level == ctx.M - 1:
        cand = ctx.Q[None, :]
    else:
        cand = D
    ext = cand if lv.per_pe else cand * ctx.S
    return cand[ctx.arch.fits(level, tile_elements(ext, ctx.padded))]


def _order_fixed_levels(ctx):
    """Levels whose loop order changes the counts of another level: those some tensor bypasses (its loop
    sequence at the next level holding it runs through them). Their orders are enumerated outside the DP."""
    if not ctx.bypass:
        return []
    return [l for l in range(ctx.M - 1) if len(ctx.holds[l]) < len(TENSORS)
            and (l > 0 or ctx.arch.mac_register or any(ctx.lo[t] < l for t in TENSORS))]


def _level_costs(ctx, level, tile, fixed):
    """(cost, index of the canonical order) at ``level``: its fixed order, or the best of the three."""
    memo = {}
    tiles = lambda l: memo[l] if l in memo else memo.setdefault(l, tile(l))
    cache = {}
    if level in fixed:
        o = _ORDERS[fixed[level]]
        order = lambda l: _ORDERS[fixed[l]] if l in fixed else o
        c = ctx.level_cost(level, tiles, order, cache)
        return c, np.full(np.shape(c), fixed[level], dtype=np.int8)
    costs = []
    for o in _ORDERS:
        order = lambda l, o=o: o if l == level else _ORDERS[fixed[l]]
        costs.append(np.asarray(ctx.level_cost(level, tiles, order, cache), dtype=np.float64))
    costs = np.stack(np.broadcast_arrays(*costs))
    best = np.argmin(costs, axis=0)
    return np.take_along_axis(costs, best[None], axis=0)[0], best.astype(np.int8)


def _keep_from(ctx):
    """keep[L]: lowest level whose tile must still be known after level L (for the counts above L)."""
    need = [min([L - 1] + [ctx.child[t][L] for t in TENSORS if t in ctx.holds[L]]) for L in range(ctx.M)]
    keep = []
    for L in range(ctx.M):
        k = min([L] + [need[L2] for L2 in range(L + 1, ctx.M)])
        keep.append(max(k, 0))
    return keep


def _dp(ctx, V=None):
    """Exact minimum over blockings and loop orders; returns (cost, tiles per level, order index per level,
    pairs evaluated, valid tiles per level). Dynamic programming over levels: the state after level L is the
    chain of tiles from the lowest level a later count still depends on (the level itself without bypass)."""
    if V is None:
        D = _divisor_tuples(ctx.Q)
        V = [_valid_tiles(ctx, lvl, D) for lvl in range(ctx.M)]
    for lvl, v in enumerate(V):
        if len(v) == 0:
            raise DseError(f"no tile of layer {ctx.layer.name!r} fits level {ctx.arch.levels[lvl].name} of "
                           f"{ctx.arch.name!r} with dataflow {format_dataflow(ctx.spatial)}")
    fixed_levels = _order_fixed_levels(ctx)
    keep = _keep_from(ctx)
    best = None
    pairs_total = 0
    for combo in itertools.product(range(len(_ORDERS)), repeat=len(fixed_levels)):
        fixed = dict(zip(fixed_levels, combo))
        r = _dp_fixed(ctx, V, keep, fixed)
        if r is None:
            continue
        pairs_total += r[3]
        if best is None or r[0] < best[0]:
            best = r
    if best is None:
        raise DseError(f"no blocking of layer {ctx.layer.name!r} fits {ctx.arch.name!r} with dataflow "
                       f"{format_dataflow(ctx.spatial)} (tiles of adjacent levels never nest)")
    return best[0], best[1], best[2], pairs_total, [len(v) for v in V]


def _free_level0(ctx):
    """Level 0's cost does not depend on its tiles (every MAC reads it) and no count above level 1 depends on
    them: then the counts at level 1 only fall as the level-0 tile grows (each irrelevant factor moved down
    divides a by at most itself; a relevant factor moved down can only extend a stationary prefix), so for a
    level-1 tile only the maximal level-0 tiles dividing it need evaluating."""
    return not ctx.arch.mac_register and not ctx.bypass and ctx.M >= 2


def _spf(top):
    """Smallest prime factor of 0..top (0 and 1 map to 0)."""
    spf = np.zeros(top + 1, dtype=np.int64)
    for n in range(2, top + 1):
        if spf[n] == 0:
            spf[n::n][spf[n::n] == 0] = n
    return spf


def _growth(ctx, A):
    """grow[a, j] = the largest prime p such that tile A[a] with loop j multiplied by p still fits level 0
    (1: none)."""
    spf = _spf(int(ctx.Q.max()))
    primes = [p for p in range(2, len(spf)) if spf[p] == p]
    grow = np.ones(A.shape, dtype=np.int64)
    lv = ctx.arch.levels[0]
    for j in range(len(LOOPS)):
        for p in primes:
            if p > ctx.Q[j]:
                break
            t = A.copy()
            t[:, j] *= p
            ext = t if lv.per_pe else t * ctx.S
            fit = ctx.arch.fits(0, tile_elements(ext, ctx.padded))
            if not fit.any():
                break
            grow[fit, j] = p
    return grow


def _divides_fn(Q):
    """f(A, B) -> bool matrix A[a] | B[b], by per-loop lookup tables over the divisors of Q (much faster than
    elementwise modulo on the (A x B x 7) cube)."""
    divs = [np.array(_divisors(int(q)), dtype=np.int64) for q in Q]
    tabs = [(d[None, :] % d[:, None] == 0) for d in divs]
    spf = _spf(int(max(Q)))
    # spf of the factor B/A where A | B and B > A; a huge value where B == A (nothing to grow); 0 elsewhere.
    sptab = [np.where(t, np.where(d[None, :] == d[:, None], 32767, np.minimum(spf[d[None, :] // d[:, None]], 32766)),
                      0).astype(np.int16) for d, t in zip(divs, tabs)]

    order = sorted((j for j, d in enumerate(divs) if len(d) > 1), key=lambda j: -len(divs[j]))

    def divides(A, B, grow=None):
        """Pairs (a, b) with A[a] | B[b]; with ``grow``, also A[a] maximal: no loop j can take the smallest prime
        of B_j / A_j and still fit (grow[a, j] is the largest prime that fits). The two loops with the most
        divisors are checked on the full A x B matrix, the others only on the pairs left."""
        def test(j, ia, ib, a_rows):
            if grow is None:
                return tabs[j][ia, ib]
            return sptab[j][ia, ib] > np.minimum(grow[a_rows, j], 32766).astype(np.int16)
        idx = [(np.searchsorted(divs[j], A[:, j]), np.searchsorted(divs[j], B[:, j])) for j in range(len(divs))]
        ok = np.ones((len(A), len(B)), dtype=bool)
        full, rest = order[:2], order[2:]
        for j in full:
            ia, ib = idx[j]
            if grow is None:
                ok &= tabs[j][ia][:, ib]
            else:
                ok &= sptab[j][ia][:, ib] > np.minimum(grow[:, j], 32766).astype(np.int16)[:, None]
        pa, pb = np.nonzero(ok)
        for j in rest:
            ia, ib = idx[j]
            keep = test(j, ia[pa], ib[pb], pa)
            pa, pb = pa[keep], pb[keep]
        return pa, pb
    return divides


def _dp_fixed(ctx, V, keep, fixed):
    divides = _divides_fn(ctx.Q)
    # Level 0: states = its valid tiles.
    idx = np.arange(len(V[0]), dtype=np.int64)[:, None]          # (n, w): tile indices of levels keep..L
    lo = 0
    cost, o0 = _level_costs(ctx, 0, lambda l: V[0], fixed)
    cost = np.broadcast_to(np.asarray(cost, dtype=np.float64), (len(V[0]),)).copy()
    o0 = np.broadcast_to(o0, (len(V[0]),)).copy()
    hist = [(idx, None, o0)]
    pairs = len(V[0])
    for L in range(1, ctx.M):
        A, B = V[L - 1], V[L]
        nb = len(B)
        # States grouped by their tile at L-1.
        last = idx[:, -1]
        srt = np.argsort(last, kind="stable")
        counts = np.bincount(last, minlength=len(A))
        starts = np.concatenate([[0], np.cumsum(counts)])
        new_lo = keep[L]
        grow = _growth(ctx, A) if L == 1 and _free_level0(ctx) else None
        n_idx, n_cost, n_back, n_ord = [], [], [], []
        step = max(1, _CHUNK_PAIRS // max(1, len(idx)))
        for s in range(0, nb, step):
            b = B[s:s + step]
            ia, ib = divides(A, b, grow)                              # T_{L-1} | T_L (T_{L-1} maximal)
            if len(ia) == 0:
                continue
            rep = counts[ia]
            if idx.shape[1] == 1 and np.all(rep == 1):
                rows = srt[starts[ia]]
                jb = ib
            else:
                keepm = rep > 0
                ia, ib, rep = ia[keepm], ib[keepm], rep[keepm]
                if len(ia) == 0:
                    continue
                jb = np.repeat(ib, rep)
                base = np.repeat(starts[ia], rep)
                offs = np.arange(len(jb)) - np.repeat(np.cumsum(rep) - rep, rep)
                rows = srt[base + offs]
            pairs += len(rows)
            prev = idx[rows]
            tile = lambda l: b[jb] if l == L else V[l][prev[:, l - lo]]
            c, o = _level_costs(ctx, L, tile, fixed)
            total = cost[rows] + np.broadcast_to(c, rows.shape)
            o = np.broadcast_to(o, rows.shape)
            st = np.concatenate([prev[:, new_lo - lo:], (s + jb)[:, None]], axis=1) if new_lo < L else (s + jb)[:, None]
            if st.shape[1] == 1:
                key = st[:, 0]
            else:
                _, key = np.unique(st, axis=0, return_inverse=True)
                key = key.ravel()
            order = np.lexsort((total, key))
            first = np.ones(len(order), dtype=bool)
            first[1:] = key[order][1:] != key[order][:-1]
            sel = order[first]
            n_idx.append(st[sel]); n_cost.append(total[sel]); n_back.append(rows[sel]); n_ord.append(o[sel])
        if not n_idx:
            return None
        idx = np.concatenate(n_idx)
        cost = np.concatenate(n_cost)
        hist.append((idx, np.concatenate(n_back), np.concatenate(n_ord)))
        lo = new_lo
    r = int(np.argmin(cost))
    best = float(cost[r])
    chain, ords = [], []
    for L in range(ctx.M - 1, -1, -1):
        idx_L, back, ordr = hist[L]
        chain.append(V[L][idx_L[r, -1]])
        ords.append(int(ordr[r]))
        if L:
            r = int(back[r])
    return best, chain[::-1], ords[::-1], pairs


def search_blocking(layer, arch, spatial, *, name=None) -> SearchResult:
    """Minimum-energy blocking and loop orders for a fixed spatial unrolling (exact: see the module doc).

    Parameters
    ----------
    layer, arch
    spatial : list or str
        Per array dimension ``[(loop index, factor), ...]`` or a U|V string with factors (``"C16|K16"``).
    """
    t0 = time.perf_counter()
    check_searchable(layer)
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
    if ctx.M != 3 or ctx.bypass:
        raise DseError("blocking_spread handles three-level hierarchies (RF, SRAM, DRAM) without bypass")
    D = _divisor_tuples(ctx.Q)
    V0, V1 = _valid_tiles(ctx, 0, D), _valid_tiles(ctx, 1, D)
    top = ctx.Q[None, :]
    c0, _ = _level_costs(ctx, 0, lambda l: V0, {})
    c2, _ = _level_costs(ctx, 2, lambda l: top if l == 2 else V1, {})
    ia, ib = _divides_fn(ctx.Q)(V0, V1)
    c1, _ = _level_costs(ctx, 1, lambda l: V0[ia] if l == 0 else V1[ib], {})
    total = np.broadcast_to(c0, (len(V0),))[ia] + c1 + np.broadcast_to(c2, (len(V1),))[ib]
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
