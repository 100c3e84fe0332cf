"""Network layers for the model: the conv and dense layers of an ONNX file, a graph folder or the built-in table.

``network_layers(spec)`` returns ``[(Layer, instances), ...]`` at batch 1, identical shapes merged (the layer
keeps the first node's name, ``instances`` counts them). ``spec`` is

- ``resnet18``: the project's ResNet-18 table (sw/data/resnet18_layers.json, C1..C11 with instance counts);
- a ``.onnx`` file: Conv (float, QDQ-wrapped: weights behind DequantizeLinear) and QLinearConv nodes, Gemm and
  MatMul, shapes from ``onnx.shape_inference`` (a missing output shape is computed from the attributes);
  a grouped convolution is ``groups`` instances of its per-group layer (depthwise: K = C = 1); QOperator
  models (QLinearConv, com.microsoft QGemm) too: where shape inference stops at com.microsoft ops, the shapes
  come from one onnxruntime run on zeros;
- a graph folder (``graph.json`` + ``weights.npz`` of sw/graph): its conv2d and dense nodes.

Dilation is folded into the filter extent (the window a dilated filter spans); the MACs of such a layer are
over-counted by the holes, which is stated in the layer's name.
"""

from __future__ import annotations

import math
from pathlib import Path

from .layer import DseError, Layer, load_layers

__all__ = ["network_layers", "onnx_layers", "graph_layers"]


def network_layers(spec, batch=1) -> list:
    """[(Layer, instances)] of ``spec`` (see the module doc)."""
    s = str(spec)
    if s.lower() in ("resnet18", "resnet-18"):
        from sw.data import RESNET18_LAYERS
        from .layer import read_json
        d = read_json(RESNET18_LAYERS)
        layers = load_layers(RESNET18_LAYERS)
        counts = {x.get("name"): int(x.get("instances_in_resnet18", 1)) for x in d["layers"]}
        return [(l.with_batch(batch) if batch != 1 else l, counts.get(l.name, 1)) for l in layers]
    p = Path(s)
    if p.is_dir():
        if (p / "graph.json").exists():
            return _merge(graph_layers(p), batch)
        onnx_files = sorted(p.glob("*.onnx"))
        if len(onnx_files) == 1:
            return _merge(onnx_layers(onnx_files[0]), batch)
        raise DseError(f"{p}: a model folder must hold graph.json (an sw/graph folder) or exactly one .onnx file")
    if not p.exists():
        raise DseError(f"{p}: no such file (give an .onnx file, a graph folder or 'resnet18')")
    if p.suffix.lower() != ".onnx":
        raise DseError(f"{p}: not an .onnx file, a graph folder or 'resnet18'")
    return _merge(onnx_layers(p), batch)


def _merge(items, batch):
    out, index = [], {}
    for layer, n in items:
        if batch != 1:
            layer = Layer(**dict(layer.to_dict(), B=layer.B * batch))
        key = layer.bounds + (layer.stride_y, layer.stride_x)
        if key in index:
            out[index[key]][1] += n
        else:
            index[key] = len(out)
            out.append([layer, n])
    if not out:
        raise DseError("the model has no conv or dense layer")
    return [tuple(x) for x in out]


def _safe(name):
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in str(name)) or "layer"


