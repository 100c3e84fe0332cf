"""Networks for the VTA compiler: a JSON list of int8 layers, seeded parameters and a numpy reference.

A network file looks like::

    {"name": "tiny", "seed": 1,
     "input": {"channels": 64, "height": 8, "width": 8},
     "layers": [
       {"name": "conv1", "type": "conv2d", "out_channels": 64, "kernel": 3, "stride": 1, "pad": 1,
        "shift": 9, "relu": true},
       {"name": "conv2", "type": "conv2d", "out_channels": 64, "kernel": 3, "pad": 1, "shift": 9,
        "relu": true, "residual": "input"},
       {"name": "pool", "type": "avgpool", "kernel": 8, "stride": 8, "shift": 6},
       {"name": "fc", "type": "dense", "out_features": 10, "shift": 7}]}

Each layer reads the previous layer's output unless ``"input": "<layer name>"`` says otherwise; shapes
are inferred. Layer semantics (all int8 tensors, int32 accumulation that wraps like the hardware):

``conv2d`` (``groups`` optional; ``depthwise`` = groups equal to channels) and ``dense``
    ``y = clip((sum x*w + bias + residual_scale * residual) >> shift, 0 if relu else -128, 127)``. ``bias`` is
    int32 (upstream VTA's ``(conv >> 8) + b`` is ``bias = b << 8``); ``residual_scale`` defaults to ``1 << shift``
    (the residual added after the shift); the compiler adds it on the GEMM when it fits an int8 weight.
``maxpool``
    window maximum, padding = -128.
``avgpool``
    ``clip(window sum >> shift, -128, 127)`` (padding 0).
``add``
    ``clip(a + b, 0 if relu else -128, 127)``.

Parameters (weights in [-wmax, wmax], bias) come from ``numpy.random.default_rng([seed, layer index])`` unless a
layer gives ``"params": "file.npz"`` (arrays ``w`` of shape (O, I/groups, K, K) and ``b`` of shape (O,)).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

__all__ = ["Layer", "Network", "NetworkError", "load_network", "reference", "LAYER_TYPES", "resnet18_network",
           "mobilenet_group_layers", "to_graph"]

LAYER_TYPES = ("conv2d", "dense", "maxpool", "avgpool", "add")
_MASK32 = (1 << 32) - 1


class NetworkError(ValueError):
    """A network description that cannot be used; the message names the layer and the field."""


@dataclasses.dataclass
class Layer:
    """One layer with its inferred shapes (``in_shape``/``out_shape`` are (C, H, W)).

    Attributes
    ----------
    name, type : str
    inputs : list of str
        Producer names (``"input"`` is the network input); two for ``add``, else one.
    in_shape, out_shape : tuple of int
    kernel, stride, pad, groups : int
    shift : int
        Requantisation shift (conv2d, dense, avgpool).
    relu : bool
    residual : str or None
        conv2d/dense: a tensor of the output's shape, times ``residual_scale``, added before the shift.
    residual_scale : int
    w, b : numpy.ndarray or None
        int8 weights (O, I/groups, K, K) and int32 bias (O,).
    """

    name: str
    type: str
    inputs: list
    in_shape: tuple
    out_shape: tuple
    kernel: int = 1
    stride: int = 1
    pad: int = 0
    groups: int = 1
    shift: int = 0
    relu: bool = False
    residual: str | None = None
    residual_scale: int = 0
    w: np.ndarray | None = dataclasses.field(default=None, repr=False)
    b: np.ndarray | None = dataclasses.field(default=None, repr=False)
    # Integer-graph lowering (sw/vta/lower.py): the graph's per-channel requantisation instead of ``shift``/``relu``
    # (a :class:`sw.vta.compile.GraphRequant`), LOAD padding with the minimum (-128, the zero point of the input
    # in the int8 domain) instead of 0, and the exact graph ``add`` (a :class:`sw.vta.compile.GraphAdd`).
    rq: object = dataclasses.field(default=None, repr=False)
    pad_min: bool = False
    add: object = dataclasses.field(default=None, repr=False)
    identity: bool = False    # grouped conv whose every weight block is the identity (pools): one block, reused

    @property
    def macs(self) -> int:
        if self.type not in ("conv2d", "dense"):
            return 0
        o, oh, ow = self.out_shape
        return o * oh * ow * (self.in_shape[0] // self.groups) * self.kernel * self.kernel

    def to_dict(self) -> dict:
        d = {"name": self.name, "type": self.type, "input": self.inputs if self.type == "add" else self.inputs[0]}
        if self.type in ("conv2d", "dense"):
            key = "out_features" if self.type == "dense" else "out_channels"
            d[key] = self.out_shape[0]
        if self.type in ("conv2d", "maxpool", "avgpool"):
            d.update(kernel=self.kernel, stride=self.stride, pad=self.pad)
        if self.type == "conv2d" and self.groups != 1:
            d["groups"] = self.groups
        if self.type in ("conv2d", "dense", "avgpool"):
            d["shift"] = self.shift
        if self.type in ("conv2d", "dense", "add"):
            d["relu"] = self.relu
        if self.residual:
            d["residual"] = self.residual
            d["residual_scale"] = self.residual_scale
        return d


@dataclasses.dataclass
class Network:
    """A loaded network: ``input_shape`` (C, H, W), ``layers`` in execution order, ``seed``."""

    name: str
    input_shape: tuple
    layers: list
    seed: int = 0

    def layer(self, name) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def to_dict(self) -> dict:
        c, h, w = self.input_shape
        return {"name": self.name, "seed": self.seed, "input": {"channels": c, "height": h, "width": w},
                "layers": [layer.to_dict() for layer in self.layers]}

    def random_input(self) -> np.ndarray:
        """The int8 network input drawn from the seed (C, H, W)."""
        return np.random.default_rng([self.seed, 1 << 20]).integers(-128, 128, self.input_shape).astype(np.int8)


_ALLOWED = {
    "conv2d": {"out_channels", "kernel", "stride", "pad", "groups", "shift", "relu", "residual", "residual_scale",
               "params", "wmax"},
    "dense": {"out_features", "shift", "relu", "residual", "residual_scale", "params", "wmax"},
    "maxpool": {"kernel", "stride", "pad"},
    "avgpool": {"kernel", "stride", "pad", "shift"},
    "add": {"relu"},
}


def _int(d, key, where, default=None, lo=0, hi=1 << 16):
    v = d.get(key, default)
    if v is None:
        raise NetworkError(f"{where}: missing {key!r}")
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise NetworkError(f"{where}: {key} must be an integer in {lo}..{hi}, not {v!r}")
    return v


def _out_hw(h, w, k, s, p, where):
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    if oh < 1 or ow < 1:
        raise NetworkError(f"{where}: kernel {k}, stride {s}, pad {p} leave no output for a {h}x{w} input")
    return oh, ow


def _params(layer: Layer, rng, d, base: Path, where):
    o = layer.out_shape[0]
    i = layer.in_shape[0] // layer.groups
    k = layer.kernel
    if "params" in d:
        path = base / d["params"]
        try:
            z = np.load(path)
            w, b = np.asarray(z["w"]), np.asarray(z["b"])
        except (OSError, KeyError, ValueError) as e:
            raise NetworkError(f"{where}: params {path}: {e}") from None
        if w.shape != (o, i, k, k) or b.shape != (o,):
            raise NetworkError(f"{where}: params w must be {(o, i, k, k)} and b ({o},), not {w.shape} and {b.shape}")
        if w.min() < -128 or w.max() > 127:
            raise NetworkError(f"{where}: params w must be int8 values")
        return w.astype(np.int8), b.astype(np.int64).astype(np.int32)
    wmax = _int(d, "wmax", where, default=127, lo=1, hi=127)
    w = rng.integers(-wmax, wmax + 1, (o, i, k, k)).astype(np.int8)
    b = rng.integers(-(1 << max(layer.shift + 4, 8)), 1 << max(layer.shift + 4, 8), o).astype(np.int32)
    return w, b


def load_network(source, base=None) -> Network:
    """Load a network from a JSON file path or a dict; shapes are inferred and parameters drawn.

    Raises
    ------
    NetworkError
        Naming the layer and the field (unknown type or key, bad value, shape mismatch, unknown input).
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            d = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise NetworkError(f"{path}: {e}") from None
        base = path.parent if base is None else Path(base)
    else:
        d = source
        base = Path(base or ".")
    if not isinstance(d, dict) or not isinstance(d.get("layers"), list) or not isinstance(d.get("input"), dict):
        raise NetworkError("a network must be an object with 'input' {channels, height, width} and a 'layers' list")
    unknown = set(d) - {"name", "seed", "input", "layers", "description"}
    if unknown:
        raise NetworkError(f"unknown network key(s) {sorted(unknown)}; allowed: name, seed, input, layers, description")
    inp = d["input"]
    shape_in = tuple(_int(inp, k, "input", lo=1) for k in ("channels", "height", "width"))
    seed = _int(d, "seed", "network", default=0, hi=1 << 31)
    shapes = {"input": shape_in}
    layers = []
    prev = "input"
    for n, ld in enumerate(d["layers"]):
        if not isinstance(ld, dict):
            raise NetworkError(f"layer {n}: must be an object, not {ld!r}")
        name = ld.get("name", f"layer{n}")
        where = f"layer {name!r}"
        typ = ld.get("type")
        if typ not in LAYER_TYPES:
            raise NetworkError(f"{where}: type must be one of {', '.join(LAYER_TYPES)}, not {typ!r}")
        bad = set(ld) - _ALLOWED[typ] - {"name", "type", "input"}
        if bad:
            raise NetworkError(f"{where}: unknown key(s) {sorted(bad)} for {typ}; allowed: "
                               + ", ".join(sorted(_ALLOWED[typ] | {"name", "input"})))
        if name in shapes:
            raise NetworkError(f"{where}: duplicate layer name")
        inputs = ld.get("input", prev)
        inputs = list(inputs) if isinstance(inputs, list) else [inputs]
        if len(inputs) != (2 if typ == "add" else 1):
            raise NetworkError(f"{where}: {typ} takes {2 if typ == 'add' else 1} input(s), not {inputs!r}")
        for i in inputs:
            if i not in shapes:
                raise NetworkError(f"{where}: input {i!r} is not an earlier layer (or 'input')")
        c, h, w = shapes[inputs[0]]
        L = Layer(name, typ, inputs, (c, h, w), (c, h, w))
        if typ == "conv2d":
            L.kernel = _int(ld, "kernel", where, lo=1, hi=15)
            L.stride = _int(ld, "stride", where, default=1, lo=1, hi=15)
            L.pad = _int(ld, "pad", where, default=0, hi=15)
            L.groups = _int(ld, "groups", where, default=1, lo=1)
            oc = _int(ld, "out_channels", where, lo=1)
            if c % L.groups or oc % L.groups:
                raise NetworkError(f"{where}: groups={L.groups} must divide in_channels {c} and out_channels {oc}")
            L.out_shape = (oc,) + _out_hw(h, w, L.kernel, L.stride, L.pad, where)
        elif typ == "dense":
            oc = _int(ld, "out_features", where, lo=1)
            L.in_shape = (c * h * w, 1, 1)
            L.out_shape = (oc, 1, 1)
            if h * w != 1:
                raise NetworkError(f"{where}: dense needs a 1x1 input (flatten with a global pool first), "
                                   f"not {h}x{w}")
        elif typ in ("maxpool", "avgpool"):
            L.kernel = _int(ld, "kernel", where, lo=1, hi=64)
            L.stride = _int(ld, "stride", where, default=L.kernel, lo=1, hi=64)
            L.pad = _int(ld, "pad", where, default=0, hi=15)
            L.out_shape = (c,) + _out_hw(h, w, L.kernel, L.stride, L.pad, where)
        else:
            if shapes[inputs[1]] != (c, h, w):
                raise NetworkError(f"{where}: add inputs have shapes {(c, h, w)} and {shapes[inputs[1]]}")
        if typ in ("conv2d", "dense", "avgpool"):
            L.shift = _int(ld, "shift", where, default=0, hi=31)
        L.relu = bool(ld.get("relu", False))
        if "residual" in ld:
            if ld["residual"] not in shapes or shapes[ld["residual"]] != L.out_shape:
                raise NetworkError(f"{where}: residual {ld['residual']!r} must be an earlier tensor of shape "
                                   f"{L.out_shape}")
            L.residual = ld["residual"]
            L.residual_scale = _int(ld, "residual_scale", where, default=1 << L.shift, lo=-(1 << 31), hi=(1 << 31) - 1)
        if typ in ("conv2d", "dense"):
            L.w, L.b = _params(L, np.random.default_rng([seed, n]), ld, base, where)
        shapes[name] = L.out_shape
        layers.append(L)
        prev = name
    return Network(d.get("name", "network"), shape_in, layers, seed)


