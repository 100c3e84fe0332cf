"""Tiling Parameter Search (spec section 7) for convolution and dense layers on VTA.

A tiling splits the output into tiles of ``th`` output rows (full width) by ``toc`` output-channel blocks, and
the reduction into steps of ``tic`` input-channel blocks. Units (one GEMM instruction each) run in the order
``order``: ``"hw"`` (spatial tiles outer, then channel tiles, then reduction steps) or ``"oc"`` (channel tiles
outer). Input and weight tiles are double-buffered; a unit reloads a tile only when it differs from the one
most recently loaded (reuse-aware ordering: with ``tic`` covering all input channels, the input tile of a
spatial tile serves every channel tile), and the whole weight tensor stays resident when it fits.

:func:`search` enumerates every tiling, keeps those whose inp/wgt/acc/uop scratchpad use fits, and returns
the one that loads the fewest DRAM bytes, or (the compiler's default) the one with the fewest estimated
cycles, since a schedule that hides every load behind the GEMM may read a little more. :func:`naive_bytes` is the reference schedule
the reduction is measured against: one output-channel block at one output pixel at a time, with nothing
reused (input window and weights reloaded for every pixel); :func:`naive_row_bytes` reloads per output row.
"""

from __future__ import annotations

import dataclasses

from .config import VTAConfig

__all__ = ["ConvGeom", "Tiling", "MapError", "conv_geom", "search", "evaluate", "units", "naive_bytes",
           "naive_row_bytes"]


class MapError(ValueError):
    """A layer that cannot be mapped onto the configuration; the message names the layer and the reason."""


@dataclasses.dataclass(frozen=True)
class ConvGeom:
    """A conv2d/dense layer in blocks of the configuration.

    ``icb``/``ocb`` count channel blocks after padding to the block size; ``icb_w`` is the input blocks one
    output block reads (``icb`` / groups); ``ocb_pg`` output blocks per group (``0`` when ungrouped).
    """

    name: str
    h: int
    w: int
    oh: int
    ow: int
    k: int
    s: int
    p: int
    icb: int
    ocb: int
    icb_w: int
    ocb_pg: int
    block_in: int
    block_out: int

    @property
    def grouped(self):
        return self.ocb_pg > 0

    @property
    def row_step(self):
        """DRAM rows advanced per loaded row: 1x1 kernels without padding skip the rows a stride jumps over."""
        return self.s if (self.k == 1 and self.p == 0) else 1

    @property
    def wp(self):
        return self.w + 2 * self.p

    def in_rows(self, th):
        return th if self.row_step > 1 else (th - 1) * self.s + self.k

    @property
    def wgt_entries(self):
        return self.ocb * self.icb_w * self.k * self.k


