"""The channel-first schedule: how a layer is cut into runs, folds and address streams, and the memory images.

Terms (docs/systolic.md has the pictures):

* **Decomposed filter** ``(kh, kw)``: the layer is the sum of KH*KW 1x1 convolutions (channel-first implicit
  im2col). A **fold** is one 1x1 convolution over ``R`` input channels and ``C`` output channels: its
  ``R x C`` weights sit in the PEs while the stream of input positions flows through the array.
  Fold order: ``for co (C_O fold): for kh: for kw: for cf (C_I fold)``.
* **Multi-tile** (C_I <= R/2): ``t = min(R // C_I, KW, MAX_TILES)`` copies of the input share the rows; copy
  ``j`` is stored shifted by ``j`` columns, so one fold covers filter columns ``kw*t .. kw*t + t - 1``.
* **Block-batched HWCN layout**: a vector-memory word holds ``W`` lanes; lane ``b`` belongs to a *slot*, one
  ``Hb x Wb`` block of output positions of one image (the batch N, extended by spatial blocks when N < W).
  Each lane stores the block's input window (``VH x VW`` words, with its halo), so all ``W`` lanes of a word
  are consumed with one address: a stride is only an address step and every word read feeds ``W`` cycles.
  Memory ``r`` (PE row ``r``) holds one input channel per C_I fold (plane ``cf`` at ``cf * plane_words``);
  the outputs of column ``c`` go to memory ``c`` after the input planes (int32, one plane per C_O fold).
* **Run**: one invocation of the hardware (load memories, compute, store). Layers larger than the memories
  are cut by the runtime into runs over output-row chunks and groups of C_O folds.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .config import SystolicConfig
from .layer import ConvLayer

__all__ = ["Run", "Plan", "plan", "multi_tiles", "pad_input", "input_image", "weight_image", "execute_run",
           "output_from_image", "scalesim_ws_cycles", "ideal_ws_cycles", "physical_bound", "DUP_MAX",
           "INT32_MAX_K", "run_cycles", "reference"]

#: Largest ratio of stored input elements (all lanes, with halos) to the padded input a layout may use, unless
#: it still stores fewer elements than the lowered (im2col) matrix, KH*KW*T per channel. One block per image is
#: always allowed. Small images need the second rule to fill the W lanes of a word.
DUP_MAX = 2.0
#: Longest reduction whose int32 sums cannot wrap for any int8 operands (K * 128 * 128 <= 2^31 - 1).
INT32_MAX_K = (2 ** 31 - 1) // (128 * 128)


def multi_tiles(cfg: SystolicConfig, layer: ConvLayer) -> int:
    """Multi-tile copies for a layer: ``min(R // C_I, KW, MAX_TILES)`` when C_I <= R / 2, else 1."""
    if layer.in_channels * 2 > cfg.R:
        return 1
    return max(1, min(cfg.R // layer.in_channels, layer.kernel_w, cfg.MAX_TILES))


@dataclasses.dataclass(frozen=True)
class Run:
    """One hardware invocation: output rows ``[oh0, oh1)`` of every image and C_O folds ``[co0, co0 + nco)``.

    The sequencer registers are :meth:`regs`; the other fields say how the memory images are laid out.
    """

    oh0: int
    oh1: int
    co0: int
    nco: int
    tiles: int
    ncf: int
    nkh: int
    nkw: int
    hb: int
    wb: int
    bh: int
    bw: int
    groups: int
    vh: int
    vw: int
    stride: int
    W: int

    @property
    def rows(self) -> int:
        return self.oh1 - self.oh0

    @property
    def plane_words(self) -> int:
        return self.groups * self.vh * self.vw

    @property
    def in_words(self) -> int:
        return self.ncf * self.plane_words

    @property
    def words_per_fold(self) -> int:
        """Words each row reads per fold (= output words per column per C_O fold)."""
        return self.groups * self.hb * self.wb

    @property
    def stream(self) -> int:
        """Stream positions per fold (cycles a fold keeps the array busy): words x W lanes."""
        return self.words_per_fold * self.W

    @property
    def out_base(self) -> int:
        return self.in_words

    @property
    def out_words(self) -> int:
        return self.nco * self.words_per_fold

    @property
    def folds_per_co(self) -> int:
        return self.nkh * self.nkw * self.ncf

    @property
    def folds(self) -> int:
        return self.nco * self.folds_per_co

    def regs(self) -> dict:
        """Sequencer descriptor (register name -> value); see hw/systolic/core.py for the register map."""
        s = self.stride
        return {"nco": self.nco, "nkh": self.nkh, "nkw": self.nkw, "ncf": self.ncf,
                "ng": self.groups, "nhb": self.hb, "nwb": self.wb,
                "g_stride": self.vh * self.vw, "y_stride": s * self.vw, "x_stride": s,
                "kh_stride": self.vw, "kw_stride": self.tiles, "cf_stride": self.plane_words,
                "out_base": self.out_base, "out_co_stride": self.words_per_fold}

    def addresses(self, kh: int, kw: int, cf: int) -> np.ndarray:
        """Word addresses one row reads for fold ``(kh, kw, cf)``, in stream order."""
        r = self.regs()
        g = np.arange(self.groups)[:, None, None]
        y = np.arange(self.hb)[None, :, None]
        x = np.arange(self.wb)[None, None, :]
        a = (cf * r["cf_stride"] + kh * r["kh_stride"] + kw * r["kw_stride"]
             + g * r["g_stride"] + y * r["y_stride"] + x * r["x_stride"])
        return a.reshape(-1)


@dataclasses.dataclass(frozen=True)
class Plan:
    """A layer cut into runs for one configuration."""

    cfg: SystolicConfig
    layer: ConvLayer
    tiles: int
    runs: tuple

    @property
    def row_folds(self) -> int:
        """Folds per C_O fold: KH * ceil(KW / tiles) * ceil(C_I / R)."""
        return self.runs[0].folds_per_co

    @property
    def co_folds(self) -> int:
        return math.ceil(self.layer.out_channels / self.cfg.C)

    @property
    def folds(self) -> int:
        """Folds of the whole layer as the formulas count them (row folds x C_O folds)."""
        return self.row_folds * self.co_folds

    @property
    def stream(self) -> int:
        """Stream positions per fold summed over the row chunks (T of the layer with lane padding)."""
        seen, total = set(), 0
        for r in self.runs:
            if (r.oh0, r.oh1) not in seen:
                seen.add((r.oh0, r.oh1))
                total += r.stream
        return total

    def model_cycles(self) -> int:
        """Compute cycles this design takes (sum over runs of :func:`run_cycles`)."""
        return sum(run_cycles(self.cfg, r) for r in self.runs)


def run_cycles(cfg: SystolicConfig, run: Run) -> int:
    """Cycles of one run, from the first issued position until the last result is in its vector memory: every
    fold lasts ``max(stream, C)`` (the next fold's weights are preloaded row by row behind the wavefront, so a
    fold needs at least C cycles), then the pipeline drains (``cfg.drain`` = R + C + 5)."""
    period = max(run.stream, cfg.C)
    return (run.folds - 1) * period + run.stream + cfg.drain


def _blocks(cfg, layer, rows, ncf, nkw, tiles, nco):
    """Best (hb, wb) for a chunk of ``rows`` output rows, or None: fewest stream positions, then fewest words,
    then fewest lane groups (the largest blocks)."""
    s, n, wo, W = layer.stride, layer.batch, layer.out_width, cfg.W
    in_rows = (rows - 1) * s + layer.kernel_h
    needed = n * in_rows * (layer.width + 2 * layer.pad)
    best = None
    for hb in range(1, rows + 1):
        bh = -(-rows // hb)
        vh = (hb - 1) * s + layer.kernel_h
        for wb in range(1, wo + 1):
            bw = -(-wo // wb)
            groups = -(-(n * bh * bw) // W)
            stream = groups * hb * wb * W
            if stream > cfg.ACC_DEPTH:
                continue
            vw = (wb - 1) * s + (nkw - 1) * tiles + 1
            plane = groups * vh * vw
            whole = hb == rows and wb == wo
            lowered = n * rows * wo * layer.kernel_h * layer.kernel_w
            if not whole and plane * W > DUP_MAX * needed and plane * W >= lowered:
                continue
            if ncf * plane + nco * groups * hb * wb > cfg.MEM_DEPTH:
                continue
            key = (stream, plane, groups)
            if best is None or key < best[0]:
                best = (key, dict(hb=hb, wb=wb, bh=bh, bw=bw, groups=groups, vh=vh, vw=vw))
    return None if best is None else best[1]


def plan(cfg: SystolicConfig, layer: ConvLayer) -> Plan:
    """Cut ``layer`` into runs for ``cfg``.

    Raises
    ------
    ValueError
        If the reduction is too long for exact int32 sums (``layer.in_channels``), the weights of one C_O fold
        do not fit a weight bank (``WGT_DEPTH``), or one output row does not fit the vector memories or the
        accumulators (``MEM_DEPTH`` / ``ACC_DEPTH``). The message names the field.
    """
    if layer.k > INT32_MAX_K:
        raise ValueError(f"layer.in_channels: a reduction of KH*KW*C_I = {layer.k} can overflow the int32 "
                         f"accumulators (at most {INT32_MAX_K})")
    tiles = multi_tiles(cfg, layer)
    ncf = -(-layer.in_channels // cfg.R)
    nkw = -(-layer.kernel_w // tiles)
    folds_per_co = layer.kernel_h * nkw * ncf
    if folds_per_co > cfg.WGT_DEPTH:
        raise ValueError(f"WGT_DEPTH: one output-channel fold needs {folds_per_co} folds of weights "
                         f"(KH*ceil(KW/tiles)*ceil(C_I/R)) but a weight bank holds {cfg.WGT_DEPTH}")
    nco_total = -(-layer.out_channels // cfg.C)
    nco_max = min(nco_total, cfg.WGT_DEPTH // folds_per_co)
    ho = layer.out_height
    best = None
    for chunks in range(1, ho + 1):
        rows = -(-ho // chunks)
        if -(-ho // rows) != chunks:
            continue
        for nco in range(nco_max, 0, -1):
            blk = _blocks(cfg, layer, rows, ncf, nkw, tiles, nco)
            if blk is not None:
                break
        else:
            continue
        n_runs = chunks * -(-nco_total // nco)
        if best is None or n_runs < best[0]:
            best = (n_runs, rows, nco)
        if nco == nco_max:
            break
    if best is None:
        raise ValueError(f"MEM_DEPTH/ACC_DEPTH: one output row of this layer does not fit: the vector memories "
                         f"hold {cfg.MEM_DEPTH} words (need the input planes of {ncf} channel fold(s) plus the "
                         f"outputs) and the accumulators {cfg.ACC_DEPTH} positions")
    _, rows, nco = best
    runs = []
    for oh0 in range(0, ho, rows):
        oh1 = min(ho, oh0 + rows)
        blk = _blocks(cfg, layer, oh1 - oh0, ncf, nkw, tiles, nco)
        for co0 in range(0, nco_total, nco):
            runs.append(Run(oh0=oh0, oh1=oh1, co0=co0, nco=min(nco, nco_total - co0), tiles=tiles, ncf=ncf,
                            nkh=layer.kernel_h, nkw=nkw, stride=layer.stride, W=cfg.W, **blk))
    return Plan(cfg, layer, tiles, tuple(runs))


# --- memory images ---------------------------------------------------------------------------------------

def pad_input(layer: ConvLayer, ifmap: np.ndarray) -> np.ndarray:
    """Zero-padded NHWC input as int32 (padding is added here, by the runtime, never by the caller)."""
    p = layer.pad
    return np.pad(np.asarray(ifmap, dtype=np.int32), ((0, 0), (p, p), (p, p), (0, 0)))


def _row_channels(cfg, layer, run, cf):
    """For each PE row: (input channel or -1, column shift) in C_I fold ``cf``."""
    out = []
    for r in range(cfg.R):
        if run.tiles > 1:
            tile, ci = divmod(r, layer.in_channels)
            out.append((ci, tile) if tile < run.tiles else (-1, 0))
        else:
            ci = cf * cfg.R + r
            out.append((ci, 0) if ci < layer.in_channels else (-1, 0))
    return out


def input_image(cfg: SystolicConfig, layer: ConvLayer, run: Run, xpad: np.ndarray) -> np.ndarray:
    """Input words of every PE row's vector memory: int32 array ``(R, run.in_words, W)``."""
    n_img, hp, wp, _ = xpad.shape
    W, s = cfg.W, layer.stride
    slot = np.arange(run.groups * W)
    n, rest = np.divmod(slot, run.bh * run.bw)
    bh, bw = np.divmod(rest, run.bw)
    g_ok = n < n_img
    vy = np.arange(run.vh)
    vx = np.arange(run.vw)
    # iy[slot, vy], ix[slot, vx] in padded coordinates
    iy = ((run.oh0 + bh * run.hb) * s)[:, None] + vy[None, :]
    ix0 = (bw * run.wb * s)[:, None] + vx[None, :]
    img = np.zeros((cfg.R, run.in_words, W), dtype=np.int32)
    for cf in range(run.ncf):
        for r, (ci, shift) in enumerate(_row_channels(cfg, layer, run, cf)):
            if ci < 0:
                continue
            ix = ix0 + shift
            ok = g_ok[:, None, None] & (iy < hp)[:, :, None] & (ix < wp)[:, None, :]
            vals = xpad[np.clip(n, 0, n_img - 1)[:, None, None], np.clip(iy, 0, hp - 1)[:, :, None],
                        np.clip(ix, 0, wp - 1)[:, None, :], ci]
            vals = np.where(ok, vals, 0)                          # (slot, vh, vw)
            words = vals.reshape(run.groups, W, run.vh, run.vw).transpose(0, 2, 3, 1)
            img[r, cf * run.plane_words:(cf + 1) * run.plane_words] = words.reshape(-1, W)
    return img


def weight_image(cfg: SystolicConfig, layer: ConvLayer, run: Run, weights: np.ndarray) -> np.ndarray:
    """Per-row weight banks: int8 array ``(R, run.folds, C)``; fold order co, kh, kw, cf."""
    wts = np.asarray(weights, dtype=np.int8)
    img = np.zeros((cfg.R, run.folds, cfg.C), dtype=np.int8)
    f = 0
    for co in range(run.co0, run.co0 + run.nco):
        cols = np.arange(co * cfg.C, min((co + 1) * cfg.C, layer.out_channels))
        for kh in range(run.nkh):
            for kw in range(run.nkw):
                for cf in range(run.ncf):
                    for r, (ci, shift) in enumerate(_row_channels(cfg, layer, run, cf)):
                        fw = kw * run.tiles + shift
                        if ci >= 0 and fw < layer.kernel_w:
                            img[r, f, :len(cols)] = wts[kh, fw, ci, cols]
                    f += 1
    return img


def execute_run(cfg: SystolicConfig, run: Run, mem: np.ndarray, wgt: np.ndarray) -> np.ndarray:
    """Run the fold schedule on memory images with numpy, as the array does (address streams, 1x1 folds,
    int32 accumulation): returns the output words of every column, int64 array ``(C, run.out_words, W)``."""
    out = np.zeros((cfg.C, run.out_words, cfg.W), dtype=np.int64)
    f = 0
    for co in range(run.nco):
        acc = np.zeros((run.stream, cfg.C), dtype=np.int64)
        for kh in range(run.nkh):
            for kw in range(run.nkw):
                for cf in range(run.ncf):
                    a = run.addresses(kh, kw, cf)
                    x = mem[:, a, :].transpose(1, 2, 0).reshape(run.stream, cfg.R).astype(np.int64)
                    acc += x @ wgt[:, f, :].astype(np.int64)
                    f += 1
        out[:, co * run.words_per_fold:(co + 1) * run.words_per_fold] = \
            acc.reshape(run.words_per_fold, cfg.W, cfg.C).transpose(2, 0, 1)
    return out


def output_from_image(cfg: SystolicConfig, layer: ConvLayer, run: Run, out: np.ndarray, ofmap: np.ndarray):
    """Scatter a run's output words ``(C, out_words, W)`` into ``ofmap`` (N, H_O, W_O, C_O), dropping padding
    lanes and positions."""
    W = cfg.W
    t = out.reshape(cfg.C, run.nco, run.groups, run.hb, run.wb, W)   # c, co, g, y, x, lane
    slot = np.arange(run.groups * W).reshape(run.groups, W)
    n, rest = np.divmod(slot, run.bh * run.bw)
    bh, bw = np.divmod(rest, run.bw)
    for co in range(run.nco):
        c_lo = (run.co0 + co) * cfg.C
        nc = min(cfg.C, layer.out_channels - c_lo)
        for g in range(run.groups):
            for b in range(W):
                if n[g, b] >= layer.batch:
                    continue
                oy = run.oh0 + bh[g, b] * run.hb + np.arange(run.hb)
                ox = bw[g, b] * run.wb + np.arange(run.wb)
                ys, xs = oy < run.oh1, ox < layer.out_width
                blk = t[:nc, co, g][:, :, :, b]                    # c, y, x
                ofmap[n[g, b], oy[ys][:, None], ox[xs][None, :], c_lo:c_lo + nc] = \
                    blk[:, ys][:, :, xs].transpose(1, 2, 0)


# --- reference cycle models ------------------------------------------------------------------------------

def scalesim_ws_cycles(cfg: SystolicConfig, layer: ConvLayer) -> int:
    """SCALE-Sim v2 weight-stationary count (no stalls): dense im2col on the padded input, output size
    ceil((H - F + s) / s): ``folds * (2R + C + T - 2) - 1``."""
    hp, wp, s = layer.height + 2 * layer.pad, layer.width + 2 * layer.pad, layer.stride
    t = layer.batch * -(-(hp - layer.kernel_h + s) // s) * -(-(wp - layer.kernel_w + s) // s)
    folds = -(-layer.k // cfg.R) * -(-layer.out_channels // cfg.C)
    return folds * (2 * cfg.R + cfg.C + t - 2) - 1


def ideal_ws_cycles(cfg: SystolicConfig, layer: ConvLayer, folds: int | None = None) -> int:
    """Double-buffered weight-stationary estimate of the spec: ``folds * T + 2R + C - 2`` (T = N*H_O*W_O; folds
    default to the channel-first count ``KH*KW*ceil(C_I/R) * ceil(C_O/C)``)."""
    if folds is None:
        folds = (layer.kernel_h * layer.kernel_w * -(-layer.in_channels // cfg.R)
                 * -(-layer.out_channels // cfg.C))
    return folds * layer.positions + 2 * cfg.R + cfg.C - 2


def physical_bound(cfg: SystolicConfig, layer: ConvLayer) -> float:
    """MACs / (R * C): no schedule on this array can take fewer cycles."""
    return layer.macs / (cfg.R * cfg.C)


def reference(cfg: SystolicConfig, layer: ConvLayer) -> dict:
    """The numbers a report puts next to the measured cycles: this design's schedule, the formulas of the spec,
    the physical bound and the fold/run structure of the plan."""
    p = plan(cfg, layer)
    return {"model_cycles": p.model_cycles(), "scalesim_ws_cycles": scalesim_ws_cycles(cfg, layer),
            "ideal_cycles": ideal_ws_cycles(cfg, layer, p.folds), "physical_bound": round(physical_bound(cfg, layer), 1),
            "folds": p.folds, "tiles": p.tiles, "runs": len(p.runs), "stream": p.stream, "positions": layer.positions}