def _wrap32(a):
    a = np.asarray(a, dtype=np.int64) & _MASK32
    return np.where(a >= 1 << 31, a - (1 << 32), a)


def conv_acc(layer: Layer, x: np.ndarray) -> np.ndarray:
    """int64 accumulators (O, OH, OW) of conv2d/dense before bias, residual and shift (not wrapped)."""
    x = x.reshape(layer.in_shape).astype(np.int64)
    k, s, p, g = layer.kernel, layer.stride, layer.pad, layer.groups
    c, h, w = layer.in_shape
    o, oh, ow = layer.out_shape
    xp = np.zeros((c, h + 2 * p, w + 2 * p), np.int64)
    xp[:, p:p + h, p:p + w] = x
    wt = layer.w.astype(np.int64)
    cig, cog = c // g, o // g
    acc = np.zeros((o, oh, ow), np.int64)
    for gi in range(g):
        xs = xp[gi * cig:(gi + 1) * cig]
        for kh in range(k):
            for kw in range(k):
                patch = xs[:, kh:kh + (oh - 1) * s + 1:s, kw:kw + (ow - 1) * s + 1:s]   # (cig, oh, ow)
                acc[gi * cog:(gi + 1) * cog] += np.einsum("oi,ihw->ohw", wt[gi * cog:(gi + 1) * cog, :, kh, kw], patch)
    return acc