def conv_geom(layer, cfg: VTAConfig, notes=None) -> ConvGeom:
    """Block geometry of ``layer``; channels are padded to the block size (and ``notes`` says so).

    Raises
    ------
    MapError
        Grouped convolutions whose channels per group are not a multiple of the block, or batch > 1 configs.
    """
    c, h, w = layer.in_shape
    o, oh, ow = layer.out_shape
    bi, bo = cfg.block_in, cfg.block_out
    where = f"layer {layer.name!r}"
    if cfg.batch != 1:
        raise MapError(f"{where}: the compiler maps batch 1 only (config BATCH={cfg.batch})")
    if layer.groups == 1:
        icb, ocb = -(-c // bi), -(-o // bo)
        if notes is not None and c % bi:
            notes.append(f"{where}: in_channels {c} padded to {icb * bi} (zero channels)")
        if notes is not None and o % bo:
            notes.append(f"{where}: out_channels {o} padded to {ocb * bo} (outputs dropped)")
        return ConvGeom(layer.name, h, w, oh, ow, layer.kernel, layer.stride, layer.pad, icb, ocb, icb, 0, bi, bo)
    cig, cog = c // layer.groups, o // layer.groups
    if cig % bi or cog % bo:
        raise MapError(f"{where}: grouped convolution with {cig} input / {cog} output channels per group: "
                       f"each must be a multiple of the block size ({bi} in, {bo} out); padding groups is not "
                       f"supported")
    return ConvGeom(layer.name, h, w, oh, ow, layer.kernel, layer.stride, layer.pad, c // bi, o // bo, cig // bi,
                    cog // bo, bi, bo)


@dataclasses.dataclass(frozen=True)
class Tiling:
    th: int
    toc: int
    tic: int
    order: str = "hw"

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Unit:
    """One GEMM step: output tile ``tile`` (rows [oh0, oh0+rows), channel blocks [oc0, oc0+toc)), reduction
    blocks ``ics`` (absolute input blocks), and whether the input / weight tiles must be (re)loaded."""

    index: int
    tile: int
    oh0: int
    rows: int
    oc0: int
    ic0: int
    ics: tuple
    first: bool
    last: bool
    load_inp: bool
    load_wgt: bool


def units(g: ConvGeom, t: Tiling, resident: bool):
    """The units of tiling ``t`` in execution order (with reuse decided); ``resident``: weights loaded once."""
    sp = [(oh0, min(t.th, g.oh - oh0)) for oh0 in range(0, g.oh, t.th)]
    ocs = list(range(0, g.ocb, t.toc))
    ics = [0] if g.grouped else list(range(0, g.icb, t.tic))
    outer = [(s, o) for s in sp for o in ocs] if t.order == "hw" else [(s, o) for o in ocs for s in sp]
    out, last_inp, last_wgt, n = [], None, None, 0
    for tile, ((oh0, rows), oc0) in enumerate(outer):
        for j, ic0 in enumerate(ics):
            if g.grouped:
                blocks = tuple(range(oc0 // g.ocb_pg * g.icb_w, (oc0 + t.toc) // g.ocb_pg * g.icb_w))
            else:
                blocks = tuple(range(ic0, min(ic0 + t.tic, g.icb)))
            ikey, wkey = (oh0, blocks), (oc0, ic0)
            load_wgt = (n == 0) if resident else wkey != last_wgt
            out.append(Unit(n, tile, oh0, rows, oc0, ic0, blocks, j == 0, j == len(ics) - 1, ikey != last_inp,
                            load_wgt))
            last_inp, last_wgt, n = ikey, wkey, n + 1
    return out


def tic_eff(g: ConvGeom, t: Tiling):
    return t.toc // g.ocb_pg * g.icb_w if g.grouped else t.tic


def evaluate(g: ConvGeom, t: Tiling, cfg: VTAConfig, *, residual=False, res_gemm=False, rq_rows=0):
    """Scratchpad use, DRAM bytes and estimated cycles of tiling ``t``; a dict with ``fits`` and ``reason``.

    ``residual``: the layer adds a residual tensor (read once); ``res_gemm``: it is added by the GEMM, from
    double-buffered input-scratchpad tiles and one identity weight block. ``rq_rows``: operand rows per output
    block of the graph requantisation (resident in the accumulator next to the bias, one ALU pass each plus
    the MULSHR; :class:`sw.vta.compile.GraphRequant`).
    """
    n_sp = -(-g.oh // t.th)
    n_oc = g.ocb // t.toc
    n_ic = 1 if g.grouped else -(-g.icb // t.tic)
    te = tic_eff(g, t)
    k2 = g.k * g.k
    inp_tile = te * g.in_rows(t.th) * g.wp
    single_inp = n_sp == 1 and (n_ic == 1 or g.grouped) and (n_oc == 1 or not g.grouped)
    n_inp = 1 if single_inp else 2
    extra_wgt = 1 if res_gemm else 0
    resident = g.wgt_entries + extra_wgt <= cfg.wgt_depth
    tw = g.icb_w if g.grouped else te    # input blocks one output block reads per unit
    wgt_tile = t.toc * tw * k2
    n_tiles = n_sp * n_oc
    n_acc = 1 if n_tiles == 1 else 2
    acc_tile = t.toc * t.th * g.ow
    uops_per = t.toc * tw * k2
    # GEMM kernels: one per (inp buffer, acc buffer) and, for resident weights, per weight tile.
    n_kernels = n_inp * n_acc * (n_oc * n_ic if resident else (1 if n_oc * n_ic == 1 else 2))
    uops = n_kernels * uops_per + (3 + (rq_rows + 1 if rq_rows else 0)) * n_acc * n_oc + 8
    use = {"inp": n_inp * inp_tile + (n_acc * acc_tile if res_gemm else 0),
           "wgt": g.wgt_entries + extra_wgt if resident else 2 * wgt_tile + extra_wgt,
           "acc": n_acc * acc_tile + g.ocb * (1 + rq_rows), "uop": uops}
    cap = {"inp": cfg.inp_depth, "wgt": cfg.wgt_depth, "acc": cfg.acc_depth, "uop": cfg.uop_depth}
    reason = ""
    for k in ("inp", "wgt", "acc", "uop"):
        if use[k] > cap[k]:
            reason = f"{k} needs {use[k]} entries > {cap[k]}"
            break
    if not reason and max(g.p, g.k - 1 - g.p) > 15:
        reason = f"padding {g.p} exceeds the 4-bit LOAD pad fields"
    res = {"tiling": t.to_dict(), "fits": not reason, "reason": reason, "use": use, "units": n_tiles * n_ic}
    if reason:
        return res
    eb_inp, eb_wgt, eb_out = g.block_in, g.block_in * g.block_out, g.block_out
    # Elements narrower than the bus move one per cycle (docs/vta.md, memory interface).
    bw = cfg.bus_bytes
    inp_rate, out_rate = min(bw, eb_inp), min(bw, eb_out)
    inp_bytes = wgt_bytes = 0
    loads, computes = [], []
    for u in units(g, t, resident):
        lb, lc, ni = 0, 0.0, 0
        if u.load_inp:
            v0 = u.oh0 * g.s - g.p
            if g.row_step > 1:
                rows = u.rows
            else:
                n = (u.rows - 1) * g.s + g.k
                rows = min(v0 + n, g.h) - max(v0, 0)
            b = len(u.ics) * rows * g.w * eb_inp
            inp_bytes += b
            lc += b / inp_rate
            ni += len(u.ics)
        if u.load_wgt:
            b = ((g.wgt_entries + extra_wgt) if resident else wgt_tile) * eb_wgt
            wgt_bytes += b
            lc += b / bw
            ni += 1
        entries = t.toc * u.rows * g.ow
        if u.first and res_gemm:
            lc += entries * eb_inp / inp_rate
            ni += 1
        loads.append(lc + 40 * ni)
        c = u.rows * g.ow * t.toc * tw * k2 + 8
        if u.last and rq_rows:
            c += 2 * t.toc * u.rows * g.ow
        if u.first:
            c += entries * (2 if res_gemm else (3 if residual else 1)) + (2 * entries if residual and not res_gemm else 0)
        computes.append(c)
    out_bytes = g.ocb * g.oh * g.ow * eb_out
    res.update(inp_bytes=inp_bytes, wgt_bytes=wgt_bytes, out_bytes=out_bytes, bias_bytes=g.ocb * g.block_out * 4,
               residual_bytes=out_bytes if residual else 0, uop_bytes=4 * uops)
    res["dram_bytes"] = sum(res[k] for k in ("inp_bytes", "wgt_bytes", "out_bytes", "bias_bytes",
                                             "residual_bytes", "uop_bytes"))
    pipe = loads[0] + sum(max(c, l) for c, l in zip(computes, loads[1:] + [0])) + t.toc * t.th * g.ow * eb_out / out_rate
    res["est_cycles"] = int(max(pipe, res["dram_bytes"] / bw))
    return res


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def candidates(g: ConvGeom):
    ths = sorted(set(list(range(1, min(g.oh, 16) + 1)) + [-(-g.oh // n) for n in range(1, g.oh + 1)]))
    if g.grouped:
        tocs = [d * g.ocb_pg for d in _divisors(g.ocb // g.ocb_pg)]
        tics = [0]
    else:
        tocs, tics = _divisors(g.ocb), _divisors(g.icb)
    for th in ths:
        for toc in tocs:
            for tic in tics:
                for order in ("hw", "oc"):
                    yield Tiling(th, toc, tic, order)


def search(g: ConvGeom, cfg: VTAConfig, *, residual=False, res_gemm=False, objective="cycles", rq_rows=0):
    """The best tiling that fits.

    ``objective="bytes"`` minimises DRAM bytes (spec section 7), ties broken by estimated cycles;
    ``"cycles"`` (the compiler's default) minimises the estimated cycles of the double-buffered pipeline
    (:func:`evaluate`), ties broken by DRAM bytes.

    Returns
    -------
    (Tiling, dict, int)
        The best tiling, its :func:`evaluate` record and how many tilings were enumerated.

    Raises
    ------
    MapError
        When no tiling fits; the message gives the smallest tile's scratchpad needs.
    """
    if objective not in ("cycles", "bytes"):
        raise ValueError(f"objective must be 'cycles' or 'bytes', not {objective!r}")
    best, n, smallest = None, 0, None
    for t in candidates(g):
        n += 1
        r = evaluate(g, t, cfg, residual=residual, res_gemm=res_gemm, rq_rows=rq_rows)
        if not r["fits"]:
            if t.th == 1 and smallest is None:
                smallest = r["reason"]
            continue
        key = (r["dram_bytes"], r["est_cycles"]) if objective == "bytes" else (r["est_cycles"], r["dram_bytes"])
        if best is None or key < best[0]:
            best = (key, t, r)
    if best is None:
        raise MapError(f"layer {g.name!r}: no tiling fits the scratchpads (smallest tile: "
                       f"{smallest or 'does not fit'}); a {g.wp}-element-wide input row with {g.icb} channel blocks "
                       "is too large for this configuration")
    return best[1], best[2], n


def naive_bytes(g: ConvGeom) -> int:
    """DRAM bytes of the no-reuse schedule: per output pixel and output-channel block, load its input window
    (all input blocks it reads) and the block's weights, then store the pixel."""
    per = g.icb_w * g.k * g.k * g.block_in + g.icb_w * g.k * g.k * g.block_in * g.block_out + g.block_out
    return g.oh * g.ow * g.ocb * per


def naive_row_bytes(g: ConvGeom) -> int:
    """DRAM bytes when one output row of one output-channel block is computed at a time, nothing reused."""
    rows_in = g.k
    per = g.icb_w * rows_in * g.w * g.block_in + g.icb_w * g.k * g.k * g.block_in * g.block_out \
        + g.ow * g.block_out
    return g.oh * g.ocb * per