def _conv_layer(name, x_shape, w_shape, y_shape, strides, dilations, groups, where):
    if len(w_shape) not in (3, 4) or len(x_shape) != len(w_shape):
        raise DseError(f"{where}: node {name!r}: only 1-D and 2-D convolutions are modelled "
                       f"(input {x_shape}, weights {w_shape})")
    if len(w_shape) == 3:           # 1-D: (N, C, L)
        x_shape, w_shape = tuple(x_shape[:2]) + (1, x_shape[2]), (w_shape[0], w_shape[1], 1, w_shape[2])
        y_shape = tuple(y_shape[:2]) + (1, y_shape[2])
        strides, dilations = [1] + list(strides), [1] + list(dilations)
    k, cg, kh, kw = (int(v) for v in w_shape)
    if groups < 1 or k % groups:
        raise DseError(f"{where}: node {name!r}: group {groups} does not divide {k} output channels")
    fy, fx = (kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1
    tag = "" if fy == kh and fx == kw else f"_dilated{dilations[0]}x{dilations[1]}"
    layer = Layer(name=_safe(name) + tag, B=1, K=k // groups, C=cg, Y=int(y_shape[2]), X=int(y_shape[3]),
                  FY=fy, FX=fx, stride_y=int(strides[0]), stride_x=int(strides[1]))
    return layer, groups


def onnx_layers(path) -> list:
    """[(Layer, instances)] of the Conv/QLinearConv/Gemm/MatMul nodes of an ONNX file, batch 1."""
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:                                   # pragma: no cover - onnx is a project dependency
        raise DseError("reading an ONNX model needs the onnx package (pip install onnx)") from None
    where = str(path)
    try:
        model = onnx.load(str(path))
    except Exception as e:                                # noqa: BLE001 - onnx raises several kinds
        raise DseError(f"{where}: not a readable ONNX model: {str(e).splitlines()[0][:200]}") from None
    try:
        model = shape_inference.infer_shapes(model, data_prop=True)
    except Exception:                                     # noqa: BLE001 - keep the shapes the file has
        pass
    g = model.graph
    shapes = {}

    def dims(vi):
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            return None
        return [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]

    for vi in list(g.input) + list(g.value_info) + list(g.output):
        d = dims(vi)
        if d is not None:
            shapes[vi.name] = d
    inits = {t.name: list(t.dims) for t in g.initializer}
    shapes.update(inits)
    producer = {o: n for n in g.node for o in n.output}
    for n in g.node:                                      # Constant nodes: their value's shape
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    shapes[n.output[0]] = list(numpy_helper.to_array(a.t).shape)

    def shape_of(name):
        s = shapes.get(name)
        if s is None and name in producer and producer[name].op_type in (
                "DequantizeLinear", "QuantizeLinear", "Identity", "Cast"):
            s = shape_of(producer[name].input[0])
        return s

    def attr(n, key, default):
        for a in n.attribute:
            if a.name == key:
                return list(a.ints) if a.ints else (a.i if a.type == onnx.AttributeProto.INT else default)
        return default

    def batch1(s):
        return [1] + [v for v in s[1:]]

    def known(s):
        return s is not None and all(v is not None for v in s[1:])

    wanted = [x for n in g.node if n.op_type in _OPS for x in list(n.input[:1]) + list(n.output[:1])
              + ([n.input[3]] if n.op_type in ("QLinearConv", "QLinearMatMul", "QGemm") else [n.input[1]])]
    if any(not known(shape_of(x)) for x in wanted):
        # Shape inference stops at ops it does not know (com.microsoft QLinear* of a QOperator model): run the
        # model once on zeros at batch 1 with those tensors as outputs and read their shapes.
        shapes.update({k: v for k, v in _ort_shapes(model, [x for x in wanted if not known(shape_of(x))]).items()})

    out = []
    for i, n in enumerate(g.node):
        name = n.name or f"{n.op_type}_{i}"
        if n.op_type in ("Conv", "QLinearConv", "ConvInteger"):
            xi, wi = (n.input[0], n.input[3]) if n.op_type == "QLinearConv" else (n.input[0], n.input[1])
            x, w = shape_of(xi), shape_of(wi)
            if x is None or w is None or any(v is None for v in w) or any(v is None for v in x[1:]):
                raise DseError(f"{where}: node {name!r} ({n.op_type}): input or weight shape unknown after shape "
                               f"inference (input {x}, weights {w})")
            x = batch1(x)
            nd = len(w) - 2
            strides = attr(n, "strides", [1] * nd)
            dil = attr(n, "dilations", [1] * nd)
            pads = attr(n, "pads", [0] * (2 * nd))
            groups = attr(n, "group", 1)
            y = shape_of(n.output[0])
            if y is None or any(v is None for v in y[1:]):
                sp = []
                for a in range(nd):
                    ext = (w[2 + a] - 1) * dil[a] + 1
                    if attr(n, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
                        sp.append(-(-x[2 + a] // strides[a]))
                    else:
                        sp.append((x[2 + a] + pads[a] + pads[a + nd] - ext) // strides[a] + 1)
                y = [1, w[0]] + sp
            out.append(_conv_layer(name, x, w, batch1(y), strides, dil, groups, where))
        elif n.op_type in ("Gemm", "QGemm", "MatMul", "MatMulInteger", "QLinearMatMul"):
            ai, bi = (n.input[0], n.input[3]) if n.op_type in ("QLinearMatMul", "QGemm") else (n.input[0], n.input[1])
            a, b = shape_of(ai), shape_of(bi)
            if a is not None and b is not None and len(a) >= 2 and len(b) >= 2 and a[-1] is None:
                a = list(a[:-1]) + [b[-2] if n.op_type != "Gemm" or not attr(n, "transB", 0) else b[1]]
            if a is None or b is None or len(b) < 2 or any(v is None for v in b) or any(v is None for v in a[1:]):
                raise DseError(f"{where}: node {name!r} ({n.op_type}): operand shapes unknown (A {a}, B {b})")
            if n.op_type in ("Gemm", "QGemm"):
                ta, tb = attr(n, "transA", 0), attr(n, "transB", 0)
                m, kin = (a[1], a[0]) if ta else (a[0], a[1])
                kout = b[0] if tb else b[1]
            else:
                kin, kout = b[-2], b[-1]
                lead = [1 if v is None else v for v in a[:-1]]
                if lead:
                    lead[0] = 1                                           # batch 1
                rows = math.prod(lead) if lead else 1
                extra = math.prod(b[:-2]) if len(b) > 2 else 1
                rows *= extra
            out.append((Layer(name=_safe(name), B=1 if n.op_type in ("Gemm", "QGemm") else int(rows), K=int(kout), C=int(kin),
                              Y=1, X=1, FY=1, FX=1), 1))
    if not out:
        raise DseError(f"{where}: no Conv, QLinearConv, Gemm or MatMul node: nothing to model")
    return out


_OPS = ("Conv", "QLinearConv", "ConvInteger", "Gemm", "QGemm", "MatMul", "MatMulInteger", "QLinearMatMul")


def _ort_shapes(model, names) -> dict:
    """Shapes of ``names`` from one onnxruntime run on zeros (symbolic dimensions = 1); {} when that fails."""
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
        from onnx import helper
        m = onnx.ModelProto()
        m.CopyFrom(model)
        have = {o.name for o in m.graph.output}
        for n in names:
            if n not in have:
                m.graph.output.append(helper.make_empty_tensor_value_info(n))
        so = ort.SessionOptions()
        so.log_severity_level = 3
        sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
        inits = {t.name for t in model.graph.initializer}
        feed = {}
        for i in sess.get_inputs():
            if i.name in inits:
                continue
            shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
            dtype = {"tensor(float)": np.float32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8,
                     "tensor(int64)": np.int64, "tensor(int32)": np.int32}.get(i.type, np.float32)
            feed[i.name] = np.zeros(shape, dtype)
        outs = sess.run(list(names), feed)
        return {n: list(o.shape) for n, o in zip(names, outs)}
    except Exception:                                       # noqa: BLE001 - a best effort; the caller names what is unknown
        return {}


def graph_layers(folder) -> list:
    """[(Layer, instances)] of the conv2d and dense nodes of an sw/graph folder."""
    from sw.graph.ir import GraphError
    from sw.graph.serialize import load
    try:
        g = load(folder)
    except GraphError as e:
        raise DseError(str(e)) from None
    out = []
    for n in g.nodes:
        if n.op == "conv2d":
            w = g.constants[n.inputs[1]].shape
            x = g.tensors[n.inputs[0]].shape
            y = g.tensors[n.output].shape
            out.append(_conv_layer(n.name, [1] + list(x[1:]), w, [1] + list(y[1:]), n.attrs.get("strides", [1, 1]),
                                   n.attrs.get("dilations", [1, 1]), int(n.attrs.get("groups", 1)), str(folder)))
        elif n.op == "dense":
            w = g.constants[n.inputs[1]].shape
            out.append((Layer(name=_safe(n.name), B=1, K=int(w[0]), C=int(w[1]), Y=1, X=1, FY=1, FX=1), 1))
    if not out:
        raise DseError(f"{folder}: no conv2d or dense node: nothing to model")
    return out