def _clip8(a, relu):
    return np.clip(a, 0 if relu else -128, 127).astype(np.int8)


def reference(layer: Layer, tensors: dict) -> np.ndarray:
    """The int8 output (C, H, W) of ``layer`` given ``tensors`` (name -> int8 array, incl. ``"input"``)."""
    x = tensors[layer.inputs[0]]
    if layer.type in ("conv2d", "dense"):
        acc = conv_acc(layer, x) + layer.b.astype(np.int64)[:, None, None]
        if layer.residual:
            acc = acc + tensors[layer.residual].astype(np.int64).reshape(layer.out_shape) * layer.residual_scale
        return _clip8(_wrap32(acc) >> layer.shift, layer.relu)
    if layer.type == "add":
        return _clip8(x.astype(np.int64) + tensors[layer.inputs[1]].astype(np.int64), layer.relu)
    c, h, w = layer.in_shape
    _, oh, ow = layer.out_shape
    k, s, p = layer.kernel, layer.stride, layer.pad
    fill = -128 if layer.type == "maxpool" else 0
    xp = np.full((c, h + 2 * p, w + 2 * p), fill, np.int64)
    xp[:, p:p + h, p:p + w] = x
    wins = [xp[:, kh:kh + (oh - 1) * s + 1:s, kw:kw + (ow - 1) * s + 1:s] for kh in range(k) for kw in range(k)]
    if layer.type == "maxpool":
        return np.max(wins, axis=0).astype(np.int8)
    return _clip8(np.sum(wins, axis=0) >> layer.shift, False)


