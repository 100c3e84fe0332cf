"""Import quantised ONNX models (as ``onnxruntime.quantization.quantize_static`` writes them) into the integer graph.

    graph = import_onnx("model.onnx")        # or an onnx.ModelProto

Both formats, and mixtures of them, are read in one pass over the (topologically sorted) ONNX nodes:

- QDQ: ``QuantizeLinear -> DequantizeLinear`` pairs around float ``Conv``, ``Gemm``, ``MatMul``, ``Add``,
  ``MaxPool``, ``AveragePool``, ``GlobalAveragePool``, ``Flatten``, ``Reshape``, ``Concat``, ``Relu``, ``Clip``.
  A float tensor is tracked symbolically as "the dequantisation of integer tensor t, clamped to [lo, hi]" (or a
  pending Add/Concat of such tensors); the ``QuantizeLinear`` that consumes it decides the requantisation
  (output scale and zero point), so Relu/Clip become the clamp of the requantisation and value movers whose
  output is re-quantised with the input's parameters cost nothing.
- QOperator: ``QLinearConv``, ``QLinearMatMul``, ``QGemm``, ``QLinearAdd``, ``QLinearAveragePool``,
  ``QLinearGlobalAveragePool``, ``QLinearConcat``, and ``MaxPool``/``Flatten``/``Reshape`` on integer tensors.

Integer cores are exact (see :mod:`sw.graph.ir`): convolutions pad with the input zero point, so the
zero-point correction folds into the bias for every output position. Weights must be int8 with zero point 0
(``weight_type=QInt8``), per tensor or per output channel; activations int8 or uint8, per tensor.

A float model, an unsupported op or attribute, a dynamic shape, a missing quantisation parameter or a file that
is not ONNX raise :class:`GraphError` naming the node, its op type and what is supported.
``graph.meta["onnx_tensors"]`` maps every integer ONNX tensor name to the graph tensor holding its values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .ir import DTYPES, Graph, GraphError, conv_output_hw, quantize_multiplier

__all__ = ["import_onnx", "SUPPORTED_OPS"]

SUPPORTED_OPS = ("QuantizeLinear", "DequantizeLinear", "Conv", "Gemm", "MatMul", "Add", "MaxPool", "AveragePool",
                 "GlobalAveragePool", "Flatten", "Reshape", "Concat", "Relu", "Clip", "Identity", "Dropout",
                 "QLinearConv", "QLinearMatMul", "QGemm", "QLinearAdd", "QLinearAveragePool",
                 "QLinearGlobalAveragePool", "QLinearConcat")
_SUPPORTED = ", ".join(SUPPORTED_OPS)
_ELEM = {2: "uint8", 3: "int8", 6: "int32"}


@dataclass
class _Deq:
    """Float tensor = dequantisation of IR tensor ``t`` clamped to the real range [lo, hi]."""
    t: str
    lo: float = -np.inf
    hi: float = np.inf


@dataclass
class _Pending:
    """Float tensor = Add or Concat of dequantised IR tensors, waiting for its QuantizeLinear."""
    kind: str
    ts: list
    axis: int = 1
    lo: float = -np.inf
    hi: float = np.inf
    node: str = ""


@dataclass
class _ConstQ:
    """A dequantised constant (weights/bias): integer values, scales and zero points along ``axis``."""
    q: np.ndarray
    scale: np.ndarray
    zp: np.ndarray
    axis: int = 1


@dataclass
class _Int:
    t: str


@dataclass
class _State:
    g: Graph
    consts: dict
    shapes: dict
    env: dict = field(default_factory=dict)
    names: set = field(default_factory=set)
    node_names: set = field(default_factory=set)


def _err(node, msg):
    return GraphError(f"node {node.name or node.output[0]!r} ({node.op_type}): {msg}")


def import_onnx(model, name: str | None = None) -> Graph:
    """Import an ONNX model (path or ``onnx.ModelProto``) into a validated :class:`Graph`."""
    import onnx
    from onnx import numpy_helper
    where = "model"
    if not isinstance(model, onnx.ModelProto):
        path = Path(model)
        where = str(path)
        if not path.is_file():
            raise GraphError(f"{path}: no such file")
        data = path.read_bytes()
        try:
            model = onnx.load_model_from_string(data)
        except Exception as e:  # protobuf DecodeError and friends
            raise GraphError(f"{path}: not an ONNX model ({type(e).__name__})") from None
        name = name or path.stem
    if not model.graph.node or not model.opset_import:
        raise GraphError(f"{where}: not an ONNX model (no graph nodes or opset)")
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception as e:
        raise GraphError(f"{where}: ONNX shape inference failed ({str(e).splitlines()[0][:200]})") from None
    gr = inferred.graph
    consts = {}
    for init in gr.initializer:
        try:
            consts[init.name] = numpy_helper.to_array(init)
        except Exception as e:
            raise GraphError(f"{where}: initializer {init.name!r}: unreadable ({type(e).__name__})") from None
    for n in gr.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t) if n.attribute[0].type == 4 \
                else np.asarray(onnx.helper.get_attribute_value(n.attribute[0]))
    shapes = {}
    for vi in list(gr.value_info) + list(gr.output) + list(gr.input):
        tt = vi.type.tensor_type
        if tt.HasField("shape"):
            shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim)
    if not any(n.op_type == "QuantizeLinear" or n.op_type.startswith("QLinear") or n.op_type == "QGemm"
               for n in gr.node):
        raise GraphError(f"{where}: float model (no QuantizeLinear or QLinear* nodes): quantize it first with "
                         "onnxruntime.quantization.quantize_static (QDQ or QOperator format)")
    g = Graph(name=name or gr.name or "graph")
    st = _State(g, consts, shapes)
    g.meta = {"source": Path(where).name if where != "model" else "model", "onnx_tensors": {},
              "float_inputs": {}, "outputs_float": {}}
    float_inputs = {}
    for vi in gr.input:
        if vi.name in consts:
            continue
        tt = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tt.shape.dim]
        bad = [i for i, d in enumerate(dims) if not isinstance(d, int) or d <= 0]
        if bad:
            raise GraphError(f"{where}: input {vi.name!r}: dynamic shape {dims} (dim {bad[0]}); supported: static "
                             "shapes (fix the batch and image size, e.g. onnx.tools.update_model_dims)")
        if tt.elem_type != 1:
            raise GraphError(f"{where}: input {vi.name!r}: element type {tt.elem_type}; supported: float32 inputs "
                             "followed by QuantizeLinear")
        float_inputs[vi.name] = tuple(dims)
    for n in gr.node:
        if n.op_type == "Constant":
            continue
        try:
            _node(st, n, float_inputs)
        except GraphError as e:
            if str(e).startswith("node "):
                raise GraphError(f"{where}: {e}") from None
            raise GraphError(f"{where}: {_err(n, str(e))}") from None
    for vo in gr.output:
        ref = st.env.get(vo.name)
        if isinstance(ref, _Int):
            g.outputs.append(ref.t)
        elif isinstance(ref, _Deq) and ref.lo == -np.inf and ref.hi == np.inf:
            g.outputs.append(ref.t)
            g.meta["outputs_float"][vo.name] = ref.t
        else:
            raise GraphError(f"{where}: output {vo.name!r}: not a (de)quantised integer tensor; supported: outputs "
                             "after DequantizeLinear or QLinear* ops")
    if not g.inputs:
        raise GraphError(f"{where}: no float input feeds a QuantizeLinear")
    try:
        g.validate()
    except GraphError as e:
        raise GraphError(f"{where}: {e}") from None
    return g


# -- helpers -----------------------------------------------------------------------------------------------
def _attrs(n):
    from onnx import helper
    out = {}
    for a in n.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _const(st, n, i, what, required=True):
    if i >= len(n.input) or not n.input[i]:
        if required:
            raise _err(n, f"missing quantisation parameter {what} (input {i})")
        return None
    name = n.input[i]
    if name not in st.consts:
        raise _err(n, f"{what} {name!r} must be a constant initializer")
    return st.consts[name]


def _scalar_q(st, n, si, zi):
    """(scale, zero point, dtype) of per-tensor activation parameters at inputs si, zi."""
    s = _const(st, n, si, "scale")
    zp = _const(st, n, zi, "zero point", required=False)
    if np.size(s) != 1:
        raise _err(n, f"activation scale {n.input[si]!r} must be per tensor (has {np.size(s)} values)")
    dtype = "uint8" if zp is None else zp.dtype.name
    if dtype not in ("int8", "uint8"):
        raise _err(n, f"activation zero point type {dtype}; supported: int8, uint8")
    scale = float(np.asarray(s).reshape(-1)[0])
    if not np.isfinite(scale) or scale <= 0:
        raise _err(n, f"scale {scale} must be positive")
    return scale, int(np.asarray(zp).reshape(-1)[0]) if zp is not None else 0, dtype


def _uniq(st, base):
    name, k = base, 1
    while name in st.g.tensors or name in st.g.constants or name in st.names:
        k += 1
        name = f"{base}_{k}"
    st.names.add(name)
    return name


def _node_name(st, n, suffix=""):
    base = (n.name or n.output[0]) + suffix
    name, k = base, 1
    while name in st.node_names:
        k += 1
        name = f"{base}_{k}"
    st.node_names.add(name)
    return name


def _ref(st, n, i):
    name = n.input[i]
    if name not in st.env:
        if name in st.consts:
            raise _err(n, f"input {name!r} is a float constant; supported: quantised (DequantizeLinear) inputs")
        raise _err(n, f"input {name!r} is not a quantised tensor (missing QuantizeLinear/DequantizeLinear)")
    return st.env[name]


def _deq_in(st, n, i, allow_clamp=False):
    r = _ref(st, n, i)
    if isinstance(r, _Deq) and (allow_clamp or (r.lo == -np.inf and r.hi == np.inf)):
        return r
    if isinstance(r, _Deq):
        raise _err(n, "input is a clamped float (Relu/Clip) that is not re-quantised; supported: Relu/Clip "
                      "followed by QuantizeLinear")
    raise _err(n, f"input {n.input[i]!r} must be a dequantised tensor, got {type(r).__name__.strip('_')}")


def _int_in(st, n, i):
    r = _ref(st, n, i)
    if not isinstance(r, _Int):
        raise _err(n, f"input {n.input[i]!r} must be a quantised tensor")
    return st.g.tensors[r.t]


def _qint(st, name, out, scale, zp, dtype):
    st.g.meta["onnx_tensors"][out] = name
    st.env[out] = _Int(name)


def _clamp_q(lo, hi, scale, zp, dtype):
    qlo, qhi = DTYPES[dtype]
    if lo > -np.inf:
        qlo = max(qlo, int(np.clip(np.rint(lo / scale) + zp, *DTYPES[dtype])))
    if hi < np.inf:
        qhi = min(qhi, int(np.clip(np.rint(hi / scale) + zp, *DTYPES[dtype])))
    return qlo, qhi


def _requant(st, n, src, dst_name, scale, zp, dtype, lo=-np.inf, hi=np.inf):
    """Emit requantize (or clip, or nothing) from IR tensor src to a new tensor (scale, zp, dtype); return its name."""
    g = st.g
    t = g.tensors[src]
    qmin, qmax = _clamp_q(lo, hi, scale, zp, dtype)
    if not t.per_channel and t.dtype == dtype and t.zero_point == zp and np.isclose(t.scale, scale, rtol=1e-7, atol=0):
        if (qmin, qmax) == DTYPES[dtype]:
            return src
        g.add_tensor(dst_name, t.shape, dtype, t.scale, zp)
        g.add_node(_node_name(st, n, ":clip"), "clip", [src], dst_name, qmin=qmin, qmax=qmax)
        return dst_name
    ratio = t.scale_array() / scale
    try:
        ms = [quantize_multiplier(float(r)) for r in np.atleast_1d(ratio)]
    except GraphError as e:
        raise _err(n, f"requantisation {e}") from None
    m0 = [m for m, _ in ms]
    sh = [s for _, s in ms]
    g.add_tensor(dst_name, t.shape, dtype, scale, zp)
    g.add_node(_node_name(st, n, ":requant"), "requantize", [src], dst_name,
               multiplier=m0 if t.per_channel else m0[0], shift=sh if t.per_channel else sh[0], qmin=qmin, qmax=qmax)
    return dst_name


def _materialise(st, n, ref, out, scale, zp, dtype):
    """The QuantizeLinear ``n`` of float ``ref`` into ONNX tensor ``out``."""
    g = st.g
    if isinstance(ref, _Deq):
        name = _requant(st, n, ref.t, _uniq(st, out), scale, zp, dtype, ref.lo, ref.hi)
        st.names.discard(out) if name != out else None
        _qint(st, name, out, scale, zp, dtype)
        return
    if ref.kind == "add":
        a, b = (g.tensors[t] for t in ref.ts)
        if a.per_channel or b.per_channel or a.dtype == "int32" or b.dtype == "int32":
            raise _err(n, "Add inputs must be per-tensor int8/uint8 tensors")
        ra, rb = a.scale / scale, b.scale / scale
        try:
            m_big, shift = quantize_multiplier(max(ra, rb))
        except GraphError as e:
            raise _err(n, f"Add requantisation {e}") from None
        ma, mb = (round(r * 2.0 ** shift) for r in (ra, rb))
        qmin, qmax = _clamp_q(ref.lo, ref.hi, scale, zp, dtype)
        name = _uniq(st, out)
        g.add_tensor(name, a.shape, dtype, scale, zp)
        g.add_node(ref.node, "add", ref.ts, name, multiplier=[int(ma), int(mb)], shift=int(shift), qmin=qmin,
                   qmax=qmax)
        _qint(st, name, out, scale, zp, dtype)
        return
    # concat: bring every input to the output parameters, concatenate, clamp if needed
    parts = []
    for t in ref.ts:
        parts.append(_requant(st, n, t, _uniq(st, f"{t}:to_{out}"), scale, zp, dtype))
    shape = list(g.tensors[parts[0]].shape)
    shape[ref.axis] = sum(g.tensors[p].shape[ref.axis] for p in parts)
    qmin, qmax = _clamp_q(ref.lo, ref.hi, scale, zp, dtype)
    name = _uniq(st, out if (qmin, qmax) == DTYPES[dtype] else out + ":cat")
    g.add_tensor(name, shape, dtype, scale, zp)
    g.add_node(ref.node, "concat", parts, name, axis=ref.axis)
    if (qmin, qmax) != DTYPES[dtype]:
        name2 = _uniq(st, out)
        g.add_tensor(name2, shape, dtype, scale, zp)
        g.add_node(ref.node + ":clip", "clip", [name], name2, qmin=qmin, qmax=qmax)
        name = name2
    _qint(st, name, out, scale, zp, dtype)


def _window_attrs(n, a, kernel):
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise _err(n, f"auto_pad={a['auto_pad']}; supported: explicit pads (NOTSET) or VALID")
    if a.get("ceil_mode", 0):
        raise _err(n, "ceil_mode=1; supported: ceil_mode=0")
    if len(kernel) != 2:
        raise _err(n, f"kernel_shape {kernel}; supported: 2-D windows")
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if len(pads) != 4:
        raise _err(n, f"pads {pads}; supported: 4 values")
    # ONNX pads: [top, left, bottom, right] = [x1_begin, x2_begin, x1_end, x2_end]
    return [int(k) for k in kernel], [int(s) for s in a.get("strides", [1, 1])], [int(p) for p in pads]


def _conv(st, n, x, wq, bias, a, out_name):
    """Emit conv2d of IR tensor x with _ConstQ weights; return the int32 accumulator tensor name."""
    g = st.g
    if len(x.shape) != 4:
        raise _err(n, f"input shape {x.shape}; supported: NCHW")
    w = wq.q
    if w.ndim != 4:
        raise _err(n, f"weights of rank {w.ndim}; supported: 2-D convolutions")
    if w.dtype != np.int8:
        raise _err(n, f"weights are {w.dtype}; supported: int8 weights (quantize_static weight_type=QInt8)")
    if np.any(wq.zp != 0):
        raise _err(n, "weights zero point is not 0; supported: symmetric int8 weights")
    if wq.scale.size > 1 and wq.axis != 0:
        raise _err(n, f"per-channel weight axis {wq.axis}; supported: axis 0 (output channels)")
    kernel, strides, pads = _window_attrs(n, a, a.get("kernel_shape", list(w.shape[2:])))
    dil = [int(d) for d in a.get("dilations", [1, 1])]
    groups = int(a.get("group", 1))
    if a.get("auto_pad", "NOTSET") == "VALID":
        pads = [0, 0, 0, 0]
    m = w.shape[0]
    s_acc = x.scale * wq.scale.astype(np.float64).reshape(-1)
    wname = g.add_constant(_uniq(st, f"{n.name or out_name}.w"), w.astype(np.int8))
    inputs = [x.name, wname]
    if bias is not None:
        inputs.append(g.add_constant(_uniq(st, f"{n.name or out_name}.b"), _bias(n, bias, s_acc, m)))
    oh, ow = conv_output_hw(x.shape[2], x.shape[3], kernel, strides, pads, dil)
    acc = _uniq(st, f"{n.name or out_name}:acc")
    g.add_tensor(acc, (x.shape[0], m, oh, ow), "int32", tuple(s_acc) if s_acc.size > 1 else float(s_acc[0]))
    g.add_node(_node_name(st, n), "conv2d", inputs, acc, strides=strides, pads=pads, dilations=dil, groups=groups)
    _check_shape(st, n, acc)
    return acc


def _bias(n, b, s_acc, m):
    if isinstance(b, _ConstQ):
        if b.q.dtype != np.int32 or np.any(b.zp != 0):
            raise _err(n, "bias must be int32 with zero point 0")
        sb = np.broadcast_to(b.scale.astype(np.float64).reshape(-1), (m,))
        if not np.allclose(sb, np.broadcast_to(s_acc, (m,)), rtol=1e-4):
            raise _err(n, "bias scale is not input scale x weight scale")
        return b.q.reshape(-1).astype(np.int32)
    b = np.asarray(b)
    if b.dtype == np.int32:
        return b.reshape(-1)
    if b.dtype.kind == "f":
        q = np.rint(b.astype(np.float64).reshape(-1) / s_acc)
        return np.clip(q, *DTYPES["int32"]).astype(np.int32)
    raise _err(n, f"bias type {b.dtype}; supported: int32 or float")


def _dense(st, n, x, wq, bias, trans_b, out_name):
    g = st.g
    if len(x.shape) != 2:
        raise _err(n, f"input shape {x.shape}; supported: 2-D (N, K) inputs (Flatten first)")
    w = wq.q
    if w.dtype != np.int8 or np.any(wq.zp != 0):
        raise _err(n, "weights must be int8 with zero point 0 (quantize_static weight_type=QInt8)")
    if w.ndim != 2:
        raise _err(n, f"weights of rank {w.ndim}; supported: 2-D")
    if not trans_b:
        w = w.T  # (K, M) -> (M, K)
    out_axis = 0 if trans_b else 1
    if wq.scale.size > 1 and wq.axis != out_axis:
        raise _err(n, f"per-channel weight axis {wq.axis}; supported: the output axis {out_axis}")
    m = w.shape[0]
    s_acc = x.scale * wq.scale.astype(np.float64).reshape(-1)
    wname = g.add_constant(_uniq(st, f"{n.name or out_name}.w"), np.ascontiguousarray(w).astype(np.int8))
    inputs = [x.name, wname]
    if bias is not None:
        inputs.append(g.add_constant(_uniq(st, f"{n.name or out_name}.b"), _bias(n, bias, s_acc, m)))
    acc = _uniq(st, f"{n.name or out_name}:acc")
    g.add_tensor(acc, (x.shape[0], m), "int32", tuple(s_acc) if s_acc.size > 1 else float(s_acc[0]))
    g.add_node(_node_name(st, n), "dense", inputs, acc)
    return acc


def _pool(st, n, x, a, out_name, op):
    g = st.g
    if len(x.shape) != 4:
        raise _err(n, f"input shape {x.shape}; supported: NCHW")
    if op == "global_avgpool":
        acc = _uniq(st, f"{n.name or out_name}:acc")
        g.add_tensor(acc, (x.shape[0], x.shape[1], 1, 1), "int32", x.scale / (x.shape[2] * x.shape[3]))
        g.add_node(_node_name(st, n), "global_avgpool", [x.name], acc)
        return acc
    kernel, strides, pads = _window_attrs(n, a, a.get("kernel_shape", []))
    if a.get("auto_pad", "NOTSET") == "VALID":
        pads = [0, 0, 0, 0]
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise _err(n, "dilations; supported: 1")
    if a.get("storage_order", 0):
        raise _err(n, "storage_order=1; supported: 0")
    oh, ow = conv_output_hw(x.shape[2], x.shape[3], kernel, strides, pads)
    shape = (x.shape[0], x.shape[1], oh, ow)
    if op == "maxpool":
        name = _uniq(st, out_name)
        g.add_tensor(name, shape, x.dtype, x.scale, x.zero_point)
        g.add_node(_node_name(st, n), "maxpool", [x.name], name, kernel=kernel, strides=strides, pads=pads)
        _check_shape(st, n, name)
        return name
    if any(pads) and not a.get("count_include_pad", 0):
        raise _err(n, "count_include_pad=0 with padding; supported: count_include_pad=1 or no padding")
    acc = _uniq(st, f"{n.name or out_name}:acc")
    g.add_tensor(acc, shape, "int32", x.scale / (kernel[0] * kernel[1]))
    g.add_node(_node_name(st, n), "avgpool", [x.name], acc, kernel=kernel, strides=strides, pads=pads)
    return acc


def _reshape(st, n, x, a, out_name):
    g = st.g
    if n.op_type == "Flatten":
        axis = a.get("axis", 1)
        axis = axis + len(x.shape) if axis < 0 else axis
        if axis != 1:
            raise _err(n, f"axis={axis}; supported: axis=1 (keep the batch)")
        shape = (x.shape[0], int(np.prod(x.shape[1:])))
    else:
        target = _const(st, n, 1, "shape")
        try:
            shape = np.empty(x.shape, np.int8).reshape([x.shape[i] if int(d) == 0 else int(d)
                                                        for i, d in enumerate(target.reshape(-1))]).shape
        except ValueError:
            raise _err(n, f"cannot reshape {x.shape} to {target.tolist()}") from None
    name = _uniq(st, out_name)
    g.add_tensor(name, shape, x.dtype, x.scale, x.zero_point)
    g.add_node(_node_name(st, n), "reshape", [x.name], name)
    _check_shape(st, n, name)
    return name


def _check_shape(st, n, name):
    inferred = st.shapes.get(n.output[0])
    t = st.g.tensors[name]
    if inferred and all(d is not None for d in inferred) and tuple(inferred) != t.shape:
        raise _err(n, f"computed output shape {t.shape} != ONNX shape inference {inferred}")


# -- one ONNX node ---------------------------------------------------------------------------------------------
def _node(st, n, float_inputs):
    g, op, a = st.g, n.op_type, _attrs(n)
    out = n.output[0] if n.output else ""
    if n.domain not in ("", "ai.onnx", "com.microsoft"):
        raise _err(n, f"domain {n.domain!r} not supported; supported ops: {_SUPPORTED}")
    if op == "QuantizeLinear":
        scale, zp, dtype = _scalar_q(st, n, 1, 2)
        src = n.input[0]
        if src in float_inputs:
            name = _uniq(st, out)
            g.add_tensor(name, float_inputs[src], dtype, scale, zp)
            g.inputs.append(name)
            g.meta["float_inputs"][src] = name
            _qint(st, name, out, scale, zp, dtype)
        elif src in st.consts:
            q = np.clip(np.rint(st.consts[src].astype(np.float32) / np.float32(scale)) + zp, *DTYPES[dtype])
            st.consts[out] = q.astype(dtype)
        else:
            ref = _ref(st, n, 0)
            if isinstance(ref, _Int):
                raise _err(n, "input is already quantised")
            _materialise(st, n, ref, out, scale, zp, dtype)
        return
    if op == "DequantizeLinear":
        src = n.input[0]
        if src in st.consts:
            s = np.asarray(_const(st, n, 1, "scale"))
            zp = _const(st, n, 2, "zero point", required=False)
            zp = np.zeros(1, np.int64) if zp is None else np.asarray(zp)
            st.env[out] = _ConstQ(np.asarray(st.consts[src]), s.reshape(-1), zp.reshape(-1).astype(np.int64),
                                  int(a.get("axis", 1)))
            return
        t = _int_in(st, n, 0)
        scale, zp, dtype = _scalar_q(st, n, 1, 2)
        if not np.isclose(scale, t.scale, rtol=1e-6) or zp != t.zero_point:
            raise _err(n, f"scale/zero point ({scale}, {zp}) differ from those of {n.input[0]!r} "
                          f"({t.scale}, {t.zero_point})")
        st.env[out] = _Deq(t.name)
        return
    if op in ("Identity", "Dropout"):
        st.env[out] = _ref(st, n, 0)
        return
    if op == "Conv":
        x = g.tensors[_deq_in(st, n, 0).t]
        w = _ref(st, n, 1)
        if not isinstance(w, _ConstQ):
            raise _err(n, "weights must be a DequantizeLinear of an int8 initializer")
        b = st.env.get(n.input[2], st.consts.get(n.input[2])) if len(n.input) > 2 and n.input[2] else None
        st.env[out] = _Deq(_conv(st, n, x, w, b, a, out))
        return
    if op in ("Gemm", "MatMul"):
        if op == "Gemm" and (a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0)):
            raise _err(n, "alpha/beta/transA; supported: alpha=1, beta=1, transA=0")
        x = g.tensors[_deq_in(st, n, 0).t]
        w = _ref(st, n, 1)
        if not isinstance(w, _ConstQ):
            raise _err(n, "weights must be a DequantizeLinear of an int8 initializer")
        b = st.env.get(n.input[2], st.consts.get(n.input[2])) if len(n.input) > 2 and n.input[2] else None
        st.env[out] = _Deq(_dense(st, n, x, w, b, bool(a.get("transB", 0)) if op == "Gemm" else False, out))
        return
    if op == "QLinearConv":
        x = _int_in(st, n, 0)
        w = _ConstQ(_const(st, n, 3, "weights"), np.asarray(_const(st, n, 4, "w_scale")).reshape(-1),
                    np.asarray(_const(st, n, 5, "w_zero_point")).reshape(-1).astype(np.int64), 0)
        scale, zp, dtype = _scalar_q(st, n, 6, 7)
        b = _const(st, n, 8, "bias") if len(n.input) > 8 and n.input[8] else None
        acc = _conv(st, n, x, w, b, a, out)
        _qint(st, _requant(st, n, acc, _uniq(st, out), scale, zp, dtype), out, scale, zp, dtype)
        return
    if op in ("QLinearMatMul", "QGemm"):
        x = _int_in(st, n, 0)
        if op == "QGemm" and (a.get("alpha", 1.0) != 1.0 or a.get("transA", 0)):
            raise _err(n, "alpha/transA; supported: alpha=1, transA=0")
        trans_b = bool(a.get("transB", 0)) if op == "QGemm" else False
        ws = np.asarray(_const(st, n, 4, "b_scale")).reshape(-1)
        w = _ConstQ(_const(st, n, 3, "weights"), ws, np.asarray(_const(st, n, 5, "b_zero_point")).reshape(-1)
                    .astype(np.int64), 0 if trans_b else 1)
        b = None
        if op == "QGemm" and len(n.input) > 6 and n.input[6]:
            b = _const(st, n, 6, "bias")
        yi = 6 if op == "QLinearMatMul" else 7
        acc = _dense(st, n, x, w, b, trans_b, out)
        if len(n.input) > yi and n.input[yi]:
            scale, zp, dtype = _scalar_q(st, n, yi, yi + 1)
            _qint(st, _requant(st, n, acc, _uniq(st, out), scale, zp, dtype), out, scale, zp, dtype)
        else:  # QGemm without y_scale: float output = the accumulator
            st.env[out] = _Deq(acc)
        return
    if op == "Add":
        ra, rb = _deq_in(st, n, 0), _deq_in(st, n, 1)
        st.env[out] = _Pending("add", [ra.t, rb.t], node=_node_name(st, n))
        return
    if op == "QLinearAdd":
        ta, tb = _int_in(st, n, 0), _int_in(st, n, 3)
        scale, zp, dtype = _scalar_q(st, n, 6, 7)
        _materialise(st, n, _Pending("add", [ta.name, tb.name], node=_node_name(st, n)), out, scale, zp, dtype)
        return
    if op in ("Relu", "Clip"):
        ref = _ref(st, n, 0)
        lo, hi = 0.0, np.inf
        if op == "Clip":
            if "min" in a or "max" in a:
                lo, hi = float(a.get("min", -np.inf)), float(a.get("max", np.inf))
            else:
                mn = _const(st, n, 1, "min", required=False)
                mx = _const(st, n, 2, "max", required=False)
                lo = float(np.asarray(mn).reshape(-1)[0]) if mn is not None else -np.inf
                hi = float(np.asarray(mx).reshape(-1)[0]) if mx is not None else np.inf
        if isinstance(ref, (_Deq, _Pending)):
            st.env[out] = type(ref)(**{**ref.__dict__, "lo": max(ref.lo, lo), "hi": min(ref.hi, hi)})
            return
        if isinstance(ref, _Int):
            t = g.tensors[ref.t]
            qmin, qmax = _clamp_q(lo, hi, t.scale, t.zero_point, t.dtype)
            name = _uniq(st, out)
            g.add_tensor(name, t.shape, t.dtype, t.scale, t.zero_point)
            g.add_node(_node_name(st, n), "clip", [t.name], name, qmin=qmin, qmax=qmax)
            _qint(st, name, out, t.scale, t.zero_point, t.dtype)
            return
        raise _err(n, "input must be a quantised tensor")
    if op in ("MaxPool", "Flatten", "Reshape"):
        ref = _ref(st, n, 0)
        if isinstance(ref, _Deq):
            x = g.tensors[ref.t]
            name = _pool(st, n, x, a, out, "maxpool") if op == "MaxPool" else _reshape(st, n, x, a, out)
            st.env[out] = _Deq(name, ref.lo, ref.hi)  # max/reshape commute with the pending clamp
        elif isinstance(ref, _Int):
            x = g.tensors[ref.t]
            name = _pool(st, n, x, a, out, "maxpool") if op == "MaxPool" else _reshape(st, n, x, a, out)
            _qint(st, name, out, x.scale, x.zero_point, x.dtype)
        else:
            raise _err(n, "input must be a quantised tensor")
        if len(n.output) > 1 and n.output[1]:
            raise _err(n, "MaxPool indices output; supported: values only")
        return
    if op in ("AveragePool", "GlobalAveragePool"):
        x = g.tensors[_deq_in(st, n, 0).t]
        st.env[out] = _Deq(_pool(st, n, x, a, out, "avgpool" if op == "AveragePool" else "global_avgpool"))
        return
    if op in ("QLinearAveragePool", "QLinearGlobalAveragePool"):
        x = _int_in(st, n, 0)
        if a.get("channels_last", 0):
            raise _err(n, "channels_last=1; supported: NCHW (channels_last=0)")
        acc = _pool(st, n, x, a, out, "avgpool" if op == "QLinearAveragePool" else "global_avgpool")
        scale, zp, dtype = _scalar_q(st, n, 3, 4)
        _qint(st, _requant(st, n, acc, _uniq(st, out), scale, zp, dtype), out, scale, zp, dtype)
        return
    if op == "Concat":
        refs = [_deq_in(st, n, i) for i in range(len(n.input))]
        axis = a.get("axis", 1)
        if axis < 0:
            axis += len(g.tensors[refs[0].t].shape)
        if axis == 0:
            raise _err(n, "axis=0 (batch); supported: axis >= 1")
        st.env[out] = _Pending("concat", [r.t for r in refs], axis=axis, node=_node_name(st, n))
        return
    if op == "QLinearConcat":
        scale, zp, dtype = _scalar_q(st, n, 0, 1)
        ts = [_int_in(st, n, i).name for i in range(2, len(n.input), 3)]
        axis = a.get("axis", 1)
        if axis < 0:
            axis += len(g.tensors[ts[0]].shape)
        _materialise(st, n, _Pending("concat", ts, axis=axis, node=_node_name(st, n)), out, scale, zp, dtype)
        return
    raise _err(n, f"unsupported op; supported ops: {_SUPPORTED}")
