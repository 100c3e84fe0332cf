"""The complete spatial search space and its exact branch-and-bound exploration.

Space. On each dimension of a 2-D PE array: nothing, any one loop, or an ordered pair of different loops
(inner, outer: replication), with any factor from 2 up to the dimension (pairs: product up to it). The same
loop may sit on both dimensions (K16|K16 unrolls K 256-fold). A factor that does not divide its bound pads
the loop (ceil), and the padded MACs are paid in energy and cycles.

Exact reductions (nothing that could be optimal is lost):
- of the factors f with the same ceil(bound / f) only the smallest is kept (same temporal loops, less padding;
  every count and tile only shrinks), and so for the total factor of a loop over both dimensions;
- on a square array the two dimensions are interchangeable (U|V = V|U);
- for a layer symmetric in X/Y (X = Y, FX = FY, equal strides) the mirrored unrolling is the same point.

Heuristic reduction (stated, optional): unrollings whose useful share of the PE-cycles (padding counted) is
below ``min_util`` times the best share the layer can reach are not explored (default 0.75: they cost at least a third more cycles, and in this model they
win by hundredths of a percent of energy at most, because the per-PE RF energy that dominates does not depend on
the unrolling; so many of them lie that close to the optimum that no bound prunes them: on ResNet-18 C2,
``min_util=0`` takes 443 exact searches and minutes to find C16|Y4 at utilisation 0.25, 0.002% below K16|C16).
``min_util=0`` explores everything.

Search. The unrollings sharing one spatial factor vector share Q, the valid tiles and every count except the
array hops; a lower bound on their energy (:func:`_lower_bound`) is computed per vector, exact per hop
pattern. Unrollings are then searched exactly (:func:`~.search.search_blocking`) in order of their bound and
the search stops when the next bound is not below the best energy found: the result is the exact optimum
of the explored set. Bound for the usual RF | SRAM | DRAM hierarchy: the RF energy is exact (every MAC reads
it), the DRAM energy exact for each SRAM tile T1 and order, and at the SRAM each tensor is read at least
prod(Q/T1) of its irrelevant loops; a tensor that the SRAM order cannot keep stationary at least
prod(Q)/max over RF tiles of its irrelevant extent. Other hierarchies use the weaker compulsory bound.
"""

from __future__ import annotations

import time

import numpy as np

from .layer import IRRELEVANT, LOOPS, TENSORS, DseError
from .mapping import format_dataflow
from .model import Context
from .arch import tile_elements
from .search import _ORDERS, _divisor_tuples, _spf, _valid_tiles, check_searchable, search_blocking

__all__ = ["dim_options", "enumerate_space", "explore_space", "lower_bound"]

_IRR = {t: [n in IRRELEVANT[t] for n in LOOPS] for t in TENSORS}
_MIRROR = {LOOPS.index("X"): LOOPS.index("Y"), LOOPS.index("Y"): LOOPS.index("X"),
           LOOPS.index("FX"): LOOPS.index("FY"), LOOPS.index("FY"): LOOPS.index("FX")}