def run_reference(net: Network, x=None) -> dict:
    """Every tensor of ``net`` (name -> int8 array), starting from ``x`` (default: the seeded input)."""
    tensors = {"input": net.random_input() if x is None else np.asarray(x, np.int8)}
    for layer in net.layers:
        tensors[layer.name] = reference(layer, tensors)
    return tensors


def resnet18_network(seed: int = 0) -> dict:
    """ResNet-18 after its first convolution, as a network dict: max pooling, the 16 convolutions of the
    four stages with their residual additions (C2..C11 of the VTA benchmark, every instance), global average
    pooling and the 1000-way dense layer. The input is C1's output (64 x 112 x 112)."""
    layers = [{"name": "pool1", "type": "maxpool", "kernel": 3, "stride": 2, "pad": 1}]
    cin, prev = 64, "pool1"
    # 4-bit weights (as HAWQ-V3's low-precision ResNet-18 layers); shifts keep activations in range, and the
    # residual enters with an int8 scale (64, i.e. r / 2^(shift - 6)) so that the GEMM adds it.
    shift3, wmax = 10, 7
    for stage, cout in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if (stage > 1 and block == 0) else 1
            base = f"s{stage}b{block}"
            layers.append({"name": f"{base}_conv1", "type": "conv2d", "input": prev, "out_channels": cout,
                           "kernel": 3, "stride": stride, "pad": 1, "shift": shift3 + (cin > 64) + (cin > 256),
                           "relu": True, "wmax": wmax})
            shortcut = prev
            if stride != 1 or cin != cout:
                shortcut = f"{base}_down"
                layers.append({"name": shortcut, "type": "conv2d", "input": prev, "out_channels": cout, "kernel": 1,
                               "stride": stride, "pad": 0, "shift": 8, "relu": False, "wmax": wmax})
            layers.append({"name": f"{base}_conv2", "type": "conv2d", "input": f"{base}_conv1", "out_channels": cout,
                           "kernel": 3, "stride": 1, "pad": 1, "shift": shift3 + (cout > 64) + (cout > 256),
                           "relu": True, "residual": shortcut, "residual_scale": 64, "wmax": wmax})
            prev, cin = f"{base}_conv2", cout
    layers.append({"name": "avgpool", "type": "avgpool", "input": prev, "kernel": 7, "stride": 7, "shift": 6})
    layers.append({"name": "fc", "type": "dense", "out_features": 1000, "shift": 7, "relu": False, "wmax": wmax})
    return {"name": "resnet18", "seed": seed, "input": {"channels": 64, "height": 112, "width": 112},
            "layers": layers}


