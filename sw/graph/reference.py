"""Exact numpy reference executor of the integer graph (:mod:`sw.graph.ir`).

    values = run(graph, {"input": x_int8})        # every tensor by name (inputs, intermediates, outputs)
    x_q = quantize_input(graph, x_float)          # QuantizeLinear of the graph's float input (ties to even)

Accumulation is exact: convolutions and dense layers multiply in float64 through BLAS (every product
``|(x - zp) * w| <= 2**15`` and every sum ``< 2**53``, so float64 is exact) and convert to int64;
requantisation multiplies in int64 and uses :func:`sw.graph.ir.rounding_shift`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .ir import DTYPES, Graph, GraphError, rounding_shift

__all__ = ["run", "run_node", "quantize_input", "dequantize"]


def quantize_input(graph: Graph, x) -> np.ndarray:
    """Quantise a float array for the graph's first input the way ONNX QuantizeLinear does: float32
    ``x / scale``, round half to even, add the zero point, saturate."""
    t = graph.tensors[graph.inputs[0]]
    q = np.rint(np.asarray(x, np.float32) / np.float32(t.scale)).astype(np.int64) + t.zero_point
    lo, hi = DTYPES[t.dtype]
    return np.clip(q, lo, hi).astype(t.dtype)


def dequantize(graph: Graph, name, q) -> np.ndarray:
    """Real values of tensor ``name`` (per-channel scales along axis 1)."""
    t = graph.tensors[name]
    s = t.scale_array()
    if t.per_channel:
        s = s.reshape((1, -1) + (1,) * (len(t.shape) - 2))
    return (np.asarray(q, np.float64) - t.zero_point) * s


def _windows(x, kernel, strides, pads, dilations, pad_value):
    """(N, C, OH, OW, kh, kw) view of the padded input."""
    t, l, b, r = pads
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=pad_value) if any(pads) else x
    kh, kw = kernel
    dh, dw = dilations
    win = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    return win[:, :, ::strides[0], ::strides[1], ::dh, ::dw]


def _conv(g, n, x):
    w = g.constants[n.inputs[1]].astype(np.float64)
    xt = g.tensors[n.inputs[0]]
    a = n.attrs
    xf = x.astype(np.float64) - xt.zero_point          # padding below is 0 = the real zero
    m, cg, kh, kw = w.shape
    groups = a["groups"]
    win = _windows(xf, (kh, kw), a["strides"], a["pads"], a["dilations"], 0.0)
    nb, c, oh, ow = win.shape[:4]
    if groups == 1:
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(nb * oh * ow, c * kh * kw)
        out = (cols @ w.reshape(m, -1).T).reshape(nb, oh, ow, m).transpose(0, 3, 1, 2)
    elif cg == 1 and m == groups:  # depthwise
        out = np.zeros((nb, m, oh, ow))
        for i in range(kh):
            for j in range(kw):
                out += win[..., i, j] * w[:, 0, i, j][None, :, None, None]
    else:
        mg = m // groups
        parts = []
        for gi in range(groups):
            wg = win[:, gi * cg:(gi + 1) * cg]
            cols = wg.transpose(0, 2, 3, 1, 4, 5).reshape(nb * oh * ow, cg * kh * kw)
            wm = w[gi * mg:(gi + 1) * mg].reshape(mg, -1)
            parts.append((cols @ wm.T).reshape(nb, oh, ow, mg).transpose(0, 3, 1, 2))
        out = np.concatenate(parts, axis=1)
    acc = np.rint(out).astype(np.int64)
    if len(n.inputs) > 2:
        acc += g.constants[n.inputs[2]].astype(np.int64)[None, :, None, None]
    return acc


def _dense(g, n, x):
    w = g.constants[n.inputs[1]].astype(np.float64)
    xf = x.astype(np.float64) - g.tensors[n.inputs[0]].zero_point
    acc = np.rint(xf @ w.T).astype(np.int64)
    if len(n.inputs) > 2:
        acc += g.constants[n.inputs[2]].astype(np.int64)[None, :]
    return acc


def _saturate(g, n, v):
    out = g.tensors[n.output]
    lo, hi = DTYPES[out.dtype]
    if not (v.min(initial=0) >= lo and v.max(initial=0) <= hi):
        raise GraphError(f"node {n.name!r} ({n.op}): int32 accumulator overflow")
    return v.astype(out.dtype)


def _chan(v, ndim):
    v = np.asarray(v, np.int64)
    return v.reshape((1, -1) + (1,) * (ndim - 2)) if v.ndim == 1 and ndim >= 2 else v


def run_node(g: Graph, n, vals: dict) -> np.ndarray:
    """Output of one node given the values of its tensor inputs in ``vals``."""
    xs = [vals[i] for i in n.inputs if i in g.tensors]
    a = n.attrs
    if n.op == "conv2d":
        return _saturate(g, n, _conv(g, n, xs[0]))
    if n.op == "dense":
        return _saturate(g, n, _dense(g, n, xs[0]))
    if n.op in ("avgpool", "global_avgpool"):
        x = xs[0].astype(np.int64) - g.tensors[n.inputs[0]].zero_point
        if n.op == "global_avgpool":
            return x.sum(axis=(2, 3), keepdims=True).astype(np.int32)
        return _windows(x, a["kernel"], a["strides"], a["pads"], (1, 1), 0).sum(axis=(4, 5)).astype(np.int32)
    if n.op == "maxpool":
        lo = DTYPES[g.tensors[n.inputs[0]].dtype][0]
        return _windows(xs[0], a["kernel"], a["strides"], a["pads"], (1, 1), lo).max(axis=(4, 5))
    if n.op == "requantize":
        x = xs[0].astype(np.int64) - g.tensors[n.inputs[0]].zero_point
        v = rounding_shift(x * _chan(a["multiplier"], x.ndim), _chan(a["shift"], x.ndim))
        v = v + g.tensors[n.output].zero_point
        return np.clip(v, a["qmin"], a["qmax"]).astype(g.tensors[n.output].dtype)
    if n.op == "add":
        ta, tb = g.tensors[n.inputs[0]], g.tensors[n.inputs[1]]
        ma, mb = a["multiplier"]
        v = (xs[0].astype(np.int64) - ta.zero_point) * ma + (xs[1].astype(np.int64) - tb.zero_point) * mb
        v = rounding_shift(v, a["shift"]) + g.tensors[n.output].zero_point
        return np.clip(v, a["qmin"], a["qmax"]).astype(g.tensors[n.output].dtype)
    if n.op == "clip":
        return np.clip(xs[0], a["qmin"], a["qmax"])
    if n.op == "reshape":
        return xs[0].reshape(g.tensors[n.output].shape)
    if n.op == "concat":
        return np.concatenate(xs, axis=a["axis"])
    raise GraphError(f"node {n.name!r}: op {n.op!r} has no reference implementation")


def run(graph: Graph, feeds: dict, substitute: dict | None = None) -> dict:
    """Execute the graph; return every tensor by name.

    ``feeds`` maps input names to integer arrays (a bare array is taken for the only input). ``substitute``
    (optional) maps tensor names to values used as *inputs* of the nodes that consume them instead of the
    executor's own (per-layer comparisons: feed every layer what another implementation computed); the
    returned values are always this executor's."""
    if not isinstance(feeds, dict):
        feeds = {graph.inputs[0]: feeds}
    vals = {}
    for name in graph.inputs:
        if name not in feeds:
            raise GraphError(f"graph input {name!r}: not fed")
        t = graph.tensors[name]
        x = np.asarray(feeds[name])
        if x.shape != t.shape:
            raise GraphError(f"graph input {name!r}: shape {x.shape} != {t.shape}")
        lo, hi = DTYPES[t.dtype]
        if x.size and (x.min() < lo or x.max() > hi):
            raise GraphError(f"graph input {name!r}: values outside {t.dtype}")
        vals[name] = x.astype(t.dtype)
    sub = substitute or {}
    for n in graph.nodes:
        ins = {i: sub[i] if i in sub else vals[i] for i in n.inputs if i in graph.tensors}
        vals[n.output] = run_node(graph, n, ins)
    return vals
