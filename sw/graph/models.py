"""Models built here, without downloads or torch: float ONNX graphs made with ``onnx.helper`` and quantised by
onnxruntime's ``quantize_static`` (QDQ and QOperator), cached under ``build/models``.

    build("digits")        -> ModelFiles(float, qdq, qoperator, info)   # small CNN trained on sklearn digits
    build("resnet18")      -> torchvision ResNet-18 shapes, seeded He-init weights with a folded BN-like scale
    build("mobilenetv2")   -> torchvision MobileNet-V2 shapes (ReLU6 = Clip(0, 6)), same init
    build("tiny")          -> a few-layer test graph (depthwise, grouped, AveragePool, Concat, Clip, GAP, Gemm)

Every model is quantised with int8 activations and per-channel int8 weights on synthetic (or, for digits,
training-set) calibration data. The cache folder is ``<name>-<hash>`` where the hash covers this file's source
and the build parameters; folders are written to a temporary name and renamed in, so concurrent builders are safe.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["MODELS", "ModelFiles", "build", "digits_data", "digits_cnn_float", "resnet18_float",
           "mobilenetv2_float", "tiny_float", "quantize", "DEFAULT_DIR", "synthetic_images",
           "center_classifier"]

DEFAULT_DIR = Path("build/models")
OPSET = 13


@dataclass
class ModelFiles:
    name: str
    folder: Path
    float: Path
    qdq: Path
    qoperator: Path
    info: dict


# -- onnx.helper graph builder ---------------------------------------------------------------------------
class _Builder:
    def __init__(self, name, seed):
        from onnx import helper
        self.h = helper
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.k = 0

    def _n(self, p):
        self.k += 1
        return f"{p}{self.k}"

    def init(self, name, arr):
        from onnx import numpy_helper
        self.inits.append(numpy_helper.from_array(np.asarray(arr, np.float32) if np.asarray(arr).dtype.kind == "f"
                                                  else np.asarray(arr), name))
        return name

    def conv(self, x, cin, cout, k, stride=1, pad=None, groups=1, gain=1.0, w=None, b=None):
        name = self._n("conv")
        pad = k // 2 if pad is None else pad
        if w is None:
            fan_in = cin // groups * k * k
            w = self.rng.standard_normal((cout, cin // groups, k, k)) * np.sqrt(2.0 / fan_in)
            # folded BN-like scale and shift: per-channel gain around `gain`, small bias
            w = w * (gain * self.rng.uniform(0.7, 1.3, cout))[:, None, None, None]
            b = self.rng.normal(0.0, 0.05, cout)
        self.init(name + ".w", w)
        self.init(name + ".b", b)
        self.nodes.append(self.h.make_node("Conv", [x, name + ".w", name + ".b"], [name], name=name,
                                           kernel_shape=[k, k], strides=[stride, stride],
                                           pads=[pad, pad, pad, pad], group=groups))
        return name

    def op(self, op, inputs, prefix=None, **attrs):
        name = self._n(prefix or op.lower())
        self.nodes.append(self.h.make_node(op, list(inputs), [name], name=name, **attrs))
        return name

    def relu(self, x):
        return self.op("Relu", [x])

    def relu6(self, x):
        if "c0" not in [i.name for i in self.inits]:
            self.init("c0", np.array(0.0, np.float32))
            self.init("c6", np.array(6.0, np.float32))
        return self.op("Clip", [x, "c0", "c6"], "relu6")

    def gemm(self, x, k, m, w=None, b=None):
        name = self._n("fc")
        if w is None:
            w = self.rng.standard_normal((m, k)) * np.sqrt(1.0 / k)
            b = self.rng.normal(0.0, 0.05, m)
        self.init(name + ".w", w)
        self.init(name + ".b", b)
        self.nodes.append(self.h.make_node("Gemm", [x, name + ".w", name + ".b"], [name], name=name, transB=1))
        return name

    def model(self, x_shape, out, out_shape):
        from onnx import TensorProto, checker
        g = self.h.make_graph(self.nodes, self.name,
                              [self.h.make_tensor_value_info("input", TensorProto.FLOAT, list(x_shape))],
                              [self.h.make_tensor_value_info(out, TensorProto.FLOAT, list(out_shape))],
                              self.inits)
        m = self.h.make_model(g, opset_imports=[self.h.make_opsetid("", OPSET)], producer_name="accelgen")
        m.ir_version = 8
        checker.check_model(m)
        return m


# -- ResNet-18 / MobileNet-V2 (torchvision shapes) -----------------------------------------------------------
def resnet18_float(seed=0, size=224, classes=1000):
    b = _Builder("resnet18", seed)
    x = b.relu(b.conv("input", 3, 64, 7, 2, 3))
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, cout in enumerate((64, 128, 256, 512)):
        for blk in range(2):
            s = 2 if stage > 0 and blk == 0 else 1
            y = b.relu(b.conv(x, cin, cout, 3, s))
            y = b.conv(y, cout, cout, 3, 1, gain=0.5)
            sc = b.conv(x, cin, cout, 1, s, 0, gain=0.7) if (s != 1 or cin != cout) else x
            x = b.relu(b.op("Add", [y, sc]))
            cin = cout
    x = b.op("GlobalAveragePool", [x], "gap")
    x = b.op("Flatten", [x], axis=1)
    x = b.gemm(x, 512, classes)
    return b.model((1, 3, size, size), x, (1, classes))


def mobilenetv2_float(seed=0, size=224, classes=1000):
    b = _Builder("mobilenetv2", seed)
    x = b.relu6(b.conv("input", 3, 32, 3, 2))
    cin = 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            hid = cin * t
            y = x
            if t != 1:
                y = b.relu6(b.conv(y, cin, hid, 1))
            y = b.relu6(b.conv(y, hid, hid, 3, stride, groups=hid))
            y = b.conv(y, hid, c, 1, gain=0.5)
            x = b.op("Add", [x, y]) if stride == 1 and cin == c else y
            cin = c
    x = b.relu6(b.conv(x, cin, 1280, 1))
    x = b.op("GlobalAveragePool", [x], "gap")
    x = b.op("Flatten", [x], axis=1)
    x = b.gemm(x, 1280, classes)
    return b.model((1, 3, size, size), x, (1, classes))


def tiny_float(seed=0):
    """A small graph exercising the less common ops: grouped and depthwise Conv, AveragePool with padding,
    Clip, Concat, Add, GlobalAveragePool, Gemm."""
    b = _Builder("tiny", seed)
    x = b.relu(b.conv("input", 3, 8, 3, 1))
    d = b.relu6(b.conv(x, 8, 8, 3, 2, groups=8))
    gconv = b.conv(x, 8, 8, 3, 2, groups=2)
    x = b.op("Add", [d, gconv])
    a = b.op("AveragePool", [x], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=1)
    m = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[1, 1], pads=[0, 0, 1, 1])
    x = b.op("Concat", [a, m], axis=1)
    x = b.relu(b.conv(x, 16, 12, 1))
    x = b.op("GlobalAveragePool", [x], "gap")
    x = b.op("Flatten", [x], axis=1)
    x = b.gemm(x, 12, 5)
    return b.model((1, 3, 12, 12), x, (1, 5))


# -- digits CNN trained in numpy -----------------------------------------------------------------------------
def digits_data(test=360):
    """``(x_train, y_train, x_test, y_test)``: sklearn digits as (N, 1, 8, 8) float32 in [0, 1]; the last
    ``test`` images are the test set."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target.astype(np.int64)
    return x[:-test], y[:-test], x[-test:], y[-test:]