def mobilenet_group_layers(path, seed: int = 0) -> list:
    """The MobileNet grouped 3x3 convolutions D1..D9 (``mobilenet_group_layers.json``) as one-layer network dicts."""
    rows = json.loads(Path(path).read_text())["layers"]
    nets = []
    for r in rows:
        nets.append({"name": r["name"], "seed": seed,
                     "input": {"channels": r["channels"], "height": r["height"], "width": r["width"]},
                     "layers": [{"name": r["name"], "type": "conv2d", "out_channels": r["channels"],
                                 "kernel": r["kernel"], "stride": r["stride"], "pad": r["pad"],
                                 "groups": r["groups"], "shift": 10, "relu": True, "wmax": 63}]})
    return nets


def to_graph(net: Network):
    """The network as an integer graph (:mod:`sw.graph.ir`): the JSON description becomes a front end of the one
    graph every engine lowers. Every tensor is int8 with zero point 0 and scale 1; the ``>> shift`` (floor) of a
    layer is the graph's round-half-up requantisation with multiplier ``2**30``, shift ``shift + 30`` and the bias
    lowered by ``2**(shift-1)`` (``floor(v / 2**k) = rshift_round(v - 2**(k-1), k)``), so graph and
    :func:`reference` agree bit for bit (as long as no int32 accumulator wraps, which the graph refuses).
    Average pooling is a depthwise convolution with weight 1; ``add`` is the graph add with multipliers
    ``[2**30, 2**30]`` and shift 30. Residual convolutions have no graph form: NetworkError names the layer.
    """
    from sw.graph.ir import Graph
    g = Graph(net.name, meta={"source": "vta network json"})
    c, h, w = net.input_shape
    g.add_tensor("input", (1, c, h, w), "int8", 1.0, 0)
    g.inputs = ["input"]

    def requant(name, src, shape, shift, relu):
        g.add_tensor(name, shape, "int8", 1.0, 0)
        g.add_node(name + ":rq", "requantize", [src], name, multiplier=1 << 30, shift=shift + 30,
                   qmin=0 if relu else -128, qmax=127)

    for L in net.layers:
        where = f"layer {L.name!r}"
        if L.residual:
            raise NetworkError(f"{where}: a residual added before the shift has no integer-graph form; use an "
                               "'add' layer")
        x = L.inputs[0]
        co, oh, ow = L.out_shape
        if L.type in ("conv2d", "avgpool"):
            if L.type == "conv2d":
                wt, b, groups, relu = L.w, L.b.astype(np.int64), L.groups, L.relu
            else:
                wt = np.ones((co, 1, L.kernel, L.kernel), np.int8)
                b, groups, relu = np.zeros(co, np.int64), co, False
            if L.shift:
                b = b - (1 << (L.shift - 1))
            wn, bn = g.add_constant(L.name + ".w", wt.astype(np.int8)), g.add_constant(L.name + ".b", b.astype(np.int32))
            g.add_tensor(L.name + ":acc", (1, co, oh, ow), "int32", 1.0)
            p = L.pad
            g.add_node(L.name, "conv2d", [x, wn, bn], L.name + ":acc", strides=[L.stride, L.stride],
                       pads=[p, p, p, p], dilations=[1, 1], groups=groups)
            requant(L.name, L.name + ":acc", (1, co, oh, ow), L.shift, relu)
        elif L.type == "dense":
            k = L.in_shape[0]
            g.add_tensor(L.name + ":flat", (1, k), "int8", 1.0, 0)
            g.add_node(L.name + ":flatten", "reshape", [x], L.name + ":flat")
            b = L.b.astype(np.int64) - ((1 << (L.shift - 1)) if L.shift else 0)
            wn = g.add_constant(L.name + ".w", L.w.reshape(co, k).astype(np.int8))
            bn = g.add_constant(L.name + ".b", b.astype(np.int32))
            g.add_tensor(L.name + ":acc", (1, co), "int32", 1.0)
            g.add_node(L.name, "dense", [L.name + ":flat", wn, bn], L.name + ":acc")
            last = L is net.layers[-1]
            requant(L.name if last else L.name + ":2d", L.name + ":acc", (1, co), L.shift, L.relu)
            if not last:
                g.add_tensor(L.name, (1, co, 1, 1), "int8", 1.0, 0)
                g.add_node(L.name + ":4d", "reshape", [L.name + ":2d"], L.name)
        elif L.type == "maxpool":
            p = L.pad
            g.add_tensor(L.name, (1, co, oh, ow), "int8", 1.0, 0)
            g.add_node(L.name, "maxpool", [x], L.name, kernel=[L.kernel, L.kernel], strides=[L.stride, L.stride],
                       pads=[p, p, p, p])
        else:   # add
            g.add_tensor(L.name, (1, co, oh, ow), "int8", 1.0, 0)
            g.add_node(L.name, "add", list(L.inputs), L.name, multiplier=[1 << 30, 1 << 30], shift=30,
                       qmin=0 if L.relu else -128, qmax=127)
    g.outputs = [net.layers[-1].name]
    return g.validate()
