"""The VTA compiler: lower int8 layers (sw/vta/network.py) into VTA programs and write one job per layer.

Activations live in DRAM in VTA's blocked layout (NCHW1n16c: element ``(c_block * H + h) * W + w`` holds
16 channels), weights as OIHW16o16i (element ``((o_block * I_blocks + i_block) * K + kh) * K + kw`` holds a
16 x 16 tile [o][i]), biases as one int32 accumulator element per output block.

Convolutions and dense layers (``_Conv``) follow the tiling chosen by :mod:`sw.vta.tps`: per unit the load
module brings the input tile (with the spatial padding done by LOAD's pad fields) and the weight tile into one
of two buffers, compute runs one GEMM over them (micro-ops enumerate output block x input block x kh x kw,
the two loop levels walk output rows and columns), and the store module writes a finished output tile from
one of two accumulator buffers: load, compute and store overlap through the four dependency queues.
Accumulators start from the bias (ALU MOV from a resident bias row, which replaces the GEMM reset). A residual
``residual_scale * r`` is added by the GEMM when the scale fits an int8 weight: the load module brings the
residual tile into the input scratchpad and one micro-op per output block multiplies it by ``scale * I``
(an extra weight block); otherwise LOAD ACC_8BIT, ALU MUL by the scale and ADD. Requantisation is either fused into the
STORE (accelgen extension, ``fused=True``) or three ALU ops (SHR, MAX, MIN: the plain upstream ISA).

Pooling and element-wise addition run on the ALU: LOAD ACC_8BIT (max pooling pads with the minimum value),
MOV/MAX or MOV/ADD over the window (micro-ops enumerate the window), then the requantising STORE.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from .config import AluOp, MemId, VTAConfig
from .isa import RQ_SHIFT_MAX, AluInsn, Uop, mulshr_imm
from .network import Layer, Network, NetworkError, run_reference
from .runtime import Kernel, Program
from .tps import MapError, conv_geom, evaluate, naive_bytes, naive_row_bytes, search, tic_eff, units

__all__ = ["compile_layer", "compile_network", "blocked", "unblocked", "read_output", "check_output",
           "GraphRequant", "GraphAdd", "compile_program", "MapError", "LAYER_FILE", "EXPECTED_FILE", "MANIFEST_FILE"]

LAYER_FILE = "layer.json"
EXPECTED_FILE = "expected.npy"
MANIFEST_FILE = "network.json"


def blocked(x: np.ndarray, block: int, n_blocks: int | None = None) -> np.ndarray:
    """(C, H, W) int8 -> (C_blocks * H * W, 1, block): VTA's NCHW1n16c, channels zero-padded."""
    c, h, w = x.shape
    nb = n_blocks if n_blocks is not None else -(-c // block)
    xp = np.zeros((nb * block, h, w), np.int8)
    xp[:c] = x
    return xp.reshape(nb, block, h, w).transpose(0, 2, 3, 1).reshape(-1, 1, block)


def unblocked(a: np.ndarray, shape) -> np.ndarray:
    """Inverse of :func:`blocked`: (n, 1, block) -> (C, H, W), dropping padded channels."""
    c, h, w = shape
    block = a.shape[-1]
    nb = -(-c // block)
    return a.reshape(nb, h, w, block).transpose(0, 3, 1, 2).reshape(nb * block, h, w)[:c]


@dataclasses.dataclass
class _Out:
    program: Program
    out_buf: object
    meta: dict
    in_bufs: list = dataclasses.field(default_factory=list)   # (Buffer, tensor name) of the blocked inputs


def _store_tile(p, out, *, abase, block_stride, rows_elems, dram_block_stride, dram0, nblocks, requant):
    """STORE ``nblocks`` accumulator blocks (``rows_elems`` entries each) to consecutive DRAM blocks."""
    if block_stride == rows_elems:
        p.store(abase, out, dram0, nblocks, rows_elems, dram_block_stride, requant=requant)
    else:
        for j in range(nblocks):
            p.store(abase + j * block_stride, out, dram0 + j * dram_block_stride, 1, rows_elems, rows_elems,
                    requant=requant)


def _requant_ops(p, kernel, shift, relu, fused):
    """ALU work before a STORE: everything when plain, only the part of the shift beyond 4 bits when fused.

    Returns the STORE's ``requant`` argument."""
    if fused:
        if shift > RQ_SHIFT_MAX:
            p.alu(kernel, AluOp.SHR, imm=shift - RQ_SHIFT_MAX)
        return (min(shift, RQ_SHIFT_MAX), relu)
    if shift:
        p.alu(kernel, AluOp.SHR, imm=shift)
    p.alu(kernel, AluOp.MAX, imm=0 if relu else -128)
    p.alu(kernel, AluOp.MIN, imm=127)
    return None


class GraphRequant:
    """The integer graph's requantisation ``clamp(rshift_round(acc * m[c], s[c]) + zp, qmin, qmax)`` (all values in
    the int8 domain) as VTA ALU work: MULSHR (exact 64-bit product) and RSHR (rounding shift by a per-lane amount,
    plus the immediate), with per-channel operand rows (docs/vta-isa-extensions.md).

    Uniform shift (every channel the same ``s``): ``MULSHR(acc, m[c], s, round)``, then ``ADD zp`` (imm) if needed.
    Per-channel shifts: with ``a = min(s) - 1`` and ``b[c] = s[c] - a >= 1``,
    ``rshift_round(v, s) + zp = rshift_round(floor(v / 2**a), b) + zp`` exactly (floor of a floor), so
    ``MULSHR(acc, m[c], a)`` (no rounding) and ``RSHR`` by the row ``b[c]`` with offset ``zp``: two passes.
    The clamp is the STORE's saturation when ``[qmin, qmax]`` is ``[-128, 127]`` or ``[0, 127]``, else ALU MAX/MIN.
    ``acc_bound[c]`` (a bound on ``|acc|``) proves that ``floor(acc * m / 2**a)`` fits int32; otherwise
    :class:`MapError`. A channel with ``b > 31`` has output ``zp`` for every accumulator: multiplier 0, ``b = 1``.
    """

    def __init__(self, name, mult, shift, zp, qmin, qmax, acc_bound):
        mult = np.atleast_1d(np.asarray(mult, np.int64))
        shift = np.atleast_1d(np.asarray(shift, np.int64))
        n = max(mult.size, shift.size, np.size(acc_bound))
        self.mult = np.broadcast_to(mult, (n,)).copy()
        self.shift = np.broadcast_to(shift, (n,)).copy()
        bound = np.broadcast_to(np.asarray(acc_bound, np.int64), (n,))
        self.zp, self.qmin, self.qmax = int(zp), int(qmin), int(qmax)
        if not -128 <= self.qmin <= self.qmax <= 127 or not -(1 << 15) <= self.zp < 1 << 15:
            raise MapError(f"layer {name!r}: clamp [{qmin}, {qmax}] / zero point {zp} outside the int8 domain")
        self.uniform = bool(np.all(self.shift == self.shift[0]))
        if self.uniform:
            self.a = int(self.shift[0])
            self.b = np.zeros(n, np.int64)
            return
        self.a = int(self.shift.min()) - 1
        self.b = self.shift - self.a
        tb = -(-(bound * self.mult) >> self.a)          # ceil(bound * m / 2**a) >= |floor(acc * m / 2**a)|
        dead = self.b > 31                               # |T| < 2**31 <= 2**(b-1): the output is zp
        self.mult[dead], self.b[dead], tb[dead] = 0, 1, 0
        if np.any(tb >= 1 << 31):
            c = int(np.argmax(tb >= 1 << 31))
            raise MapError(f"layer {name!r}: requantisation of channel {c} needs more than 32 bits "
                           f"(|acc| <= {int(bound[c])}, multiplier {int(self.mult[c])}, shift {int(self.shift[c])})")

    @property
    def n_rows(self):
        return 1 if self.uniform else 2

    def rows(self, nblocks, block):
        """Operand rows for ``nblocks`` channel blocks: multipliers, then (per-channel shifts) the RSHR amounts;
        (n_rows * nblocks, 1, block) int32."""
        out = []
        for v, fill in ((self.mult, 0), (self.b, 1))[:self.n_rows]:
            r = np.full(nblocks * block, fill, np.int64)
            r[:v.size] = v
            out.append(r.reshape(nblocks, 1, block))
        return np.concatenate(out).astype(np.int32)

    def clamp_in_store(self):
        return (self.qmin, self.qmax) in ((-128, 127), (0, 127))


def _mulshr(p, kernel, shift, rnd):
    """Emit MULSHR (ALU MUL with the wide bit, docs/vta-isa-extensions.md) over ``kernel`` (operand acc[src])."""
    bgn, end = p._kernel(kernel)
    f = kernel.loop_fields()
    f.pop("wgt_factor_out")
    f.pop("wgt_factor_in")
    return p._emit(AluInsn(uop_bgn=bgn, uop_end=end, alu_opcode=AluOp.MUL, reset=True, use_imm=False,
                           imm=mulshr_imm(shift, rnd), **f))


def _rshr(p, kernel, offset):
    """Emit RSHR (ALU SHR with the reset bit): rounding right shift by acc[src], plus ``offset``."""
    bgn, end = p._kernel(kernel)
    f = kernel.loop_fields()
    f.pop("wgt_factor_out")
    f.pop("wgt_factor_in")
    return p._emit(AluInsn(uop_bgn=bgn, uop_end=end, alu_opcode=AluOp.SHR, reset=True, use_imm=False,
                           imm=int(offset), **f))


def _graph_requant_ops(p, kern, rq: GraphRequant, row_base, nblocks_total):
    """ALU work of a graph requantisation; ``kern(src_row or None)`` gives the tile kernel (src advancing one row per
    block from ``src_row``). Returns (STORE requant argument, number of ALU passes)."""
    passes = 0
    if rq.uniform:
        _mulshr(p, kern(row_base), rq.a, True)
        passes += 1
        if rq.zp:
            p.alu(kern(None), AluOp.ADD, imm=rq.zp)
            passes += 1
    else:
        _mulshr(p, kern(row_base), rq.a, False)
        _rshr(p, kern(row_base + nblocks_total), rq.zp)
        passes += 2
    if rq.clamp_in_store():
        return (0, rq.qmin == 0), passes
    if rq.qmin > -128:
        p.alu(kern(None), AluOp.MAX, imm=rq.qmin)
        passes += 1
    if rq.qmax < 127:
        p.alu(kern(None), AluOp.MIN, imm=rq.qmax)
        passes += 1
    return (0, False), passes


def _tile_kernel(abase, nblocks, block_stride, elems, src=None):
    """One micro-op over ``nblocks`` accumulator blocks of ``elems`` entries; ``src`` (a per-block row, e.g. the
    bias) advances one entry per block."""
    return Kernel([Uop(dst=abase, src=0 if src is None else src)], iter_out=nblocks, iter_in=elems,
                  dst_factor_out=block_stride, dst_factor_in=1, src_factor_out=0 if src is None else 1)


def _lower_conv(layer: Layer, cfg: VTAConfig, tensors: dict, fused: bool, tiling=None, objective="cycles") -> _Out:
    notes = []
    g = conv_geom(layer, cfg, notes)
    residual = layer.residual is not None
    res_gemm = residual and -128 <= layer.residual_scale <= 127
    rq = layer.rq
    rq_rows = rq.n_rows if rq is not None else 0
    if tiling is None:
        t, tps, n_tilings = search(g, cfg, residual=residual, res_gemm=res_gemm, objective=objective, rq_rows=rq_rows)
    else:
        t, n_tilings = tiling, 1
        tps = evaluate(g, t, cfg, residual=residual, res_gemm=res_gemm, rq_rows=rq_rows)
        if not tps["fits"]:
            raise MapError(f"layer {layer.name!r}: tiling {t} does not fit: {tps['reason']}")
    bi, bo, k2 = cfg.block_in, cfg.block_out, g.k * g.k
    te = tic_eff(g, t)                   # input blocks of a unit
    tw = g.icb_w if g.grouped else te    # input blocks one output block reads in a unit
    ident_w = bool(layer.identity) and g.grouped and g.icb_w == 1 and not residual
    resident = ident_w or g.wgt_entries + res_gemm <= cfg.wgt_depth
    p = Program(cfg)

    # DRAM tensors.
    x = tensors[layer.inputs[0]].reshape(layer.in_shape)
    inp = p.alloc(MemId.INP, blocked(x, bi, g.icb))
    o = layer.out_shape[0]
    wpad = np.zeros((g.ocb * bo, g.icb_w * bi, g.k, g.k), np.int8)
    wpad[:o, :layer.w.shape[1]] = layer.w
    wblocks = wpad.reshape(g.ocb, bo, g.icb_w, bi, g.k, g.k).transpose(0, 2, 4, 5, 1, 3).reshape(-1, bo, bi)
    if res_gemm:   # the identity block scaled by residual_scale, right after the weights
        wblocks = np.concatenate([wblocks, (layer.residual_scale * np.eye(bo, bi, dtype=np.int64))[None]])
    if ident_w:    # every weight block is the identity: keep one, every micro-op reads it
        wblocks = np.eye(bo, bi, dtype=np.int8)[None]
    wgt = p.alloc(MemId.WGT, wblocks)
    bias = np.zeros(g.ocb * bo, np.int32)
    bias[:o] = layer.b
    bias_buf = p.alloc(MemId.ACC, bias.reshape(g.ocb, 1, bo))
    rq_buf = p.alloc(MemId.ACC, rq.rows(g.ocb, bo)) if rq is not None else None
    res_buf = None
    if residual:
        res_buf = p.alloc(MemId.INP if res_gemm else MemId.ACC_8BIT,
                          blocked(tensors[layer.residual].reshape(layer.out_shape), bo))
    out = p.alloc(MemId.OUT, g.ocb * g.oh * g.ow)

    # Scratchpad plan (tps.evaluate checked that it fits).
    inp_tile = te * g.in_rows(t.th) * g.wp
    wgt_tile = t.toc * tw * k2
    acc_tile = t.toc * t.th * g.ow
    bias_base = cfg.acc_depth - g.ocb
    rq_base = bias_base - rq_rows * g.ocb
    ident = g.wgt_entries if resident else cfg.wgt_depth - 1   # the scale * I weight block
    us = units(g, t, resident)
    n_tiles = us[-1].tile + 1
    n_acc = 1 if n_tiles == 1 else 2
    res_base = cfg.inp_depth - n_acc * acc_tile           # residual tiles (GEMM path), one per acc buffer
    rows_in_step = g.s * g.wp if g.row_step == 1 else g.wp

    def states():
        ib = wb = -1
        for u in us:
            if u.load_inp:
                ib ^= 1 if ib >= 0 else -1   # -1 -> 0 -> 1 -> 0 ...
            if u.load_wgt and not resident:
                wb = 1 - wb if wb >= 0 else 0
            yield u, max(ib, 0), max(wb, 0), u.tile % n_acc

    def gemm_kernel(u, ib, wb, ab):
        uops = []
        for oc_i in range(t.toc):
            for ic_i in range(tw):
                icl = (oc_i // g.ocb_pg) * g.icb_w + ic_i if g.grouped else ic_i
                if resident:
                    wrow = ((u.oc0 + oc_i) * g.icb_w + (ic_i if g.grouped else u.ic0 + ic_i)) * k2
                else:
                    wrow = wb * wgt_tile + (oc_i * tw + ic_i) * k2
                for kh in range(g.k):
                    for kw in range(g.k):
                        uops.append(Uop(dst=ab * acc_tile + oc_i * t.th * g.ow,
                                        src=ib * inp_tile + icl * g.in_rows(t.th) * g.wp + kh * g.wp + kw,
                                        wgt=0 if ident_w else wrow + kh * g.k + kw))
        return Kernel(uops, iter_out=u.rows, iter_in=g.ow, dst_factor_out=g.ow, dst_factor_in=1,
                      src_factor_out=rows_in_step, src_factor_in=g.s)

    def tile_kernels(u, ab, src=False):
        return _tile_kernel(ab * acc_tile, t.toc, t.th * g.ow, u.rows * g.ow, bias_base + u.oc0 if src else None)

    def rq_kernel(u, ab):
        return lambda row: _tile_kernel(ab * acc_tile, t.toc, t.th * g.ow, u.rows * g.ow,
                                        None if row is None else row + u.oc0)

    def res_kernel(u, ab):
        return Kernel([Uop(dst=ab * acc_tile, src=res_base + ab * acc_tile, wgt=ident)], iter_out=t.toc,
                      iter_in=u.rows * g.ow, dst_factor_out=t.th * g.ow, dst_factor_in=1,
                      src_factor_out=t.th * g.ow, src_factor_in=1)

    kernels = []
    for u, ib, wb, ab in states():
        kernels.append(gemm_kernel(u, ib, wb, ab))
        if u.first:
            kernels += [tile_kernels(u, ab, src=True), tile_kernels(u, ab)]
            if res_gemm:
                kernels.append(res_kernel(u, ab))
        if u.last and rq is not None:
            kernels += [rq_kernel(u, ab)(row) for row in [None] + [rq_base + j * g.ocb for j in range(rq_rows)]]
    p.preload(kernels)
    p.load(MemId.ACC, bias_base, bias_buf, 0, 1, g.ocb, g.ocb)
    if rq is not None:
        p.load(MemId.ACC, rq_base, rq_buf, 0, 1, rq_rows * g.ocb, rq_rows * g.ocb)

    stats = {"gemm_iterations": 0, "alu_iterations": 0}
    for u, ib, wb, ab in states():
        # Load module: wait until compute is done with the buffers this unit overwrites (unit - 2).
        if u.index >= 2:
            p.dep_pop("compute", "load")
        if u.load_inp:
            v0 = u.oh0 * g.s - g.p
            for icl, blk in enumerate(u.ics):
                sram = ib * inp_tile + icl * g.in_rows(t.th) * g.wp
                if g.row_step > 1:
                    p.load(MemId.INP, sram, inp, (blk * g.h + u.oh0 * g.s) * g.w, u.rows, g.w, g.w * g.row_step)
                else:
                    n = (u.rows - 1) * g.s + g.k
                    r0, r1 = max(v0, 0), min(v0 + n, g.h)
                    p.load(MemId.INP, sram, inp, (blk * g.h + r0) * g.w, r1 - r0, g.w, g.w,
                           y_pad=(r0 - v0, v0 + n - r1), x_pad=(g.p, g.p), pad_min=layer.pad_min)
        if u.load_wgt:
            if ident_w:
                p.load(MemId.WGT, 0, wgt, 0, 1, 1, 1)
            elif resident:
                p.load(MemId.WGT, 0, wgt, 0, 1, g.wgt_entries + res_gemm, g.wgt_entries + res_gemm)
            else:
                if res_gemm and u.index == 0:
                    p.load(MemId.WGT, ident, wgt, g.wgt_entries, 1, 1, 1)
                p.load(MemId.WGT, wb * wgt_tile, wgt, (u.oc0 * g.icb_w + u.ic0) * k2, t.toc, tw * k2,
                       g.icb_w * k2)
        if res_gemm and u.first:   # residual rows of this output tile, [toc][th][ow] like the accumulators
            dram0 = (u.oc0 * g.oh + u.oh0) * g.ow
            rbase = res_base + (u.tile % n_acc) * acc_tile
            if u.rows == t.th:
                p.load(MemId.INP, rbase, res_buf, dram0, t.toc, u.rows * g.ow, g.oh * g.ow)
            else:
                for j in range(t.toc):
                    p.load(MemId.INP, rbase + j * t.th * g.ow, res_buf, dram0 + j * g.oh * g.ow, 1, u.rows * g.ow,
                           u.rows * g.ow)
        p.dep_push("load", "compute")
        # Compute module.
        p.dep_pop("load", "compute")
        abase = ab * acc_tile
        elems = u.rows * g.ow
        if u.first:
            if u.tile >= n_acc:
                p.dep_pop("store", "compute")   # the store of this buffer's previous tile is done
            if res_gemm:
                p.alu(tile_kernels(u, ab, src=True), AluOp.MOV)
                p.gemm(res_kernel(u, ab))
                stats["alu_iterations"] += t.toc * elems
                stats["gemm_iterations"] += t.toc * elems
            elif residual:
                dram0 = (u.oc0 * g.oh + u.oh0) * g.ow
                if t.th * g.ow == elems:
                    p.load(MemId.ACC_8BIT, abase, res_buf, dram0, t.toc, elems, g.oh * g.ow)
                else:
                    for j in range(t.toc):
                        p.load(MemId.ACC_8BIT, abase + j * t.th * g.ow, res_buf, dram0 + j * g.oh * g.ow, 1,
                               elems, elems)
                scale = layer.residual_scale
                if -(1 << 15) <= scale < 1 << 15:
                    p.alu(tile_kernels(u, ab), AluOp.MUL, imm=scale)
                elif scale > 0 and scale & (scale - 1) == 0:
                    p.alu(tile_kernels(u, ab), AluOp.SHR, imm=-(scale.bit_length() - 1))
                else:
                    raise MapError(f"layer {layer.name!r}: residual_scale {scale} is neither a 16-bit immediate "
                                   "nor a power of two")
                p.alu(tile_kernels(u, ab, src=True), AluOp.ADD)
                stats["alu_iterations"] += 2 * t.toc * elems
            else:
                p.alu(tile_kernels(u, ab, src=True), AluOp.MOV)
                stats["alu_iterations"] += t.toc * elems
        p.gemm(gemm_kernel(u, ib, wb, ab))
        stats["gemm_iterations"] += u.rows * g.ow * t.toc * tw * k2
        p.dep_push("compute", "load")
        if u.last:
            n_alu = len(p.insns)
            if rq is not None:
                store_rq, _ = _graph_requant_ops(p, rq_kernel(u, ab), rq, rq_base, g.ocb)
            else:
                store_rq = _requant_ops(p, tile_kernels(u, ab), layer.shift, layer.relu, fused)
            stats["alu_iterations"] += (len(p.insns) - n_alu) * t.toc * elems
            p.dep_push("compute", "store")
            p.dep_pop("compute", "store")
            _store_tile(p, out, abase=abase, block_stride=t.th * g.ow, rows_elems=elems,
                        dram_block_stride=g.oh * g.ow, dram0=(u.oc0 * g.oh + u.oh0) * g.ow, nblocks=t.toc,
                        requant=store_rq)
            p.dep_push("store", "compute")
    for _ in range(min(n_acc, n_tiles)):
        p.dep_pop("store", "compute")
    p.finish()
    meta = {"tiling": t.to_dict(), "tilings_enumerated": n_tilings, "tps": tps,
            "naive_bytes": naive_bytes(g), "naive_row_bytes": naive_row_bytes(g),
            "weights_resident": resident, "notes": notes, **stats}
    return _Out(p, out, meta, [(inp, layer.inputs[0])] + ([(res_buf, layer.residual)] if residual else []))


def _lower_pool_add(layer: Layer, cfg: VTAConfig, tensors: dict, fused: bool) -> _Out:
    """Max/average pooling and element-wise addition on the ALU, tiled over channel blocks and output rows."""
    bo = cfg.block_out
    c, h, w = layer.in_shape
    _, oh, ow = layer.out_shape
    nb = -(-c // bo)
    notes = [f"layer {layer.name!r}: channels {c} padded to {nb * bo}"] if c % bo else []
    p = Program(cfg)
    srcs = [p.alloc(MemId.ACC_8BIT, blocked(tensors[i].reshape(layer.in_shape), bo)) for i in layer.inputs]
    out = p.alloc(MemId.OUT, nb * oh * ow)
    if layer.type == "add":
        k, s, pad, wp = 1, 1, 0, w
    else:
        k, s, pad, wp = layer.kernel, layer.stride, layer.pad, w + 2 * layer.pad
    if pad > 15:
        raise MapError(f"layer {layer.name!r}: padding {pad} exceeds the 4-bit LOAD pad fields")
    # Tile: th output rows of one channel block; input rows in, then two output buffers.
    depth = cfg.acc_depth
    th = 0
    for cand in range(oh, 0, -1):
        rows_in = (cand - 1) * s + k
        need = len(srcs) * rows_in * wp + 2 * cand * ow if layer.type != "add" else 2 * cand * ow + cand * ow
        if need <= depth:
            th = cand
            break
    if th == 0:
        raise MapError(f"layer {layer.name!r}: one output row ({ow} wide, {k}x{k} window over a {wp}-wide "
                       f"input) does not fit the {depth}-entry accumulator")
    rows_max = (th - 1) * s + k
    in_base = 2 * th * ow
    tiles = [(b, oh0, min(th, oh - oh0)) for b in range(nb) for oh0 in range(0, oh, th)]
    stats = {"gemm_iterations": 0, "alu_iterations": 0}

    def kernels(ob, rows):
        dst = ob * th * ow
        if layer.type == "add":
            return [Kernel([Uop(dst=dst, src=in_base)], iter_out=1, iter_in=rows * ow, dst_factor_in=1,
                           src_factor_in=1)]
        offs = [kh * wp + kw for kh in range(k) for kw in range(k)]
        loop = dict(iter_out=rows, iter_in=ow, dst_factor_out=ow, dst_factor_in=1, src_factor_out=s * wp,
                    src_factor_in=s)
        first = Kernel([Uop(dst=dst, src=in_base + offs[0])], **loop)
        rest = Kernel([Uop(dst=dst, src=in_base + o) for o in offs[1:]], **loop) if len(offs) > 1 else None
        return [first, rest]

    all_k = [kk for j, (_, _, rows) in enumerate(tiles) for kk in kernels(j % 2, rows) if kk is not None]
    all_k += [_tile_kernel(ob * th * ow, 1, th * ow, rows * ow) for ob in (0, 1) for rows in {r for *_, r in tiles}]
    p.preload(all_k)
    for j, (b, oh0, rows) in enumerate(tiles):
        ob = j % 2
        if j >= 2:
            p.dep_pop("store", "compute")
        if layer.type == "add":
            p.load(MemId.ACC_8BIT, ob * th * ow, srcs[0], (b * h + oh0) * w, 1, rows * w, rows * w)
            p.load(MemId.ACC_8BIT, in_base, srcs[1], (b * h + oh0) * w, 1, rows * w, rows * w)
            p.alu(kernels(ob, rows)[0], AluOp.ADD)
            shift, relu = 0, layer.relu
            stats["alu_iterations"] += rows * ow
        else:
            v0 = oh0 * s - pad
            n = (rows - 1) * s + k
            r0, r1 = max(v0, 0), min(v0 + n, h)
            p.load(MemId.ACC_8BIT, in_base, srcs[0], (b * h + r0) * w, r1 - r0, w, w, y_pad=(r0 - v0, v0 + n - r1),
                   x_pad=(pad, pad), pad_min=layer.type == "maxpool")
            first, rest = kernels(ob, rows)
            p.alu(first, AluOp.MOV)
            if rest is not None:
                p.alu(rest, AluOp.MAX if layer.type == "maxpool" else AluOp.ADD)
            stats["alu_iterations"] += rows * ow * k * k
            shift, relu = (layer.shift, False) if layer.type == "avgpool" else (0, False)
        rq = None
        if layer.type != "maxpool":   # max of int8 values is already int8
            n_alu = len(p.insns)
            rq = _requant_ops(p, _tile_kernel(ob * th * ow, 1, th * ow, rows * ow), shift, relu, fused)
            stats["alu_iterations"] += (len(p.insns) - n_alu) * rows * ow
        p.dep_push("compute", "store")
        p.dep_pop("compute", "store")
        p.store(ob * th * ow, out, (b * oh + oh0) * ow, 1, rows * ow, rows * ow, requant=rq)
        p.dep_push("store", "compute")
    for _ in range(min(2, len(tiles))):
        p.dep_pop("store", "compute")
    p.finish()
    meta = {"tiling": {"th": th, "rows_in": rows_max, "tiles": len(tiles)}, "notes": notes, **stats}
    return _Out(p, out, meta, list(zip(srcs, layer.inputs)))


class GraphAdd:
    """The integer graph's ``add`` in the int8 domain:
    ``clamp(rshift_round((a - zp_a) * m_a + (b - zp_b) * m_b, s) + zp, qmin, qmax)`` exactly, on 32-bit ALU lanes.

    The ~40-bit sum is split at bit ``t = 16`` of the multipliers (``m = m_hi * 2**t + m_lo``):
    ``H = a*m_a_hi + b*m_b_hi + K_H`` and ``L = a*m_a_lo + b*m_b_lo + K_L`` (zero points folded into the constants
    ``K``), and ``out = (H + (L >> t)) >> (s - t)`` with ``K_H`` holding the rounding ``2**(s-1-t)`` and ``zp * 2**(s-t)``
    (floor of a floor, exact). 13 ALU passes per output entry (MOV x2, MUL x4, ADD x5, SHR x2) on operand rows.
    """

    T = 16

    def __init__(self, name, m_a, m_b, shift, zp_a, zp_b, zp, qmin, qmax):
        t, s = self.T, int(shift)
        if s - 1 < t:
            raise MapError(f"layer {name!r}: add shift {s} < {t + 1} (input scales over 2**14 times the output's)")
        self.name, self.shift = name, s
        self.qmin, self.qmax = int(qmin), int(qmax)
        if not -128 <= self.qmin <= self.qmax <= 127:
            raise MapError(f"layer {name!r}: clamp [{qmin}, {qmax}] outside the int8 domain")
        mask = (1 << t) - 1
        ah, al, bh, bl = int(m_a) >> t, int(m_a) & mask, int(m_b) >> t, int(m_b) & mask
        k_l = -(zp_a * al + zp_b * bl)
        k_h = -(zp_a * ah + zp_b * bh) + (1 << (s - 1 - t)) + zp * (1 << (s - t))
        lmax = 128 * (al + bl) + abs(k_l)
        hmax = 128 * (ah + bh) + abs(k_h) + (lmax >> t) + 1
        if max(lmax, hmax, max(ah, al, bh, bl)) >= 1 << 31:
            raise MapError(f"layer {name!r}: add multipliers {m_a}, {m_b} with shift {s} need more than 32 bits")
        self.consts = [ah, bh, al, bl, k_l, k_h]

    def clamp_in_store(self):
        return (self.qmin, self.qmax) in ((-128, 127), (0, 127))


def _lower_graph_add(layer: Layer, cfg: VTAConfig, tensors: dict) -> _Out:
    """:class:`GraphAdd` over the whole blocked tensor as one flat sequence of accumulator entries, in tiles of
    ``E`` entries, double-buffered against the store module (LOAD ACC_8BIT of both inputs in the compute module)."""
    ga: GraphAdd = layer.add
    bo = cfg.block_out
    c, h, w = layer.in_shape
    nb = -(-c // bo)
    total = nb * h * w
    p = Program(cfg)
    srcs = [p.alloc(MemId.ACC_8BIT, blocked(tensors[i].reshape(layer.in_shape), bo)) for i in layer.inputs]
    rows = p.alloc(MemId.ACC, np.repeat(np.asarray(ga.consts, np.int64)[:, None, None], bo, axis=2).astype(np.int32))
    out = p.alloc(MemId.OUT, total)
    n_rows = len(ga.consts)
    E = min(total, (cfg.acc_depth - n_rows) // 8)
    if E < 1:
        raise MapError(f"layer {layer.name!r}: the {cfg.acc_depth}-entry accumulator is too small for the add")
    row0 = cfg.acc_depth - n_rows
    MA_HI, MB_HI, MA_LO, MB_LO, K_L, K_H = range(row0, row0 + n_rows)
    tiles = [(e0, min(E, total - e0)) for e0 in range(0, total, E)]

    def k(dst, n, src=None, row=False):
        return Kernel([Uop(dst=dst, src=0 if src is None else src)], iter_out=1, iter_in=n, dst_factor_in=1,
                      src_factor_in=0 if (src is None or row) else 1)

    def program(buf, n):
        A, B, A2, B2 = (buf * 4 * E + j * E for j in range(4))
        ops = [(k(A2, n, A), AluOp.MOV, None), (k(B2, n, B), AluOp.MOV, None),
               (k(A, n, MA_HI, True), AluOp.MUL, None), (k(B, n, MB_HI, True), AluOp.MUL, None),
               (k(A, n, B), AluOp.ADD, None),
               (k(A2, n, MA_LO, True), AluOp.MUL, None), (k(B2, n, MB_LO, True), AluOp.MUL, None),
               (k(A2, n, B2), AluOp.ADD, None), (k(A2, n, K_L, True), AluOp.ADD, None),
               (k(A2, n), AluOp.SHR, ga.T), (k(A, n, A2), AluOp.ADD, None), (k(A, n, K_H, True), AluOp.ADD, None),
               (k(A, n), AluOp.SHR, ga.shift - ga.T)]
        if not ga.clamp_in_store():
            if ga.qmin > -128:
                ops.append((k(A, n), AluOp.MAX, ga.qmin))
            if ga.qmax < 127:
                ops.append((k(A, n), AluOp.MIN, ga.qmax))
        return A, B, ops

    p.preload([kk for j, (_, n) in enumerate(tiles) for kk, _, _ in program(j % 2, n)[2]])
    p.load(MemId.ACC, row0, rows, 0, 1, n_rows, n_rows)
    stats = {"gemm_iterations": 0, "alu_iterations": 0}
    rq = (0, ga.qmin == 0) if ga.clamp_in_store() else (0, False)
    for j, (e0, n) in enumerate(tiles):
        A, B, ops = program(j % 2, n)
        if j >= 2:
            p.dep_pop("store", "compute")
        p.load(MemId.ACC_8BIT, A, srcs[0], e0, 1, n, n)
        p.load(MemId.ACC_8BIT, B, srcs[1], e0, 1, n, n)
        for kk, op, imm in ops:
            p.alu(kk, op, imm=imm)
        stats["alu_iterations"] += len(ops) * n
        p.dep_push("compute", "store")
        p.dep_pop("compute", "store")
        p.store(A, out, e0, 1, n, n, requant=rq)
        p.dep_push("store", "compute")
    for _ in range(min(2, len(tiles))):
        p.dep_pop("store", "compute")
    p.finish()
    meta = {"tiling": {"entries": E, "tiles": len(tiles)}, "notes": [], **stats}
    return _Out(p, out, meta, list(zip(srcs, layer.inputs)))


def compile_program(layer: Layer, cfg: VTAConfig, tensors: dict, *, fused=True, tiling=None,
                    objective="cycles") -> _Out:
    """Lower ``layer`` into a finished :class:`Program` (inputs from ``tensors``) without writing a job:
    ``(program, out_buf, meta, in_bufs)``; ``in_bufs`` lets a caller swap in other input data."""
    if layer.type in ("conv2d", "dense"):
        return _lower_conv(layer, cfg, tensors, fused, tiling, objective)
    if layer.type == "add" and layer.add is not None:
        return _lower_graph_add(layer, cfg, tensors)
    return _lower_pool_add(layer, cfg, tensors, fused)


def job_bytes(p: Program) -> dict:
    """DRAM bytes each memory type moves, from the emitted LOAD/STORE instructions."""
    from .config import Opcode
    tot = {}
    for insn in p.insns:
        if getattr(insn, "opcode", None) in (Opcode.LOAD, Opcode.STORE) and insn.x_size:
            name = "store" if insn.opcode == Opcode.STORE else MemId.NAMES[insn.memory_type].lower()
            tot[name] = tot.get(name, 0) + insn.y_size * insn.x_size * p.cfg.elem_bytes(insn.memory_type)
    tot["total"] = sum(tot.values())
    return tot


def compile_layer(layer: Layer, cfg: VTAConfig, tensors: dict, job_dir, *, fused=True, tiling=None,
                  objective="cycles", cycle_limit=None) -> dict:
    """Lower ``layer`` (inputs taken from ``tensors``) into a job folder; returns its ``layer.json`` record.

    Raises
    ------
    MapError
        The layer cannot be mapped (the message names the layer and the reason).
    """
    lowered = compile_program(layer, cfg, tensors, fused=fused, tiling=tiling, objective=objective)
    p = lowered.program
    job_dir = Path(job_dir)
    est = lowered.meta["gemm_iterations"] + lowered.meta["alu_iterations"] + job_bytes(p)["total"]
    p.write_job(job_dir, cycle_limit=cycle_limit or 4 * est + 200_000)
    expected = tensors[layer.name] if layer.name in tensors else None
    if expected is not None:
        np.save(job_dir / EXPECTED_FILE, expected)
    c, h, w = layer.out_shape
    rec = {"name": layer.name, "type": layer.type, "macs": layer.macs, "fused_requant": fused,
           "in_shape": list(layer.in_shape), "out_shape": [c, h, w],
           "out": {"addr": lowered.out_buf.addr, "nbytes": lowered.out_buf.nbytes, "block": cfg.block_out},
           "dram_bytes": job_bytes(p), "insns": len(p.insns), "layer": layer.to_dict(), **lowered.meta}
    (job_dir / LAYER_FILE).write_text(json.dumps(rec, indent=1, default=_json_default) + "\n")
    return rec


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON-serialisable: {x!r}")


def compile_network(net: Network, cfg: VTAConfig, out_dir, *, fused=True, only=None, progress=None,
                    objective="cycles") -> dict:
    """Compile every layer of ``net`` (or the names in ``only``) into ``out_dir/<index>_<name>/``.

    Each job's inputs are the numpy reference's tensors, and ``expected.npy`` is the reference output, so
    layers can run (and be checked) independently and in any order. Writes ``out_dir/network.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = run_reference(net)
    records = []
    chosen = [L for L in net.layers if only is None or L.name in only]
    if only is not None:
        missing = set(only) - {L.name for L in net.layers}
        if missing:
            raise NetworkError(f"no layer(s) named {sorted(missing)} in network {net.name!r}")
    for n, layer in enumerate(chosen):
        job = out_dir / f"{net.layers.index(layer):02d}_{layer.name}"
        rec = compile_layer(layer, cfg, tensors, job, fused=fused, objective=objective)
        rec["job"] = job.name
        records.append(rec)
        if progress:
            progress(n + 1, len(chosen), rec)
    manifest = {"network": net.to_dict(), "config": cfg.to_dict(), "fused_requant": fused, "objective": objective,
                "layers": [{k: r[k] for k in ("name", "type", "job", "macs", "dram_bytes", "insns")} for r in records]}
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def read_output(job_dir, dram) -> np.ndarray:
    """The layer output (C, H, W) int8 from a final DRAM image of the job in ``job_dir``."""
    rec = json.loads((Path(job_dir) / LAYER_FILE).read_text())
    a, n, block = rec["out"]["addr"], rec["out"]["nbytes"], rec["out"]["block"]
    raw = np.asarray(dram, np.uint8)[a:a + n].view(np.int8)
    return unblocked(raw.reshape(-1, 1, block), rec["out_shape"])


def check_output(job_dir, dram):
    """Compare the job's output with ``expected.npy``; returns ``(ok, message)``."""
    exp = np.load(Path(job_dir) / EXPECTED_FILE)
    got = read_output(job_dir, dram)
    diff = np.argwhere(got != exp)
    if diff.size == 0:
        return True, f"output {tuple(exp.shape)} matches the reference bit-exactly"
    c, y, x = diff[0]
    return False, (f"{len(diff)} of {exp.size} outputs differ; first at channel {c}, row {y}, column {x}: "
                   f"got {got[c, y, x]}, expected {exp[c, y, x]}")