def _factors(b, room):
    """Factors 2..min(room, b) of a loop of bound b, the smallest for each ceil(b / f)."""
    out = set()
    for f in range(2, min(room, b) + 1):
        out.add(-(-b // -(-b // f)))
    return sorted(f for f in out if f <= room)


def dim_options(bounds, size, pairs=True) -> list:
    """Every unrolling of one array dimension of ``size`` PEs: (), ((j, f),), ((j1, f1), (j2, f2)) (inner
    first), only loops with bound > 1."""
    loops = [j for j, b in enumerate(bounds) if b > 1]
    out = [()]
    for j in loops:
        out += [((j, f),) for f in _factors(bounds[j], size)]
    if pairs:
        for j1 in loops:
            for j2 in loops:
                if j1 == j2:
                    continue
                for f1 in _factors(bounds[j1], size // 2):
                    out += [((j1, f1), (j2, f2)) for f2 in _factors(bounds[j2], size // f1)]
    return out


def _svec(opt):
    s = np.ones(len(LOOPS), dtype=np.int64)
    for j, f in opt:
        s[j] *= f
    return s


def enumerate_space(layer, arch, min_util=0.75, pairs=True):
    """The unrollings of the space after the exact reductions and the utilisation floor.

    Returns (list of spatial unrollings, stats dict: complete = every (dimension option) combination,
    after_exact = after the exact reductions, explored = after the utilisation floor)."""
    if len(arch.array) != 2:
        raise DseError(f"dataflow exploration needs a 2-D array, {arch.name!r} has {len(arch.array)} dimensions")
    rows, cols = arch.array
    b = np.array(layer.bounds, dtype=np.int64)
    opt_r = dim_options(layer.bounds, rows, pairs)
    opt_c = opt_r if cols == rows else dim_options(layer.bounds, cols, pairs)
    Sr = np.array([_svec(o) for o in opt_r])
    Sc = np.array([_svec(o) for o in opt_c])
    square = rows == cols
    if square:
        i, k = np.triu_indices(len(opt_r))
    else:
        i, k = (g.ravel() for g in np.meshgrid(np.arange(len(opt_r)), np.arange(len(opt_c)), indexing="ij"))
    complete = len(opt_r) * len(opt_c)
    S = Sr[i] * Sc[k]
    q = -(-b // S)
    ok = np.all(S <= b, axis=1) & np.all(-(-b // q) == S, axis=1)
    if square and layer.X == layer.Y and layer.FX == layer.FY and layer.stride_x == layer.stride_y:
        index = {o: n for n, o in enumerate(opt_r)}
        mirror = np.array([index[tuple((_MIRROR.get(j, j), f) for j, f in o)] for o in opt_r])
        mi, mk = np.minimum(mirror[i], mirror[k]), np.maximum(mirror[i], mirror[k])
        ok &= (i < mi) | ((i == mi) & (k <= mk))
    after_exact = int(ok.sum())
    util = layer.macs / (np.prod(q.astype(np.float64), axis=1) * rows * cols)
    # The floor is relative to the best utilisation the layer can reach (1 for most layers; a depthwise 4x4
    # layer cannot fill 16x16 PEs).
    best_util = float(util[ok].max()) if ok.any() else 1.0
    ok &= util >= min_util * best_util - 1e-12
    sel = np.nonzero(ok)[0]
    cands = [(opt_r[i[n]], opt_c[k[n]]) for n in sel]
    return cands, {"complete": complete, "after_exact": after_exact, "explored": len(cands),
                   "min_util": min_util, "best_util": best_util, "S": S[sel], "util": util[sel]}


def _standard(ctx):
    a = ctx.arch
    return ctx.M == 3 and ctx.P == 1 and not ctx.bypass and not a.mac_register


def lower_bound(ctx, fans):
    """Lower bounds on the best energy (MAC energy excluded) of one spatial factor vector, one per hop
    pattern in ``fans`` (list of {tensor: fan}). See the module doc; the compulsory bound off the usual
    hierarchy."""
    one = np.ones(len(LOOPS), dtype=np.int64)
    arch = ctx.arch
    inner = 0.0
    for t in TENSORS:
        lo = ctx.lo[t]
        if not arch.mac_register:
            inner += ctx.sizes[t] * float(arch.energy(lo, t)) * float(ctx.count(t, lo, np.float64(ctx.innermost(t))))
    hopw = {t: ctx.sizes[t] * float(arch.hop_energy(t)) for t in TENSORS}
    if not _standard(ctx):
        rest = sum(ctx.sizes[t] * float(arch.energy(l, t)) for t in TENSORS for l in ctx.levels_of[t]
                   if arch.mac_register or l != ctx.lo[t])
        if arch.mac_register:
            rest = sum(ctx.sizes[t] * float(arch.energy(l, t)) for t in TENSORS for l in ctx.levels_of[t])
        return [inner + rest + sum(hopw[t] * fan[t] for t in TENSORS) for fan in fans]
    D = _divisor_tuples(ctx.Q)
    V0 = _valid_tiles(ctx, 0, D)
    V1 = _valid_tiles(ctx, 1, D)
    if len(V0) == 0 or len(V1) == 0:
        return [np.inf for _ in fans]
    Q = ctx.Q
    # Both parts of the bound only fall as the SRAM tile grows: only the maximal valid tiles matter.
    V1 = _maximal(ctx, 1, V1)
    irr = np.array([ctx.irr[t] for t in TENSORS])                     # (3, 7)
    # DRAM (level 2) counts for every SRAM tile and canonical order, all at once.
    F = Q // V1                                                        # (n, 7) factors above the SRAM
    a_all = np.stack([np.prod(np.where(irr[i], F, 1), axis=1) for i in range(3)], axis=1).astype(np.float64)
    e2 = np.array([ctx.sizes[t] * float(arch.energy(2, t)) for t in TENSORS])
    c2 = None
    for o in _ORDERS:
        Fo = F[:, o]                                                   # (n, 7)
        io = irr[:, o]                                                 # (3, 7)
        stay = (Fo[None, :, :] == 1) | io[:, None, :]                  # (3, n, 7)
        running = np.cumprod(np.concatenate([np.ones(stay.shape[:2] + (1,), dtype=bool), stay[:, :, :-1]], axis=2),
                             axis=2, dtype=bool)
        disc = np.prod(np.where(io[:, None, :] & running, Fo[None, :, :], 1), axis=2).T.astype(np.float64)
        a2 = a_all / disc                                              # (n, 3)
        cnt = a2.copy()
        cnt[:, 1] = 2 * a2[:, 1] - 1
        c = cnt @ e2
        c2 = c if c2 is None else np.minimum(c2, c)
    a = {t: a_all[:, i] for i, t in enumerate(TENSORS)}
    floor = {t: float(np.prod(Q[ctx.irr[t]])) / float(np.max(np.prod(V0[:, ctx.irr[t]], axis=1))) for t in TENSORS}
    # Canonical order -> the tensors it cannot keep stationary at all (FL-stationary: IF and OF; else FL).
    nonstat = [("IF", "OF"), ("FL",), ("FL",)]
    e1 = {t: ctx.sizes[t] * float(arch.energy(1, t)) for t in TENSORS}
    H = np.array([[hopw[t] * fan[t] for fan in fans] for t in TENSORS])   # (3, n_fans)
    best = None
    for ns in nonstat:
        base = c2.copy()
        A = np.empty((len(V1), 3))
        for i, t in enumerate(TENSORS):
            at = np.maximum(a[t], floor[t]) if t in ns else a[t]
            base += e1[t] * (2 * at - 1 if t == "OF" else at)
            A[:, i] = at
        m = np.min(base[:, None] + A @ H, axis=0)
        best = m if best is None else np.minimum(best, m)
    return [inner + float(x) for x in best]


def _sizes_inner(layer, arch, keys):
    """Padded tensor sizes (n, 3) and the exact innermost (RF) energy (n,) of each spatial factor vector."""
    b = np.array(layer.bounds, dtype=np.int64)
    PB = (-(-b // keys) * keys).astype(np.float64)
    c = {n: PB[:, j] for j, n in enumerate(LOOPS)}
    sizes = np.stack([c["B"] * c["C"] * ((c["Y"] - 1) * layer.stride_y + c["FY"]) * ((c["X"] - 1) * layer.stride_x + c["FX"]),
                      c["B"] * c["K"] * c["Y"] * c["X"], c["K"] * c["C"] * c["FY"] * c["FX"]], axis=1)
    inner = np.zeros(len(keys))
    for i, t in enumerate(TENSORS):
        a = np.prod(PB[:, np.array(_IRR[t])], axis=1)          # every MAC reads the per-PE level 0
        cnt = 2 * a - 1 if t == "OF" else (a / (layer.stride_x * layer.stride_y) if t == "IF" else a)
        inner += sizes[:, i] * float(arch.energy(0, t)) * cnt
    return sizes, inner


def batch_bounds(layer, arch, keys, members):
    """:func:`lower_bound` for many spatial factor vectors at once (the usual RF | SRAM | DRAM hierarchy).

    ``keys`` (g, 7) are the vectors, ``members[i]`` the list of hop patterns ({tensor: fan}) of vector i.
    Returns one list of bounds per vector. All tiles of all vectors go through each numpy step together."""
    b = np.array(layer.bounds, dtype=np.int64)
    Qs = -(-b // keys)
    ng = len(keys)
    divs = {}
    Ds, gids = [], []
    for g in range(ng):
        grids = np.meshgrid(*[divs.setdefault(int(q), np.array(_divisors_of(int(q)), dtype=np.int64))
                              for q in Qs[g]], indexing="ij")
        D = np.stack([x.ravel() for x in grids], axis=-1)
        Ds.append(D)
        gids.append(np.full(len(D), g, dtype=np.int64))
    D = np.concatenate(Ds)
    gid = np.concatenate(gids)
    starts = np.concatenate([[0], np.cumsum([len(x) for x in Ds])[:-1]])
    Srep, Qrep = keys[gid], Qs[gid]
    irr = np.array([_IRR[t] for t in TENSORS])                          # (3, 7)
    ok0 = arch.fits(0, tile_elements(D, layer))
    G = np.stack([np.maximum.reduceat(np.where(ok0, np.prod(np.where(irr[i], D, 1), axis=1), 0), starts)
                  for i in range(3)], axis=1).astype(np.float64)        # (g, 3) largest irrelevant RF extent
    ok1 = arch.fits(1, tile_elements(D * Srep, layer))
    spf = _spf(int(Qs.max()))
    keep = ok1.copy()
    for j in range(len(LOOPS)):
        room = Qrep[:, j] // D[:, j]
        can = keep & (room > 1)
        if not can.any():
            continue
        idx = np.nonzero(can)[0]
        grow = D[idx].copy()
        grow[:, j] *= spf[room[idx]]
        fit = arch.fits(1, tile_elements(grow * Srep[idx], layer))
        keep[idx[fit]] = False
    D1, g1, Q1 = D[keep], gid[keep], Qrep[keep]
    sizes, inner = _sizes_inner(layer, arch, keys)
    e1 = sizes * np.array([float(arch.energy(1, t)) for t in TENSORS])
    e2 = sizes * np.array([float(arch.energy(2, t)) for t in TENSORS])
    hopw = sizes * np.array([float(arch.hop_energy(t)) for t in TENSORS])
    F = Q1 // D1
    a_all = np.stack([np.prod(np.where(irr[i], F, 1), axis=1) for i in range(3)], axis=1).astype(np.float64)
    c2 = None
    for o in _ORDERS:
        Fo, io = F[:, o], irr[:, o]
        stay = (Fo[None, :, :] == 1) | io[:, None, :]
        running = np.cumprod(np.concatenate([np.ones(stay.shape[:2] + (1,), dtype=bool), stay[:, :, :-1]], axis=2),
                             axis=2, dtype=bool)
        disc = np.prod(np.where(io[:, None, :] & running, Fo[None, :, :], 1), axis=2).T.astype(np.float64)
        a2 = a_all / disc
        cnt = a2.copy()
        cnt[:, 1] = 2 * a2[:, 1] - 1
        c = np.sum(cnt * e2[g1], axis=1)
        c2 = c if c2 is None else np.minimum(c2, c)
    with np.errstate(divide="ignore"):
        floor = np.prod(np.where(irr[None, :, :], Qs[:, None, :], 1), axis=2) / G    # (g, 3), inf: no RF tile
    # Pairs (tile row, hop pattern) of the same vector.
    rs = np.searchsorted(g1, np.arange(ng))
    re = np.searchsorted(g1, np.arange(ng), side="right")
    cg, cfan = [], []
    for g in range(ng):
        for fan in members[g]:
            cg.append(g)
            cfan.append([fan[t] for t in TENSORS])
    cg = np.array(cg, dtype=np.int64)
    H = np.array(cfan, dtype=np.float64) * hopw[cg]                   # (c, 3)
    n_rows = re[cg] - rs[cg]
    pair_c = np.repeat(np.arange(len(cg)), n_rows)
    pair_r = np.repeat(rs[cg], n_rows) + (np.arange(len(pair_c)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows))
    out = np.full(len(cg), np.inf)
    if len(pair_c):
        best = None
        for ns in ([0, 1], [2], [2]):                                  # IF, OF / FL / FL not stationary
            at = a_all.copy()
            for i in ns:
                at[:, i] = np.maximum(at[:, i], floor[g1, i])
            cnt = at.copy()
            cnt[:, 1] = 2 * at[:, 1] - 1
            base = c2 + np.sum(cnt * e1[g1], axis=1)
            v = base[pair_r] + np.sum(at[pair_r] * H[pair_c], axis=1)
            best = v if best is None else np.minimum(best, v)
        firsts = np.concatenate([[0], np.cumsum(n_rows)[:-1]])
        has = n_rows > 0
        out[has] = np.minimum.reduceat(best, firsts[has]) if has.any() else out[has]
    out = out + inner[cg]
    res, k = [], 0
    for g in range(ng):
        res.append(list(out[k:k + len(members[g])]))
        k += len(members[g])
    return res


def _divisors_of(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _maximal(ctx, level, V):
    """The tiles of V (valid at ``level``) that no loop can grow by the smallest prime factor of what is left
    above them and still fit."""
    spf = _spf(int(ctx.Q.max()))
    lv = ctx.arch.levels[level]
    keep = np.ones(len(V), dtype=bool)
    for j in range(len(LOOPS)):
        room = ctx.Q[j] // V[:, j]
        can = room > 1
        if not can.any():
            continue
        g = V[can].copy()
        g[:, j] *= spf[room[can]]
        ext = g if lv.per_pe else g * ctx.S
        fit = ctx.arch.fits(level, tile_elements(ext, ctx.padded))
        idx = np.nonzero(can)[0]
        keep[idx[fit]] = False
    return V[keep]


def _fan(spatial, S, replication_distance):
    """Context.fan without building a Context: spatial fan-out x hop distance per tensor."""
    out = {}
    for t in TENSORS:
        irr = _IRR[t]
        f = 1
        for j in range(len(LOOPS)):
            if irr[j]:
                f *= int(S[j])
        d = 1
        if replication_distance:
            for dim in spatial:
                inner = 1
                for j, fj in dim:
                    if irr[j]:
                        d *= inner
                    else:
                        inner *= fj
        out[t] = f * d
    return out


def _tier0(layer, arch, keys):
    """A cheaper bound per spatial factor vector (rows of ``keys``): the exact innermost energy of the padded
    layer plus one access per element at every other level holding it and one hop per receiving PE."""
    b = np.array(layer.bounds, dtype=np.int64)
    PB = (-(-b // keys) * keys).astype(np.float64)
    c = {n: PB[:, j] for j, n in enumerate(LOOPS)}
    sizes = {"IF": c["B"] * c["C"] * ((c["Y"] - 1) * layer.stride_y + c["FY"]) * ((c["X"] - 1) * layer.stride_x + c["FX"]),
             "OF": c["B"] * c["K"] * c["Y"] * c["X"], "FL": c["K"] * c["C"] * c["FY"] * c["FX"]}
    stride = layer.stride_x * layer.stride_y
    P = arch.n_per_pe
    out = np.zeros(len(keys))
    for t in TENSORS:
        irr = np.array(_IRR[t])
        levels = [l for l, lv in enumerate(arch.levels) if t in lv.holds]
        lo = levels[0]
        spirr = np.prod(keys[:, irr], axis=1).astype(np.float64)
        if not arch.mac_register:
            a = np.prod(PB[:, irr], axis=1) / (spirr if lo >= P else 1)
            cnt = 2 * a - 1 if t == "OF" else (a / stride if t == "IF" else a)
            out += sizes[t] * float(arch.energy(lo, t)) * cnt
            levels = levels[1:]
        out += sizes[t] * sum(float(arch.energy(l, t)) for l in levels)
        out += sizes[t] * float(arch.hop_energy(t)) * spirr
    return out


def explore_space(layer, arch, min_util=0.75, pairs=True, progress=None, max_searches=None, seeds=()):
    """Exact best unrolling over the explored space (see the module doc).

    Returns a dict: best (mapping row), rows (every unrolling searched exactly, by energy), stats (space
    sizes, vectors and unrollings bounded, searched, pruned by a bound, seconds). ``max_searches`` caps the
    exact searches (then the result is no longer guaranteed exact: stats["exact"] says so). ``seeds``:
    unrollings explored whatever their utilisation (e.g. the paper's loop pairs, so that the result is never
    worse than theirs)."""
    import heapq
    t0 = time.perf_counter()
    check_searchable(layer)
    if not 0 <= min_util <= 1:
        raise DseError(f"min_util must be between 0 and 1, not {min_util}")
    cands, st = enumerate_space(layer, arch, min_util, pairs)
    if not cands:
        raise DseError(f"no unrolling of layer {layer.name!r} reaches utilisation {min_util} on {arch.name!r}")
    S = st.pop("S")
    st.pop("util")
    have = {tuple(tuple(d) for d in c) for c in cands}
    extra = []
    for sp in seeds:
        sp = tuple(tuple((int(j), int(f)) for j, f in d if f > 1) for d in sp)
        sp = sp + ((),) * (2 - len(sp))
        if sp not in have and (sp[1], sp[0]) not in have:
            have.add(sp)
            extra.append(sp)
    if extra:
        cands = cands + extra
        S = np.concatenate([S, np.array([_svec([x for d in sp for x in d]) for sp in extra])])
    st["seeds_added"] = len(extra)
    keys, inv = np.unique(S, axis=0, return_inverse=True)
    inv = inv.ravel()
    groups = [[] for _ in range(len(keys))]
    for n, g in enumerate(inv):
        groups[g].append(n)
    t0b = _tier0(layer, arch, keys)
    gorder = np.argsort(t0b, kind="stable")
    state = {"best": None, "inc": np.inf, "searched": 0, "errors": 0, "capped": False}
    rows, heap = [], []
    last = [time.perf_counter()]

    def tell(what, done, total):
        if progress and time.perf_counter() - last[0] > 1.0:
            last[0] = time.perf_counter()
            progress(what, done, total, last[0] - t0)

    def drain():
        while heap and heap[0][0] < state["inc"] * (1 - 1e-12):
            if max_searches is not None and state["searched"] >= max_searches:
                state["capped"] = True
                return
            lb, n = heapq.heappop(heap)
            try:
                s = search_blocking(layer, arch, cands[n])
            except DseError:
                state["errors"] += 1
                continue
            state["searched"] += 1
            r = s.result
            model = float(r.total) - (float(r.level_total("MAC")) if "MAC" in r.energy else 0.0)
            row = {"dataflow": format_dataflow(cands[n]), "energy_pJ": float(r.total), "energy_model_pJ": model,
                   "bound_pJ": float(lb), "pJ_per_MAC": r.pj_per_mac, "utilisation": r.utilisation,
                   "spatial_utilisation": r.spatial_utilisation, "cycles": r.cycles, "search_s": s.seconds,
                   "mapping": s.mapping.to_dict(arch), "result": r, "spatial": cands[n]}
            rows.append(row)
            if model < state["inc"]:
                state["inc"], state["best"] = model, row
            tell(f"{layer.name}: exact blocking searches ({state['searched']} done, best {state['best']['dataflow']})",
                 state["searched"], len(heap) + state["searched"])

    bounded = tier0_pruned = 0
    standard = _standard(Context(layer, arch, cands[0]))
    rank, size = 0, 16
    while rank < len(gorder):
        if t0b[gorder[rank]] >= state["inc"] * (1 - 1e-12):
            tier0_pruned = sum(len(groups[x]) for x in gorder[rank:])
            break
        batch = [g for g in gorder[rank:rank + size] if t0b[g] < state["inc"] * (1 - 1e-12)]
        rank += size
        size = min(4 * size, 256)
        fans = [[_fan(cands[n], keys[g], arch.replication_hop_distance) for n in groups[g]] for g in batch]
        if standard:
            lbs = batch_bounds(layer, arch, keys[batch], fans)
        else:
            lbs = [lower_bound(Context(layer, arch, cands[groups[g][0]]), f) for g, f in zip(batch, fans)]
        for g, lb in zip(batch, lbs):
            bounded += len(groups[g])
            for n, x in zip(groups[g], lb):
                if np.isfinite(x) and x < state["inc"]:
                    heapq.heappush(heap, (float(x), n))
                elif not np.isfinite(x):
                    state["errors"] += 1
        drain()
        tell(f"{layer.name}: bounding spatial factor vectors", min(rank, len(gorder)), len(keys))
    drain()
    if state["best"] is None:
        raise DseError(f"no unrolling of layer {layer.name!r} has a valid blocking on {arch.name!r}")
    st.update(spatial_vectors=len(keys), bounded=bounded, searched=state["searched"],
              pruned_by_bound=len(cands) - state["searched"] - state["errors"], pruned_by_cheap_bound=tier0_pruned,
              no_blocking=state["errors"], exact=not state["capped"], seconds=time.perf_counter() - t0)
    rows.sort(key=lambda r: r["energy_model_pJ"])
    return {"best": state["best"], "rows": rows, "stats": st}