def _im2col3(x):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.stack([xp[:, :, i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=2)  # n c 9 h w
    return cols.transpose(0, 3, 4, 1, 2).reshape(n * h * w, c * 9)


def _col2im3(dcols, shape):
    n, c, h, w = shape
    d = dcols.reshape(n, h, w, c, 9).transpose(0, 3, 4, 1, 2)
    dxp = np.zeros((n, c, h + 2, w + 2), dcols.dtype)
    for k in range(9):
        i, j = divmod(k, 3)
        dxp[:, :, i:i + h, j:j + w] += d[:, :, k]
    return dxp[:, :, 1:-1, 1:-1]


def _conv_f(x, w, b):
    n, _, h, wd = x.shape
    cols = _im2col3(x)
    out = cols @ w.reshape(w.shape[0], -1).T + b
    return out.reshape(n, h, wd, -1).transpose(0, 3, 1, 2), cols


def _conv_b(dout, cols, w, xshape):
    m = w.shape[0]
    d = dout.transpose(0, 2, 3, 1).reshape(-1, m)
    dw = (d.T @ cols).reshape(w.shape)
    return dw, d.sum(0), _col2im3(d @ w.reshape(m, -1), xshape)


def _forward(p, x):
    c1, cols1 = _conv_f(x, p["w1"], p["b1"])
    r1 = np.maximum(c1, 0)
    n, c, h, w = r1.shape
    blocks = r1.reshape(n, c, h // 2, 2, w // 2, 2)
    p1 = blocks.max(axis=(3, 5))
    c2, cols2 = _conv_f(p1, p["w2"], p["b2"])
    r2 = np.maximum(c2, 0)
    s = r2 + p1
    f = s.reshape(n, -1)
    logits = f @ p["w3"].T + p["b3"]
    return logits, (x, cols1, c1, r1, blocks, p1, cols2, c2, f)


def _backward(p, cache, dlogits):
    x, cols1, c1, r1, blocks, p1, cols2, c2, f = cache
    g = {"w3": dlogits.T @ f, "b3": dlogits.sum(0)}
    ds = (dlogits @ p["w3"]).reshape(p1.shape)
    dc2 = ds * (c2 > 0)
    g["w2"], g["b2"], dp1 = _conv_b(dc2, cols2, p["w2"], p1.shape)
    dp1 = dp1 + ds
    mask = blocks == p1[:, :, :, None, :, None]
    mask = mask / mask.sum(axis=(3, 5), keepdims=True)
    dr1 = (mask * dp1[:, :, :, None, :, None]).reshape(r1.shape)
    dc1 = dr1 * (c1 > 0)
    g["w1"], g["b1"], _ = _conv_b(dc1, cols1, p["w1"], x.shape)
    return g


def train_digits(seed=0, iters=600, batch=32, lr=1e-2, ch=16):
    """Train the digits CNN with Adam in numpy (single-threaded BLAS: deterministic, and fast on a loaded
    machine); return (params, float test accuracy)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        return _train_digits(seed, iters, batch, lr, ch)


def _train_digits(seed, iters, batch, lr, ch):
    xtr, ytr, xte, yte = digits_data()
    rng = np.random.default_rng(seed)
    p = {"w1": rng.standard_normal((ch, 1, 3, 3)) * np.sqrt(2 / 9), "b1": np.zeros(ch),
         "w2": rng.standard_normal((ch, ch, 3, 3)) * np.sqrt(2 / (9 * ch)) * 0.5, "b2": np.zeros(ch),
         "w3": rng.standard_normal((10, ch * 16)) * np.sqrt(1 / (ch * 16)), "b3": np.zeros(10)}
    p = {k: v.astype(np.float64) for k, v in p.items()}
    mom = {k: np.zeros_like(v) for k, v in p.items()}
    vel = {k: np.zeros_like(v) for k, v in p.items()}
    for it in range(1, iters + 1):
        idx = rng.choice(len(xtr), batch, replace=False)
        logits, cache = _forward(p, xtr[idx].astype(np.float64))
        e = np.exp(logits - logits.max(1, keepdims=True))
        prob = e / e.sum(1, keepdims=True)
        prob[np.arange(batch), ytr[idx]] -= 1
        grads = _backward(p, cache, prob / batch)
        for k in p:
            mom[k] = 0.9 * mom[k] + 0.1 * grads[k]
            vel[k] = 0.999 * vel[k] + 0.001 * grads[k] ** 2
            p[k] -= lr * (mom[k] / (1 - 0.9 ** it)) / (np.sqrt(vel[k] / (1 - 0.999 ** it)) + 1e-8)
    acc = float((_forward(p, xte.astype(np.float64))[0].argmax(1) == yte).mean())
    return p, acc


def digits_cnn_float(params):
    """The trained digits CNN as a float ONNX model (input (1, 1, 8, 8), output logits (1, 10))."""
    b = _Builder("digits_cnn", 0)
    ch = params["w1"].shape[0]
    x = b.relu(b.conv("input", 1, ch, 3, w=params["w1"], b=params["b1"]))
    p1 = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.relu(b.conv(p1, ch, ch, 3, w=params["w2"], b=params["b2"]))
    x = b.op("Add", [x, p1])
    x = b.op("Flatten", [x], axis=1)
    x = b.gemm(x, ch * 16, 10, w=params["w3"], b=params["b3"])
    return b.model((1, 1, 8, 8), x, (1, 10))


def synthetic_images(rng, n, size=224, cells=7):
    """``n`` synthetic (3, size, size) float32 images: smooth N(0, 1) fields (a ``cells`` x ``cells`` grid,
    bilinearly upsampled) plus 0.1 white noise. White noise alone averages out in the global pooling, so every
    input would give almost the same features (and the same class)."""
    g = rng.standard_normal((n, 3, cells + 1, cells + 1))
    t = np.linspace(0, cells, size)
    i0 = np.minimum(t.astype(int), cells - 1)
    f = (t - i0)[:, None]
    rows = g[:, :, i0, :] * (1 - f)[None, None] + g[:, :, i0 + 1, :] * f[None, None]      # (n, 3, size, cells+1)
    img = rows[..., i0] * (1 - f.T)[None, None] + rows[..., i0 + 1] * f.T[None, None]
    return (img + 0.1 * rng.standard_normal(img.shape)).astype(np.float32)


def center_classifier(model, xs):
    """Set the final Gemm's bias to ``-W @ mean(features)`` over inputs ``xs`` (float onnxruntime), so that the
    logits depend on the input rather than on the features' common mode: random-weight networks otherwise
    predict the same class for every input, and class agreement would be vacuous."""
    import onnx
    from onnx import numpy_helper
    gemm = [n for n in model.graph.node if n.op_type == "Gemm"][-1]
    m = onnx.ModelProto()
    m.CopyFrom(model)
    m.graph.output.append(onnx.helper.make_tensor_value_info(gemm.input[0], onnx.TensorProto.FLOAT, None))
    from .agreement import ort_session
    s = ort_session(m.SerializeToString(), precise=False)
    feats = np.concatenate([s.run([gemm.input[0]], {"input": x[None]})[0] for x in xs])
    inits = {i.name: i for i in model.graph.initializer}
    w = numpy_helper.to_array(inits[gemm.input[1]]).astype(np.float64)
    bias = -(w @ feats.mean(0).astype(np.float64))
    inits[gemm.input[2]].CopyFrom(numpy_helper.from_array(bias.astype(np.float32), gemm.input[2]))
    return model


# -- quantisation --------------------------------------------------------------------------------------------
def quantize(float_path, out_path, calib, fmt="qdq", per_channel=True, activation="int8"):
    """``quantize_static`` with int8 weights (per-channel by default) and int8/uint8 activations."""
    import logging
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"input": c[None].astype(np.float32)} for c in calib])

        def get_next(self):
            return next(self.it, None)

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer's advice to pre-process / prefer QDQ goes to the root logger
    try:
        quantize_static(str(float_path), str(out_path), Reader(),
                        quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
                        activation_type=QuantType.QInt8 if activation == "int8" else QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=per_channel)
    finally:
        root.setLevel(level)


MODELS = {
    "digits": {"why": "small CNN trained on sklearn digits (real accuracy to preserve)", "calib": 200},
    "resnet18": {"why": "torchvision ResNet-18 shapes, seeded weights, 224x224", "calib": 4},
    "mobilenetv2": {"why": "torchvision MobileNet-V2 shapes (depthwise, ReLU6), seeded weights", "calib": 4},
    "tiny": {"why": "few-layer graph with grouped/depthwise conv, pools, concat, clip", "calib": 16},
}


def _key(name, params):
    src = inspect.getsource(sys.modules[__name__])
    return hashlib.sha256((src + json.dumps([name, params], sort_keys=True)).encode()).hexdigest()[:12]


def build(name, out=DEFAULT_DIR, log=None, **params) -> ModelFiles:
    """Build (or reuse from the cache) model ``name``: float, QDQ and QOperator ONNX files + info.json."""
    import onnx
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; built-in models: {', '.join(MODELS)}")
    log = log or (lambda s: None)
    out = Path(out)
    folder = out / f"{name}-{_key(name, params)}"
    if (folder / "info.json").is_file():
        info = json.loads((folder / "info.json").read_text())
        log(f"{name}: cached in {folder}")
        return ModelFiles(name, folder, folder / "float.onnx", folder / "qdq.onnx", folder / "qoperator.onnx", info)
    t0 = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp", dir=out))
    try:
        info = {"name": name, "why": MODELS[name]["why"], "params": params}
        seed = params.get("seed", 0)
        rng = np.random.default_rng(seed + 1)
        if name == "digits":
            log(f"{name}: training the CNN in numpy (Adam, seeded) ...")
            p, acc = train_digits(seed=seed)
            info["float_accuracy"] = acc
            info["train_s"] = round(time.monotonic() - t0, 1)
            model = digits_cnn_float(p)
            calib = digits_data()[0][:MODELS[name]["calib"]]
            log(f"{name}: float test accuracy {acc:.4f} after {info['train_s']} s")
        elif name == "tiny":
            model = tiny_float(seed)
            calib = rng.standard_normal((MODELS[name]["calib"], 3, 12, 12)).astype(np.float32)
        else:
            log(f"{name}: building the float graph with onnx.helper ...")
            model = (resnet18_float if name == "resnet18" else mobilenetv2_float)(seed)
            calib = synthetic_images(rng, MODELS[name]["calib"])
            log(f"{name}: centring the classifier on 16 synthetic inputs (else one class always wins) ...")
            model = center_classifier(model, synthetic_images(rng, 16))
        onnx.save(model, tmp / "float.onnx")
        for fmt, fname in (("qdq", "qdq.onnx"), ("qoperator", "qoperator.onnx")):
            t1 = time.monotonic()
            log(f"{name}: onnxruntime quantize_static ({fmt}, int8 activations, per-channel int8 weights) ...")
            quantize(tmp / "float.onnx", tmp / fname, calib, fmt)
            log(f"{name}: {fmt} done in {time.monotonic() - t1:.1f} s")
        if name == "digits":
            info.update(digits_accuracies(tmp))
        info["build_s"] = round(time.monotonic() - t0, 1)
        (tmp / "info.json").write_text(json.dumps(info, indent=1) + "\n")
        try:
            tmp.rename(folder)
        except OSError:  # another builder won the race
            pass
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    info = json.loads((folder / "info.json").read_text())
    log(f"{name}: built in {time.monotonic() - t0:.1f} s -> {folder}")
    return ModelFiles(name, folder, folder / "float.onnx", folder / "qdq.onnx", folder / "qoperator.onnx", info)


def digits_accuracies(folder) -> dict:
    """Test accuracy of the float, QDQ and QOperator digits models under onnxruntime, with its exact integer
    kernels and (``*_default``) with its default x64 kernels (see :data:`sw.graph.agreement.PRECISE`)."""
    from .agreement import ort_session
    _, _, xte, yte = digits_data()
    res = {}
    for key, f in (("float_ort_accuracy", "float.onnx"), ("qdq_ort_accuracy", "qdq.onnx"),
                   ("qoperator_ort_accuracy", "qoperator.onnx")):
        for suffix, precise in (("", True), ("_default", False)):
            if f == "float.onnx" and not precise:
                continue
            s = ort_session(Path(folder) / f, precise)
            pred = np.array([s.run(None, {"input": x[None]})[0].argmax() for x in xte])
            res[key.replace("_accuracy", suffix + "_accuracy") if suffix else key] = float((pred == yte).mean())
        if f != "float.onnx":  # the integer graph reference of the same model
            from .agreement import predict
            from .onnx_import import import_onnx
            g = import_onnx(Path(folder) / f)
            pred = np.array([predict(g, x[None]) for x in xte])
            res[key.replace("_ort_", "_graph_")] = float((pred == yte).mean())
    return res
