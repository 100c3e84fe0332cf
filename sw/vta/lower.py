"""Lower the integer graph (:mod:`sw.graph.ir`) onto VTA: one compiler layer (:mod:`sw.vta.compile`) per graph layer.

    lowered = lower(graph, cfg)                  # sw.common.network.Lowered
    result = lowered.run_golden(x_int, RunOptions())   # NetworkResult, every layer checked against the graph

How each graph layer (:func:`sw.graph.ir.integer_layers`) maps (docs/vta-compiler.md, "Integer graph"):

* **int8 domain.** VTA lanes are int8. A uint8 tensor travels as ``q - 128`` (its zero point too), which is exact:
  ``q - zp = (q - 128) - (zp - 128)``. Biases absorb ``128 * sum(w)``; clamps and zero points shift by -128.
* **conv2d** (any kernel/stride/padding, groups): the compiler's GEMM tiling with the bias folded as the graph
  defines it and the per-channel requantisation (:class:`sw.vta.compile.GraphRequant`: MULSHR + ADD + SHR on
  operand rows, clamp in the STORE). Padding must hold the input zero point: LOAD pads with 0 (zero point 0) or,
  with ``pad_min``, -128 (the zero point of every ReLU output in the int8 domain); any other zero point gets an
  input pre-padded in DRAM with the zero point (more input bytes, no extra instruction). Depthwise and other
  grouped convolutions whose groups are not multiples of 16 channels become block-diagonal groups of 16.
  A first layer with fewer channels than a block (ResNet's 7x7 on 3 channels) is *packed*: the host lays the
  image out as ``C*k*k`` channels (im2col of the input, padding = zero point), and the layer is a 1x1 GEMM.
* **dense**: a 1x1 convolution; after a Flatten of a (C, H, W) tensor with H == W it is an HxW convolution on
  the unflattened tensor (the weights are reshaped, no data moves), and the Flatten costs nothing.
* **avgpool / global_avgpool, requantize, clip**: depthwise convolutions with weight 1 (identity) plus the
  requantisation (a clip is a requantisation by ``2**30 * 2**-30``).
* **maxpool**: the ALU window maximum, padding -128 (never wins in the int8 domain).
* **add**: :class:`sw.vta.compile.GraphAdd`, exact on 32-bit lanes.
* **concat**: not lowered (listed in ``Lowered.unmapped``; the golden run uses the graph reference there).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

import numpy as np

from sw.common.network import LayerResult, Lowered, LoweringError, NetworkResult
from sw.graph.ir import Graph, integer_layers
from sw.graph.reference import run as graph_run, run_node

from .compile import GraphAdd, GraphRequant, MapError, blocked, compile_program, job_bytes, unblocked
from .config import MemId, VTAConfig
from .network import Layer

__all__ = ["lower", "VTALayer", "to_int8", "from_int8", "PACK_MAX_CHANNELS"]

#: Convolutions with fewer input channels than a block are packed (im2col on the host) up to this many channels.
PACK_MAX_CHANNELS = 256


def to_int8(x, dtype) -> np.ndarray:
    """Graph codes -> VTA int8 lanes (uint8: ``q - 128``)."""
    x = np.asarray(x)
    return x.astype(np.int8) if dtype == "int8" else (x.astype(np.int16) - 128).astype(np.int8)


def from_int8(y, dtype) -> np.ndarray:
    """VTA int8 lanes -> graph codes of ``dtype``."""
    y = np.asarray(y)
    return y.astype(np.int8) if dtype == "int8" else (y.astype(np.int16) + 128).astype(np.uint8)


def _zp8(zp, dtype):
    return int(zp) - (128 if dtype == "uint8" else 0)


@dataclasses.dataclass
class VTALayer:
    """One graph layer on VTA.

    ``layer`` is the compiler layer (None for a Flatten/Reshape, which moves no data); ``prepare(vals)`` builds the
    compiler's input tensors (int8 (C, H, W), keyed by ``layer.inputs``) of one batch item from graph values;
    ``finish(y)`` turns the compiler's (C, H, W) int8 output back into the graph tensor of one item."""
    name: str
    op: str
    nodes: list
    inputs: list
    output: str
    macs: int
    layer: Layer | None
    prepare: Callable | None
    finish: Callable | None
    notes: list = dataclasses.field(default_factory=list)
    where: str = "engine"
    _compiled: Any = dataclasses.field(default=None, repr=False)

    def compiled(self, cfg, tensors):
        """(program _Out, template DRAM image, insn_addr, insn_count), compiled once with the first inputs."""
        if self._compiled is None:
            try:
                o = compile_program(self.layer, cfg, tensors)
            except MapError as e:
                raise LoweringError(f"layer {self.name!r} ({self.op}): {e}") from None
            dram, addr, count = o.program.build()
            self._compiled = (o, dram, addr, count)
        return self._compiled

    def image(self, cfg, tensors):
        """The layer's DRAM image and instruction location for these input tensors."""
        o, dram, addr, count = self.compiled(cfg, tensors)
        dram = dram.copy()
        for buf, key in o.in_bufs:
            shape = self.layer.out_shape if key == self.layer.residual else self.layer.in_shape
            data = o.program.pack(buf.mem_id, blocked(tensors[key].reshape(shape),
                                                      cfg.block_in if buf.mem_id == MemId.INP else cfg.block_out,
                                                      buf.n_elems // (shape[1] * shape[2])))
            dram[buf.addr:buf.addr + len(data)] = np.frombuffer(data, np.uint8)
        return dram, addr, count

    def read(self, cfg, dram):
        o = self._compiled[0]
        raw = np.asarray(dram, np.uint8)[o.out_buf.addr:o.out_buf.addr + o.out_buf.nbytes].view(np.int8)
        return unblocked(raw.reshape(-1, 1, cfg.block_out), self.layer.out_shape)

    def dram_bytes(self):
        return job_bytes(self._compiled[0].program)["total"] if self._compiled else 0


# -- helpers ------------------------------------------------------------------------------------------------
def _err(lp, msg):
    return LoweringError(f"layer {lp.name!r} ({lp.op}): {msg}")


def _square(lp, key, v):
    if v[0] != v[1]:
        raise _err(lp, f"{key} {v} must be equal in both dimensions on VTA")
    return int(v[0])


def _expand_groups(w, groups, c, block):
    """Weights (M, C/groups, k, k) -> (M, C/G', k, k) for G' groups the compiler maps (multiples of the block in
    and out), block-diagonal inside each new group; returns (w', G')."""
    m = w.shape[0]
    cands = [d for d in range(groups, 0, -1) if groups % d == 0 and (c // d) % block == 0 and (m // d) % block == 0]
    g2 = cands[0] if cands else 1
    if g2 == groups:
        return w, groups
    cg, mg, cg2, mg2 = c // groups, m // groups, c // g2, m // g2
    out = np.zeros((m, cg2) + w.shape[2:], np.int8)
    for o in range(m):
        og = o // mg                       # old group of output o
        base2 = (o // mg2) * cg2           # first input channel of o's new group
        lo = og * cg - base2
        out[o, lo:lo + cg] = w[o]
    return out, g2


def _acc_bound(w, bias):
    return np.abs(bias.astype(np.int64)) + 128 * np.abs(w.reshape(w.shape[0], -1).astype(np.int64)).sum(1)


def _rq(lp, graph, bound):
    out = graph.tensors[lp.output]
    if lp.multiplier is None:
        raise _err(lp, "its int32 output is not requantised (VTA stores int8); supported: a core followed by "
                       "requantize")
    zp = _zp8(out.zero_point, out.dtype)
    off = 128 if out.dtype == "uint8" else 0
    try:
        return GraphRequant(lp.name, lp.multiplier, lp.shift, zp, lp.qmin - off, lp.qmax - off, bound)
    except MapError as e:
        raise LoweringError(str(e)) from None


def _item(vals, name, i):
    return np.asarray(vals[name])[i:i + 1]


# -- per-op lowering ----------------------------------------------------------------------------------------
def _conv_like(lp, graph, cfg, *, x_name, w, bias, strides, pads, groups, kernel, notes, src4d=None):
    """A conv2d-shaped layer: x (graph tensor ``x_name``), int8 weights w (M, C/groups, k, k), int64 bias in the
    *graph* domain (raw codes, padding = zero point)."""
    xt = graph.tensors[x_name]
    shape4 = src4d or xt.shape
    n, c, h, wd = shape4
    m = w.shape[0]
    k = kernel
    zp8 = _zp8(xt.zero_point, xt.dtype)
    bias = bias.astype(np.int64)
    if xt.dtype == "uint8":    # sum x w = sum (x - 128) w + 128 sum w
        bias = bias + 128 * w.reshape(m, -1).astype(np.int64).sum(1)
    s = _square(lp, "strides", strides)
    t_, l_, b_, r_ = pads
    oh = (h + t_ + b_ - k) // s + 1
    ow = (wd + l_ + r_ - k) // s + 1
    bi = cfg.block_in
    pack = groups == 1 and c < bi and k > 1 and c * k * k <= PACK_MAX_CHANNELS

    def padded(x):
        return np.pad(x, ((0, 0), (t_, b_), (l_, r_)), constant_values=zp8)

    if pack:
        notes.append(f"packed: {c} channels x {k}x{k} window -> {c * k * k} channels of a 1x1 GEMM (host im2col)")

        def prep(vals, i):
            x = padded(to_int8(_item(vals, x_name, i), xt.dtype).reshape(c, h, wd))
            cols = np.stack([x[:, kh:kh + (oh - 1) * s + 1:s, kw:kw + (ow - 1) * s + 1:s]
                             for kh in range(k) for kw in range(k)], axis=1)       # (c, k*k, oh, ow)
            return {"x": cols.reshape(c * k * k, oh, ow)}
        w2 = w.reshape(m, c * k * k, 1, 1)
        L = Layer(lp.name, "conv2d", ["x"], (c * k * k, oh, ow), (m, oh, ow), kernel=1)
        L.w, L.b = w2, _i32(lp, bias)
        bound = _acc_bound(w2, bias)
    else:
        wq, g2 = _expand_groups(np.asarray(w, np.int8), groups, c, bi) if groups > 1 else (w, 1)
        if g2 != groups:
            notes.append(f"groups {groups} -> {g2} block-diagonal groups of {c // g2} channels")
        sym = t_ == b_ == l_ == r_
        pad_min = False
        p = t_
        if any(pads) and (not sym or zp8 not in (0, -128) or p > 15):
            notes.append(f"input pre-padded in DRAM with the zero point {zp8} (pads {list(pads)})")

            def prep(vals, i):
                return {"x": padded(to_int8(_item(vals, x_name, i), xt.dtype).reshape(c, h, wd))}
            in_shape, p = (c, h + t_ + b_, wd + l_ + r_), 0
        else:
            pad_min = bool(any(pads)) and zp8 == -128

            def prep(vals, i):
                return {"x": to_int8(_item(vals, x_name, i), xt.dtype).reshape(c, h, wd)}
            in_shape = (c, h, wd)
        L = Layer(lp.name, "conv2d", ["x"], in_shape, (m, oh, ow), kernel=k, stride=s, pad=p, groups=g2)
        L.w, L.b, L.pad_min = wq, _i32(lp, bias), pad_min
        bound = _acc_bound(wq, bias)
    L.rq = _rq(lp, graph, bound)
    return L, prep


def _i32(lp, b):
    if b.min(initial=0) < -(1 << 31) or b.max(initial=0) >= 1 << 31:
        raise _err(lp, "folded bias does not fit int32")
    return b.astype(np.int32)


def _finish_fn(graph, name):
    t = graph.tensors[name]

    def fin(y):
        return from_int8(y, t.dtype).reshape((1,) + tuple(t.shape[1:]))
    return fin


def _lower_layer(lp, graph, cfg, flat_src):
    notes = []
    a = lp.attrs
    out_t = graph.tensors[lp.output]
    if lp.op == "conv2d":
        if a.get("dilations", [1, 1]) != [1, 1]:
            raise _err(lp, f"dilations {a['dilations']} (supported: 1)")
        k = _square(lp, "kernel", lp.weights.shape[2:])
        L, prep = _conv_like(lp, graph, cfg, x_name=lp.input[0], w=lp.weights, bias=lp.bias, strides=a["strides"],
                             pads=a["pads"], groups=a["groups"], kernel=k, notes=notes)
    elif lp.op == "dense":
        x = lp.input[0]
        src = flat_src.get(x)
        m, kk = lp.weights.shape
        if src is not None and graph.tensors[src].shape[2] == graph.tensors[src].shape[3]:
            _, c, h, w = graph.tensors[src].shape
            notes.append(f"reads the {c}x{h}x{w} tensor before the flatten as a {h}x{w} convolution")
            L, prep = _conv_like(lp, graph, cfg, x_name=src, w=lp.weights.reshape(m, c, h, w), bias=lp.bias,
                                 strides=[1, 1], pads=[0, 0, 0, 0], groups=1, kernel=h, notes=notes)
        else:
            n = graph.tensors[x].shape[0]
            L, prep = _conv_like(lp, graph, cfg, x_name=x, w=lp.weights.reshape(m, kk, 1, 1), bias=lp.bias,
                                 strides=[1, 1], pads=[0, 0, 0, 0], groups=1, kernel=1, notes=notes,
                                 src4d=(n, kk, 1, 1))
        L.type = "dense" if L.kernel == 1 and L.in_shape[1:] == (1, 1) else "conv2d"
    elif lp.op in ("avgpool", "global_avgpool", "requantize", "clip"):
        xt = graph.tensors[lp.input[0]]
        c = xt.shape[1]
        if lp.op == "avgpool":
            k = _square(lp, "kernel", a["kernel"])
            strides, pads = a["strides"], a["pads"]
        elif lp.op == "global_avgpool":
            k = _square(lp, "kernel (the input's height and width)", xt.shape[2:])
            strides, pads = [1, 1], [0, 0, 0, 0]
        else:
            if len(xt.shape) != 4:
                raise _err(lp, f"input shape {xt.shape} (supported: NCHW)")
            k, strides, pads = 1, [1, 1], [0, 0, 0, 0]
        w = np.ones((c, 1, k, k), np.int8)
        bias = lp.bias.astype(np.int64) if lp.bias is not None else np.full(c, -xt.zero_point, np.int64)
        if lp.op == "clip":
            lp = dataclasses.replace(lp, multiplier=np.array([1 << 30]), shift=np.array([30]),
                                     zp_out=xt.zero_point, qmin=a["qmin"], qmax=a["qmax"])
        L, prep = _conv_like(lp, graph, cfg, x_name=lp.input[0], w=w, bias=bias, strides=strides, pads=pads,
                             groups=c, kernel=k, notes=notes)
        L.identity = L.groups * cfg.block_in == c and L.kernel == k
        notes.append("identity depthwise GEMM (one weight block) + requantisation" if L.identity else
                     "identity depthwise GEMM + requantisation")
    elif lp.op == "maxpool":
        xt = graph.tensors[lp.input[0]]
        k = _square(lp, "kernel", a["kernel"])
        s = _square(lp, "strides", a["strides"])
        if len(set(a["pads"])) != 1:
            raise _err(lp, f"asymmetric pads {a['pads']} (supported: equal pads)")
        _, c, h, w = xt.shape
        L = Layer(lp.name, "maxpool", ["x"], (c, h, w), tuple(out_t.shape[1:]), kernel=k, stride=s, pad=a["pads"][0])

        def prep(vals, i, x_name=lp.input[0], dt=xt.dtype, shp=(c, h, w)):
            return {"x": to_int8(_item(vals, x_name, i), dt).reshape(shp)}
    elif lp.op == "add":
        ta, tb = (graph.tensors[n] for n in lp.input)
        off = 128 if out_t.dtype == "uint8" else 0
        try:
            ga = GraphAdd(lp.name, int(lp.multiplier[0]), int(lp.multiplier[1]), int(lp.shift[0]),
                          _zp8(ta.zero_point, ta.dtype), _zp8(tb.zero_point, tb.dtype),
                          _zp8(out_t.zero_point, out_t.dtype), lp.qmin - off, lp.qmax - off)
        except MapError as e:
            raise LoweringError(str(e)) from None
        shp = ta.shape[1:]
        if len(shp) == 1:
            shp = (shp[0], 1, 1)
        L = Layer(lp.name, "add", ["a", "b"], tuple(shp), tuple(shp))
        L.add = ga

        def prep(vals, i, names=tuple(lp.input), dts=(ta.dtype, tb.dtype), shp=tuple(shp)):
            return {k: to_int8(_item(vals, n, i), dt).reshape(shp) for k, n, dt in zip(("a", "b"), names, dts)}
    else:
        raise _err(lp, f"not supported on VTA (supported: conv2d, dense, avgpool, global_avgpool, maxpool, add, "
                       f"requantize, clip, reshape)")
    return L, prep, _finish_fn(graph, lp.output), notes


def lower(graph: Graph, cfg: VTAConfig | None = None, *, strict: bool = False) -> Lowered:
    """Map every layer of ``graph`` onto VTA (``cfg``: default config). Layers VTA cannot run are listed in
    ``Lowered.unmapped`` (``strict``: raise :class:`LoweringError` instead)."""
    cfg = cfg or VTAConfig()
    if cfg.batch != 1:
        raise LoweringError(f"graph {graph.name!r}: the VTA compiler maps batch 1 only (config BATCH={cfg.batch})")
    lps = integer_layers(graph)
    dense_inputs = {lp.input[0] for lp in lps if lp.op == "dense"}
    flat_src = {}
    for lp in lps:
        if lp.op == "reshape" and lp.output in dense_inputs and len(graph.tensors[lp.input[0]].shape) == 4:
            flat_src[lp.output] = lp.input[0]
    layers, unmapped = [], {}
    for lp in lps:
        if lp.op == "reshape":
            src = graph.tensors[lp.input[0]]
            free = lp.output in flat_src or (len(src.shape) == 4 and src.shape[2] * src.shape[3] == 1)
            layers.append(VTALayer(lp.name, lp.op, lp.nodes, lp.input, lp.output, 0, None, None, None,
                                   ["no data movement" if free else "host relayout"],
                                   where="engine" if free else "host"))
            continue
        try:
            L, prep, fin, notes = _lower_layer(lp, graph, cfg, flat_src)
        except LoweringError as e:
            if strict:
                raise
            unmapped[lp.name] = str(e)
            layers.append(VTALayer(lp.name, lp.op, lp.nodes, lp.input, lp.output, lp.macs, None, None, None,
                                   [str(e)], where="host"))
            continue
        layers.append(VTALayer(lp.name, lp.op, lp.nodes, lp.input, lp.output, lp.macs, L, prep, fin, notes))
    low = Lowered("vta", cfg, graph, layers, unmapped, float(cfg.macs_per_cycle))
    low.run_golden = lambda inputs, options=None, progress=None: run_golden(low, inputs, options, progress)
    return low


# -- execution ----------------------------------------------------------------------------------------------
def batch_items(graph: Graph, inputs) -> list:
    """Split ``inputs`` (array or {name: array}, int codes, leading batch axis) into per-item feeds."""
    name = graph.inputs[0]
    x = np.asarray(inputs[name] if isinstance(inputs, dict) else inputs)
    shape = graph.tensors[name].shape
    if x.shape == shape:
        return [x]
    if x.shape[1:] == shape[1:] and shape[0] == 1:
        return [x[i:i + 1] for i in range(x.shape[0])]
    if x.shape == shape[1:]:
        return [x[None]]
    raise LoweringError(f"input {name!r}: shape {x.shape} does not match the graph's {shape}")


def expected(graph, layer: VTALayer, vals) -> np.ndarray:
    """The graph reference output of ``layer`` given input values ``vals`` (per-layer check)."""
    v = dict(vals)
    out = None
    for nn in layer.nodes:
        node = graph.node(nn)
        out = run_node(graph, node, v)
        v[node.output] = out
    return out


def run_golden(low: Lowered, inputs, options=None, progress=None) -> NetworkResult:
    """Every layer of ``low`` on the VTA golden model, chained on the engine's own outputs, each checked
    bit-exactly against the graph reference fed the same inputs."""
    from .golden import run as golden_run
    cfg, graph = low.cfg, low.graph
    items = batch_items(graph, inputs)
    rows = {L.name: LayerResult(L.name, L.op, macs=L.macs * len(items), where=L.where,
                                message="; ".join(L.notes)) for L in low.layers}
    outs = {n: [] for n in graph.outputs}
    t0 = time.monotonic()
    status, msg = "ok", ""
    for i, x in enumerate(items):
        vals = {graph.inputs[0]: x}
        for L in low.layers:
            row = rows[L.name]
            exp = expected(graph, L, vals)
            if L.layer is None:           # reshape, or a host fallback
                vals[L.output] = exp
                if row.bit_exact is None:
                    row.bit_exact = True if L.where == "engine" else None
                continue
            tensors = L.prepare(vals, 0)
            dram, addr, count = L.image(cfg, tensors)
            r = golden_run(cfg, dram, addr, count)
            if r.status != "ok":
                row.bit_exact, row.message = False, r.message
                status, msg = "error", f"layer {L.name}: {r.message}"
                vals[L.output] = exp
                continue
            got = L.finish(L.read(cfg, r.dram))
            bad = int(np.count_nonzero(got != exp))
            row.mismatches += bad
            row.bit_exact = (row.bit_exact is not False) and bad == 0
            row.dram_bytes += L.dram_bytes()
            if bad and status == "ok":
                status, msg = "mismatch", f"layer {L.name}: {bad} of {exp.size} elements differ from the graph"
            vals[L.output] = got
            if progress:
                progress(f"golden item {i + 1}/{len(items)} {L.name}: {'ok' if not bad else 'MISMATCH'} "
                         f"({time.monotonic() - t0:.1f} s)")
        for n in graph.outputs:
            outs[n].append(vals[n])
    return NetworkResult("vta", "golden", [rows[L.name] for L in low.layers],
                         {n: np.concatenate(v) for n, v in outs.items()}, low.peak_macs_per_cycle, status, msg)


def reference_values(graph, x):
    """Every tensor of the graph reference for one item (helper for the RTL runner)."""
    return graph_run(graph, {graph.inputs[0]: x})


def describe(low: Lowered) -> list:
    """One row per layer: name, op, where, compiler type and shapes, notes."""
    rows = []
    for L in low.layers:
        rows.append({"name": L.name, "op": L.op, "where": L.where, "macs": L.macs,
                     "vta": None if L.layer is None else f"{L.layer.type} {L.layer.in_shape}->{L.layer.out_shape} "
                                                         f"k{L.layer.kernel} s{L.layer.stride} p{L.layer.pad} "
                                                         f"g{L.layer.groups}",
                     "notes": "; ".join(L.notes)})
    return rows

