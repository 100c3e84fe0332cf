"""The integer network graph: a small, typed IR that every engine lowers.

Tensors
-------
:class:`Tensor` ``(name, shape, dtype, scale, zero_point)``. Activations are NCHW (dense layers: ``(N, K)``).
``dtype`` is ``int8``, ``uint8`` or ``int32``. The real value of an element is ``(q - zero_point) * scale``;
``scale`` is a float (per tensor) or a tuple of floats, one per channel (axis 1) -- int32 accumulator tensors of
per-channel convolutions carry ``s_x * s_w[c]``. Weights and biases are constants (``Graph.constants``, numpy
arrays): int8 weights (zero point 0, per-channel scales live on the accumulator tensor), int32 biases.

Ops (``Node.op``; every node has exactly one output)
---------------------------------------------------
Integer cores (int8/uint8 in, int32 out, no rounding anywhere):

- ``conv2d``  inputs ``[x, w, b?]``, attrs ``strides [sh, sw]``, ``pads [top, left, bottom, right]``,
  ``dilations [dh, dw]``, ``groups`` (``groups == C`` is depthwise). ``w`` int8 ``(M, C/groups, kh, kw)``,
  ``b`` int32 ``(M,)``. ``acc[n,m,y,x] = b[m] + sum (x_pad - zp_x) * w`` where the padding holds the value
  ``zp_x`` (the real zero), so the zero-point correction is exact everywhere and folds into the bias:
  ``acc = (b - zp_x * sum(w[m])) + sum x_pad * w`` -- see :func:`integer_layers`.
- ``dense``   inputs ``[x, w, b?]``, ``x (N, K)``, ``w`` int8 ``(M, K)``, ``b`` int32 ``(M,)``:
  ``acc = b + (x - zp_x) @ w.T``.
- ``avgpool`` attrs ``kernel [kh, kw]``, ``strides``, ``pads``: window sums of ``x - zp_x`` (padding counts as
  zero and the divisor is always ``kh * kw``); the output scale is ``s_x / (kh * kw)``.
- ``global_avgpool``: ``(N, C, H, W) -> (N, C, 1, 1)`` sums of ``x - zp_x``; output scale ``s_x / (H * W)``.

Requantisation (the only rounding in the graph; ONE rule, see :func:`rounding_shift`):

- ``requantize`` inputs ``[x]``, attrs ``multiplier`` (int or list per channel), ``shift`` (int or list),
  ``qmin``, ``qmax``: ``y = clamp(rshift_round((x - zp_x) * m0, shift) + zp_y, qmin, qmax)``. The real multiplier
  ``M = s_x / s_y ~= m0 * 2**-shift`` with ``m0`` an int32 in ``[2**30, 2**31)`` (gemmlowp's ``2**-(31+n)``:
  ``shift = 31 + n``). ReLU / Clip fold into ``qmin``/``qmax``.
- ``add`` inputs ``[a, b]``, attrs ``multiplier [m_a, m_b]``, ``shift``, ``qmin``, ``qmax``:
  ``y = clamp(rshift_round((a - zp_a) * m_a + (b - zp_b) * m_b, shift) + zp_y, qmin, qmax)`` (one shared shift).

Value movers (output has the input's dtype, scale and zero point): ``maxpool`` (``kernel``, ``strides``,
``pads``; padding never wins), ``clip`` (``qmin``, ``qmax``), ``reshape`` (the output tensor's shape; Flatten is
a reshape), ``concat`` (``axis``; all inputs share dtype, scale and zero point).

Rounding rule
-------------
``rshift_round(v, s) = (v + 2**(s-1)) >> s`` with an arithmetic shift, ``v`` computed exactly in int64
(``|acc| < 2**31``, ``m0 < 2**31``): round half up (towards +inf). One adder and one shifter, no sign handling,
which is what a hardware ALU (VTA: add, shift, min, max) does cheaply; onnxruntime rounds half to even in
float, so the two differ by at most 1 on exact ties and where the 31-bit multiplier crosses a rounding
boundary. docs/networks.md has the measured agreement.

Every check raises :class:`GraphError` (a ``ValueError``) naming the node (or tensor) and field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["GraphError", "Tensor", "Node", "Graph", "DTYPES", "OPS", "quantize_multiplier", "rounding_shift",
           "conv_output_hw", "integer_layers", "LayerParams"]

DTYPES = {"int8": (-128, 127), "uint8": (0, 255), "int32": (-(2 ** 31), 2 ** 31 - 1)}
OPS = ("conv2d", "dense", "avgpool", "global_avgpool", "requantize", "add", "maxpool", "clip", "reshape", "concat")
CORE_OPS = ("conv2d", "dense", "avgpool", "global_avgpool")


class GraphError(ValueError):
    """A malformed graph, graph file or model; the message names the node/tensor/file and field."""


def rounding_shift(v, shift):
    """``(v + 2**(shift-1)) >> shift`` on int64 numpy arrays (arithmetic shift: round half up)."""
    v = np.asarray(v, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    return (v + (np.int64(1) << (shift - 1))) >> shift


def quantize_multiplier(real: float, max_shift: int = 62) -> tuple[int, int]:
    """``(m0, shift)`` with ``real ~= m0 * 2**-shift``, ``m0`` in ``[2**30, 2**31)`` and ``1 <= shift <= 62``.

    Multipliers too small for a 62-bit shift get a denormal ``m0`` (fewer significant bits); 0 gives ``(0, 1)``.
    Raises GraphError for negative, non-finite or too large (``>= 2**30``) multipliers."""
    if not math.isfinite(real) or real < 0:
        raise GraphError(f"multiplier {real!r} must be finite and >= 0")
    if real == 0:
        return 0, 1
    mant, exp = math.frexp(real)  # real = mant * 2**exp, mant in [0.5, 1)
    m0 = round(mant * (1 << 31))
    if m0 == 1 << 31:
        m0 //= 2
        exp += 1
    shift = 31 - exp
    if shift < 1:
        raise GraphError(f"multiplier {real!r} too large (must be < 2**30)")
    if shift > max_shift:
        m0 = round(m0 / (1 << (shift - max_shift)))
        shift = max_shift
    return int(m0), int(shift)


def conv_output_hw(h, w, kernel, strides, pads, dilations=(1, 1)):
    """Output (height, width) of a convolution/pooling window."""
    kh, kw = kernel
    oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (w + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    return oh, ow


@dataclass
class Tensor:
    """An integer tensor: real value ``(q - zero_point) * scale`` (``scale`` per tensor or per channel, axis 1)."""
    name: str
    shape: tuple
    dtype: str
    scale: float | tuple = 1.0
    zero_point: int = 0

    def __post_init__(self):
        self.shape = tuple(int(s) for s in self.shape) if isinstance(self.shape, (list, tuple)) else self.shape
        if isinstance(self.scale, (list, tuple, np.ndarray)):
            self.scale = tuple(float(s) for s in self.scale)
            if len(self.scale) == 1:
                self.scale = self.scale[0]
        elif isinstance(self.scale, (int, float, np.floating, np.integer)) and not isinstance(self.scale, bool):
            self.scale = float(self.scale)

    @property
    def per_channel(self) -> bool:
        return isinstance(self.scale, tuple)

    def scale_array(self) -> np.ndarray:
        return np.asarray(self.scale, dtype=np.float64)

    def to_dict(self):
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                "scale": list(self.scale) if self.per_channel else self.scale, "zero_point": self.zero_point}


@dataclass
class Node:
    """One op: ``inputs`` (tensor or constant names), one output tensor, ``attrs`` (JSON-able)."""
    name: str
    op: str
    inputs: list
    output: str
    attrs: dict = field(default_factory=dict)

    def to_dict(self):
        return {"name": self.name, "op": self.op, "inputs": list(self.inputs), "output": self.output,
                "attrs": self.attrs}


def _int_list(node, key, n, lo=None):
    v = node.attrs.get(key)
    if not isinstance(v, (list, tuple)) or len(v) != n or not all(isinstance(i, int) and not isinstance(i, bool)
                                                                   for i in v):
        raise GraphError(f"node {node.name!r} ({node.op}): attrs.{key} must be a list of {n} ints, not {v!r}")
    if lo is not None and any(i < lo for i in v):
        raise GraphError(f"node {node.name!r} ({node.op}): attrs.{key} must be >= {lo}, not {v!r}")
    return list(v)


def _int(node, key, lo=None, hi=None, default=None):
    v = node.attrs.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool):
        raise GraphError(f"node {node.name!r} ({node.op}): attrs.{key} must be an int, not {v!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise GraphError(f"node {node.name!r} ({node.op}): attrs.{key}={v} out of range [{lo}, {hi}]")
    return v


@dataclass
class Graph:
    """Tensors, constants, nodes in execution order, graph inputs and outputs, free-form ``meta``."""
    name: str = "graph"
    tensors: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)
    nodes: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    # -- construction helpers -------------------------------------------------------------------------
    def add_tensor(self, name, shape, dtype, scale=1.0, zero_point=0) -> Tensor:
        if name in self.tensors or name in self.constants:
            raise GraphError(f"tensor {name!r}: duplicate name")
        t = Tensor(name, tuple(shape), dtype, scale, int(zero_point))
        self.tensors[name] = t
        return t

    def add_constant(self, name, array) -> str:
        if name in self.tensors or name in self.constants:
            raise GraphError(f"constant {name!r}: duplicate name")
        self.constants[name] = np.asarray(array)
        return name

    def add_node(self, name, op, inputs, output, **attrs) -> Node:
        n = Node(name, op, list(inputs), output, attrs)
        self.nodes.append(n)
        return n

    def node(self, name) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def producer(self, tensor) -> Node | None:
        for n in self.nodes:
            if n.output == tensor:
                return n
        return None

    def consumers(self, tensor) -> list:
        return [n for n in self.nodes if tensor in n.inputs]

    # -- checks ----------------------------------------------------------------------------------------
    def validate(self) -> "Graph":
        """Check names, dtypes, shapes, attributes and quantisation parameters; raise GraphError or return self."""
        for name, t in self.tensors.items():
            if not isinstance(t, Tensor) or t.name != name:
                raise GraphError(f"tensor {name!r}: name does not match its entry")
            if t.dtype not in DTYPES:
                raise GraphError(f"tensor {name!r}: dtype {t.dtype!r} not one of {', '.join(DTYPES)}")
            if not isinstance(t.shape, tuple) or not all(isinstance(s, int) and s > 0 for s in t.shape):
                raise GraphError(f"tensor {name!r}: shape {t.shape!r} must be positive ints")
            sc = t.scale_array() if isinstance(t.scale, (tuple, float)) else None
            if sc is None or not np.all(np.isfinite(sc)) or not np.all(sc > 0):
                raise GraphError(f"tensor {name!r}: scale {t.scale!r} must be positive and finite")
            if t.per_channel and (len(t.shape) < 2 or len(t.scale) != t.shape[1]):
                raise GraphError(f"tensor {name!r}: {len(t.scale)} per-channel scales for shape {t.shape}")
            lo, hi = DTYPES[t.dtype]
            if not isinstance(t.zero_point, int) or not lo <= t.zero_point <= hi:
                raise GraphError(f"tensor {name!r}: zero_point {t.zero_point!r} outside {t.dtype} range")
            if t.dtype == "int32" and t.zero_point != 0:
                raise GraphError(f"tensor {name!r}: int32 tensors have zero_point 0")
        for name, c in self.constants.items():
            if not isinstance(c, np.ndarray) or c.dtype.name not in ("int8", "int32"):
                raise GraphError(f"constant {name!r}: must be an int8 or int32 array")
        for name in self.inputs:
            if name not in self.tensors:
                raise GraphError(f"graph input {name!r}: no such tensor")
        defined = set(self.inputs)
        for n in self.nodes:
            if not isinstance(n.op, str) or n.op not in OPS:
                raise GraphError(f"node {n.name!r}: op {n.op!r} not one of {', '.join(OPS)}")
            if n.output not in self.tensors:
                raise GraphError(f"node {n.name!r} ({n.op}): output {n.output!r} is not a tensor")
            if n.output in defined:
                raise GraphError(f"node {n.name!r} ({n.op}): output {n.output!r} defined twice")
            for i in n.inputs:
                if i not in defined and i not in self.constants:
                    raise GraphError(f"node {n.name!r} ({n.op}): input {i!r} is not defined before the node")
            _CHECK[n.op](self, n)
            defined.add(n.output)
        for name in self.outputs:
            if name not in defined:
                raise GraphError(f"graph output {name!r}: not produced")
        if not self.inputs or not self.outputs:
            raise GraphError("graph: needs inputs and outputs")
        return self

    # -- summaries -------------------------------------------------------------------------------------
    def macs(self, node) -> int:
        """Multiply-accumulates of a conv2d/dense node (0 for other ops)."""
        if node.op == "conv2d":
            w = self.constants[node.inputs[1]]
            return int(np.prod(self.tensors[node.output].shape)) * int(np.prod(w.shape[1:]))
        if node.op == "dense":
            w = self.constants[node.inputs[1]]
            return int(self.tensors[node.output].shape[0]) * int(w.size)
        return 0

    def layer_table(self) -> list:
        """One dict per node: name, op, in/out shapes, MACs, bits, per-channel."""
        rows = []
        for n in self.nodes:
            ins = [self.tensors[i] for i in n.inputs if i in self.tensors]
            out = self.tensors[n.output]
            pc = out.per_channel or isinstance(n.attrs.get("multiplier"), list) and n.op == "requantize"
            bits = "/".join(sorted({t.dtype for t in ins})) + "->" + out.dtype
            rows.append({"name": n.name, "op": n.op,
                         "shape": "x".join(map(str, ins[0].shape)) + " -> " + "x".join(map(str, out.shape)),
                         "macs": self.macs(n), "bits": bits, "per_channel": "yes" if pc else ""})
        return rows

    def to_dict(self):
        return {"name": self.name, "inputs": list(self.inputs), "outputs": list(self.outputs),
                "tensors": [t.to_dict() for t in self.tensors.values()],
                "nodes": [n.to_dict() for n in self.nodes], "meta": self.meta}


# -- per-op checks ---------------------------------------------------------------------------------------
def _in(g, n, k, dtypes=("int8", "uint8")):
    if len(n.inputs) <= k or n.inputs[k] not in g.tensors:
        raise GraphError(f"node {n.name!r} ({n.op}): input {k} must be a tensor")
    t = g.tensors[n.inputs[k]]
    if t.dtype not in dtypes:
        raise GraphError(f"node {n.name!r} ({n.op}): input {t.name!r} dtype {t.dtype} not one of {dtypes}")
    return t


def _out_shape(n, out, shape, dtype=None):
    if out.shape != tuple(shape):
        raise GraphError(f"node {n.name!r} ({n.op}): output shape {out.shape} != expected {tuple(shape)}")
    if dtype and out.dtype != dtype:
        raise GraphError(f"node {n.name!r} ({n.op}): output dtype {out.dtype} != expected {dtype}")


def _const(g, n, k, dtype, ndim):
    if len(n.inputs) <= k or n.inputs[k] not in g.constants:
        raise GraphError(f"node {n.name!r} ({n.op}): input {k} must be a constant")
    c = g.constants[n.inputs[k]]
    if c.dtype.name != dtype or c.ndim != ndim:
        raise GraphError(f"node {n.name!r} ({n.op}): constant {n.inputs[k]!r} must be {ndim}-D {dtype}, "
                         f"not {c.ndim}-D {c.dtype}")
    return c


def _check_acc_scale(g, n, x_scale, w_scale_count):
    out = g.tensors[n.output]
    if out.per_channel and len(out.scale) != w_scale_count:
        raise GraphError(f"node {n.name!r} ({n.op}): output scale needs {w_scale_count} channels")


def _check_conv(g, n):
    x = _in(g, n, 0)
    if len(x.shape) != 4:
        raise GraphError(f"node {n.name!r} (conv2d): input {x.name!r} must be NCHW, not {x.shape}")
    w = _const(g, n, 1, "int8", 4)
    if x.per_channel:
        raise GraphError(f"node {n.name!r} (conv2d): input {x.name!r} must have a per-tensor scale")
    st = _int_list(n, "strides", 2, 1)
    pads = _int_list(n, "pads", 4, 0)
    dil = _int_list(n, "dilations", 2, 1)
    groups = _int(n, "groups", 1)
    m, cg, kh, kw = w.shape
    if x.shape[1] % groups or m % groups or x.shape[1] // groups != cg:
        raise GraphError(f"node {n.name!r} (conv2d): weights {w.shape} do not match {x.shape[1]} input "
                         f"channels in attrs.groups={groups}")
    if len(n.inputs) > 2:
        b = _const(g, n, 2, "int32", 1)
        if b.shape != (m,):
            raise GraphError(f"node {n.name!r} (conv2d): bias shape {b.shape} != ({m},)")
    oh, ow = conv_output_hw(x.shape[2], x.shape[3], (kh, kw), st, pads, dil)
    if oh < 1 or ow < 1:
        raise GraphError(f"node {n.name!r} (conv2d): kernel larger than the padded input")
    _out_shape(n, g.tensors[n.output], (x.shape[0], m, oh, ow), "int32")
    _check_acc_scale(g, n, x.scale, m)


def _check_dense(g, n):
    x = _in(g, n, 0)
    w = _const(g, n, 1, "int8", 2)
    if len(x.shape) != 2 or x.shape[1] != w.shape[1]:
        raise GraphError(f"node {n.name!r} (dense): input {x.shape} does not match weights {w.shape} (M, K)")
    if len(n.inputs) > 2:
        b = _const(g, n, 2, "int32", 1)
        if b.shape != (w.shape[0],):
            raise GraphError(f"node {n.name!r} (dense): bias shape {b.shape} != ({w.shape[0]},)")
    _out_shape(n, g.tensors[n.output], (x.shape[0], w.shape[0]), "int32")
    _check_acc_scale(g, n, x.scale, w.shape[0])


def _pool_shape(g, n, dtype=None):
    x = _in(g, n, 0)
    if len(x.shape) != 4:
        raise GraphError(f"node {n.name!r} ({n.op}): input must be NCHW, not {x.shape}")
    k = _int_list(n, "kernel", 2, 1)
    st = _int_list(n, "strides", 2, 1)
    pads = _int_list(n, "pads", 4, 0)
    if pads[0] >= k[0] or pads[2] >= k[0] or pads[1] >= k[1] or pads[3] >= k[1]:
        raise GraphError(f"node {n.name!r} ({n.op}): attrs.pads {pads} must be smaller than the kernel {k}")
    oh, ow = conv_output_hw(x.shape[2], x.shape[3], k, st, pads)
    if oh < 1 or ow < 1:
        raise GraphError(f"node {n.name!r} ({n.op}): kernel larger than the padded input")
    _out_shape(n, g.tensors[n.output], (x.shape[0], x.shape[1], oh, ow), dtype)
    return x


def _same_q(g, n, x):
    out = g.tensors[n.output]
    if out.dtype != x.dtype or out.zero_point != x.zero_point or out.scale != x.scale:
        raise GraphError(f"node {n.name!r} ({n.op}): output must keep the input's dtype, scale and zero point")


def _check_maxpool(g, n):
    _same_q(g, n, _pool_shape(g, n))


def _check_avgpool(g, n):
    _pool_shape(g, n, "int32")


def _check_gap(g, n):
    x = _in(g, n, 0)
    if len(x.shape) != 4:
        raise GraphError(f"node {n.name!r} (global_avgpool): input must be NCHW, not {x.shape}")
    _out_shape(n, g.tensors[n.output], (x.shape[0], x.shape[1], 1, 1), "int32")


def _check_clamp(g, n, out):
    lo, hi = DTYPES[out.dtype]
    qmin, qmax = _int(n, "qmin", lo, hi), _int(n, "qmax", lo, hi)
    if qmin > qmax:
        raise GraphError(f"node {n.name!r} ({n.op}): attrs.qmin {qmin} > attrs.qmax {qmax}")


def _mult_shift(n, key, count):
    v = n.attrs.get(key)
    vals = v if isinstance(v, list) else [v]
    if isinstance(v, list) and len(v) != count:
        raise GraphError(f"node {n.name!r} ({n.op}): attrs.{key} has {len(v)} entries, expected 1 or {count}")
    lo, hi = (0, 2 ** 31 - 1) if key == "multiplier" else (1, 62)
    for i in vals:
        if not isinstance(i, int) or isinstance(i, bool) or not lo <= i <= hi:
            raise GraphError(f"node {n.name!r} ({n.op}): attrs.{key} value {i!r} must be an int in [{lo}, {hi}]")


def _check_requant(g, n):
    x = _in(g, n, 0, tuple(DTYPES))
    out = g.tensors[n.output]
    if out.dtype == "int32" or out.per_channel:
        raise GraphError(f"node {n.name!r} (requantize): output must be per-tensor int8/uint8")
    _out_shape(n, out, x.shape)
    ch = x.shape[1] if len(x.shape) > 1 else 1
    _mult_shift(n, "multiplier", ch)
    _mult_shift(n, "shift", ch)
    _check_clamp(g, n, out)


def _check_add(g, n):
    a, b = _in(g, n, 0), _in(g, n, 1)
    if a.shape != b.shape:
        raise GraphError(f"node {n.name!r} (add): input shapes {a.shape} and {b.shape} differ")
    out = g.tensors[n.output]
    if out.dtype == "int32" or out.per_channel:
        raise GraphError(f"node {n.name!r} (add): output must be per-tensor int8/uint8")
    _out_shape(n, out, a.shape)
    m = n.attrs.get("multiplier")
    if not isinstance(m, list) or len(m) != 2:
        raise GraphError(f"node {n.name!r} (add): attrs.multiplier must be [m_a, m_b], not {m!r}")
    _mult_shift(n, "multiplier", 2)
    _int(n, "shift", 1, 62)
    _check_clamp(g, n, out)


def _check_clip(g, n):
    x = _in(g, n, 0)
    _same_q(g, n, x)
    _out_shape(n, g.tensors[n.output], x.shape)
    _check_clamp(g, n, g.tensors[n.output])


def _check_reshape(g, n):
    x = _in(g, n, 0, tuple(DTYPES))
    out = g.tensors[n.output]
    if int(np.prod(out.shape)) != int(np.prod(x.shape)) or out.shape[0] != x.shape[0]:
        raise GraphError(f"node {n.name!r} (reshape): {x.shape} -> {out.shape} changes the element or batch count")
    if x.per_channel and out.shape[:2] != x.shape[:2]:
        raise GraphError(f"node {n.name!r} (reshape): per-channel tensor {x.name!r} must keep its channel axis")
    if out.dtype != x.dtype or out.zero_point != x.zero_point or out.scale != x.scale:
        raise GraphError(f"node {n.name!r} (reshape): output must keep the input's dtype, scale and zero point")


def _check_concat(g, n):
    axis = _int(n, "axis", 1)
    ts = [_in(g, n, k) for k in range(len(n.inputs))]
    if not ts:
        raise GraphError(f"node {n.name!r} (concat): needs inputs")
    shape = list(ts[0].shape)
    if axis >= len(shape):
        raise GraphError(f"node {n.name!r} (concat): attrs.axis {axis} out of range")
    for t in ts[1:]:
        if (t.dtype, t.scale, t.zero_point) != (ts[0].dtype, ts[0].scale, ts[0].zero_point):
            raise GraphError(f"node {n.name!r} (concat): input {t.name!r} quantisation differs from {ts[0].name!r}")
        if len(t.shape) != len(shape) or any(a != b for i, (a, b) in enumerate(zip(t.shape, shape)) if i != axis):
            raise GraphError(f"node {n.name!r} (concat): input {t.name!r} shape {t.shape} does not match")
    shape[axis] = sum(t.shape[axis] for t in ts)
    _out_shape(n, g.tensors[n.output], shape)
    _same_q(g, n, ts[0])


_CHECK = {"conv2d": _check_conv, "dense": _check_dense, "avgpool": _check_avgpool, "global_avgpool": _check_gap,
          "requantize": _check_requant, "add": _check_add, "maxpool": _check_maxpool, "clip": _check_clip,
          "reshape": _check_reshape, "concat": _check_concat}


# -- lowering view ---------------------------------------------------------------------------------------
@dataclass
class LayerParams:
    """One layer as an engine maps it: an integer core (or none) followed by a requantisation stage.

    For ``conv2d``/``dense``: ``weights`` int8, ``bias`` int32 with the zero-point correction folded in
    (``b - zp_x * sum(w[m])``), so the core is ``acc = bias + sum x_pad * w`` on the raw input codes with
    padding value ``pad_value`` (= ``zp_x``). For pools: ``bias = -zp_x * window`` likewise. Requantisation:
    ``y = clamp(((acc * multiplier) + 2**(shift-1)) >> shift) + zp_out, qmin, qmax)`` with per-channel
    ``multiplier``/``shift`` arrays (length 1 if per tensor). ``add`` layers have ``multiplier`` of shape (2,)
    and ``zp_in`` of both inputs; value movers have no requantisation (``multiplier`` None)."""
    name: str
    op: str
    nodes: list
    input: list
    output: str
    in_shape: tuple
    out_shape: tuple
    attrs: dict
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    pad_value: int = 0
    zp_in: list = field(default_factory=list)
    multiplier: np.ndarray | None = None
    shift: np.ndarray | None = None
    zp_out: int = 0
    qmin: int = -128
    qmax: int = 127
    macs: int = 0


def integer_layers(graph: Graph) -> list:
    """The graph as a list of :class:`LayerParams`: each integer core fused with the ``requantize`` that
    consumes its int32 output (when it is the only consumer), every other node on its own."""
    layers, used = [], set()
    for n in graph.nodes:
        if n.name in used:
            continue
        x = graph.tensors.get(n.inputs[0]) if n.inputs else None
        lp = LayerParams(n.name, n.op, [n.name], [i for i in n.inputs if i in graph.tensors], n.output,
                         x.shape if x else (), graph.tensors[n.output].shape, dict(n.attrs),
                         zp_in=[graph.tensors[i].zero_point for i in n.inputs if i in graph.tensors])
        if n.op in CORE_OPS:
            zp = x.zero_point
            if n.op in ("conv2d", "dense"):
                w = graph.constants[n.inputs[1]]
                b = graph.constants[n.inputs[2]].astype(np.int64) if len(n.inputs) > 2 else np.zeros(w.shape[0],
                                                                                                     np.int64)
                lp.weights = w
                lp.bias = (b - zp * w.reshape(w.shape[0], -1).astype(np.int64).sum(1)).astype(np.int32)
                lp.pad_value = zp
                lp.macs = graph.macs(n)
            else:
                win = int(np.prod(n.attrs["kernel"])) if n.op == "avgpool" else x.shape[2] * x.shape[3]
                lp.bias = np.full(x.shape[1], -zp * win, np.int32)
                lp.pad_value = zp
            cons = graph.consumers(n.output)
            if len(cons) == 1 and cons[0].op == "requantize" and n.output not in graph.outputs:
                r = cons[0]
                used.add(r.name)
                lp.nodes.append(r.name)
                lp.output = r.output
                lp.out_shape = graph.tensors[r.output].shape
                _requant_params(graph, r, lp)
        elif n.op in ("requantize", "add"):
            _requant_params(graph, n, lp)
        layers.append(lp)
    return layers


def _requant_params(graph, r, lp):
    out = graph.tensors[r.output]
    m = r.attrs["multiplier"]
    lp.multiplier = np.atleast_1d(np.asarray(m, np.int64))
    lp.shift = np.atleast_1d(np.asarray(r.attrs["shift"], np.int64))
    lp.zp_out, lp.qmin, lp.qmax = out.zero_point, r.attrs["qmin"], r.attrs["qmax"]
