"""The integer graph on VTA (sw/vta/lower.py): MULSHR, the exact requantisation and add, every lowered op on tiny
graphs built with the IR, the digits CNN on the golden model (whole test set) and on the RTL (a few images)."""

import numpy as np
import pytest

from sw.common.network import LoweringError
from sw.graph.ir import Graph, quantize_multiplier
from sw.graph.reference import run as graph_run
from sw.vta.compile import GraphAdd, GraphRequant, MapError
from sw.vta.config import VTAConfig
from sw.vta.golden import _mul_shr
from sw.vta.isa import mulshr_imm, mulshr_params
from sw.vta.lower import from_int8, lower, to_int8

CFG = VTAConfig()


# -- MULSHR and the requantisation identities ---------------------------------------------------------------
def _py_mulshr(a, b, sh, rnd):
    v = (int(a) * int(b) + ((1 << (sh - 1)) if rnd and sh else 0)) >> sh
    return ((v + (1 << 31)) % (1 << 32)) - (1 << 31)


def test_mulshr_golden_matches_python_ints():
    rng = np.random.default_rng(0)
    a = rng.integers(-(1 << 31), 1 << 31, 400)
    b = rng.integers(-(1 << 31), 1 << 31, 400)
    a[:3], b[:3] = [-(1 << 31), -(1 << 31), (1 << 31) - 1], [-(1 << 31), (1 << 31) - 1, (1 << 31) - 1]
    for sh in (0, 1, 5, 31, 32, 47, 62, 63):
        for rnd in (False, True):
            got = (_mul_shr(a, b, sh, rnd) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
            want = [_py_mulshr(x, y, sh, rnd) for x, y in zip(a, b)]
            assert got.tolist() == want, (sh, rnd)
    assert mulshr_params(mulshr_imm(40, True)) == (40, True)


def _graph_rule(acc, m, s, zp, lo, hi):
    return np.clip(((acc.astype(object) * m + (1 << (s - 1))) >> s) + zp, lo, hi).astype(np.int64)


@pytest.mark.parametrize("spread", [0, 3, 12])
def test_graph_requant_identity_is_exact(spread):
    """MULSHR(a) + RSHR(b, zp) (the per-channel scheme) == the graph rule, over the whole accumulator range the
    bound allows; uniform shifts use MULSHR with rounding + ADD zp."""
    rng = np.random.default_rng(spread)
    n = 16
    m = rng.integers(1 << 30, 1 << 31, n)
    s = 36 + rng.integers(0, spread + 1, n)
    bound = np.full(n, 1 << 22)
    rq = GraphRequant("t", m, s, -7, -128, 127, bound)
    acc = rng.integers(-(1 << 22), 1 << 22, (500, n))
    acc[0], acc[1] = bound, -bound
    if rq.uniform:
        got = _mul_shr(acc, m, rq.a, True) + rq.zp
    else:   # MULSHR then RSHR (golden semantics of both)
        t = _mul_shr(acc, rq.mult, rq.a, False)
        got = (((t >> (rq.b - 1)) + 1) >> 1) + rq.zp
    want = np.stack([_graph_rule(acc[:, c], int(m[c]), int(s[c]), -7, -(1 << 40), 1 << 40) for c in range(n)], 1)
    assert np.array_equal(got, want)


def test_graph_requant_refuses_what_needs_more_than_32_bits():
    with pytest.raises(MapError, match="more than 32 bits"):
        GraphRequant("big", [1 << 30, 1 << 30], [20, 21], 0, -128, 127, [1 << 30, 1 << 30])
    with pytest.raises(MapError, match="clamp"):
        GraphRequant("q", [1 << 30], [31], 0, -200, 127, [10])


def test_graph_add_identity_is_exact():
    rng = np.random.default_rng(3)
    for _ in range(20):
        ma, mb = (int(v) for v in rng.integers(1 << 28, 1 << 31, 2))
        s = int(rng.integers(29, 34))
        za, zb, zy = (int(v) for v in rng.integers(-128, 128, 3))
        ga = GraphAdd("a", ma, mb, s, za, zb, zy, -128, 127)
        a = rng.integers(-128, 128, 2000)
        b = rng.integers(-128, 128, 2000)
        ah, bh, al, bl, kl, kh = ga.consts
        h = a * ah + b * bh + kh
        lo = a * al + b * bl + kl
        got = np.clip((h + (lo >> ga.T)) >> (s - ga.T), -128, 127)
        v = (a - za).astype(object) * ma + (b - zb).astype(object) * mb
        want = np.clip(((v + (1 << (s - 1))) >> s) + zy, -128, 127).astype(np.int64)
        assert np.array_equal(got, want)


def test_int8_domain_roundtrip():
    q = np.arange(256, dtype=np.uint8)
    assert np.array_equal(from_int8(to_int8(q, "uint8"), "uint8"), q)
    assert to_int8(np.array([0, 128, 255], np.uint8), "uint8").tolist() == [-128, 0, 127]


# -- tiny graphs built with the IR --------------------------------------------------------------------------
def _requant(g, name, src, c, dtype, zp, rng, per_channel=True, spread=2, relu=False, real=None):
    lo, hi = (-128, 127) if dtype == "int8" else (0, 255)
    if real is None:   # calibrate on a seeded input: about 40 codes per standard deviation of the accumulator
        t = g.tensors[g.inputs[0]]
        lo_x, hi_x = (-128, 127) if t.dtype == "int8" else (0, 255)
        cal = np.random.default_rng(99)
        acc = np.concatenate([graph_run(g, {g.inputs[0]: cal.integers(lo_x, hi_x + 1, t.shape).astype(t.dtype)})[src]
                              for _ in range(6)]).astype(np.float64) - g.tensors[src].zero_point
        axes = (0,) + tuple(range(2, acc.ndim))
        sd = acc.std(axis=axes) if per_channel else np.atleast_1d(acc.std())
        real = 40.0 / (sd + 1.0) * 2.0 ** -rng.uniform(0, spread / 4, sd.size)
    ms = [quantize_multiplier(float(r)) for r in np.atleast_1d(real)]
    g.add_tensor(name, g.tensors[src].shape, dtype, 0.1, zp)
    g.add_node(name + ":rq", "requantize", [src], name,
               multiplier=[m for m, _ in ms] if per_channel else ms[0][0],
               shift=[s for _, s in ms] if per_channel else ms[0][1], qmin=max(lo, zp) if relu else lo, qmax=hi)
    return name


def _conv(g, name, x, cout, k, stride, pad, groups, rng, pads=None, wmax=40):
    xt = g.tensors[x]
    n, c, h, w = xt.shape
    wt = g.add_constant(name + ".w", rng.integers(-wmax, wmax + 1, (cout, c // groups, k, k)).astype(np.int8))
    b = g.add_constant(name + ".b", rng.integers(-2000, 2000, cout).astype(np.int32))
    pads = pads or [pad] * 4
    oh = (h + pads[0] + pads[2] - k) // stride + 1
    ow = (w + pads[1] + pads[3] - k) // stride + 1
    g.add_tensor(name + ":acc", (n, cout, oh, ow), "int32", tuple([0.01] * cout))
    g.add_node(name, "conv2d", [x, wt, b], name + ":acc", strides=[stride, stride], pads=pads,
               dilations=[1, 1], groups=groups)
    return name + ":acc"


def tiny_graph(seed=0, in_dtype="uint8", in_zp=37):
    """Every op VTA lowers: packed first conv with a non-trivial zero point, conv with pre-padding (uint8), pad_min
    conv, depthwise (8 and 32 channels), grouped, strided, maxpool with padding, avgpool with padding, global
    avgpool, add of uint8 and int8, clip, standalone requantize, flatten + dense and a plain dense."""
    rng = np.random.default_rng(seed)
    g = Graph("tiny")
    g.add_tensor("x", (1, 3, 11, 11), in_dtype, 0.05, in_zp)
    g.inputs = ["x"]
    a = _requant(g, "a", _conv(g, "c1", "x", 32, 3, 1, 1, 1, rng), 32, "uint8", 3, rng)       # packed
    b = _requant(g, "b", _conv(g, "c2", a, 32, 3, 2, 1, 1, rng), 32, "int8", -128, rng, relu=True)
    c = _requant(g, "c", _conv(g, "dw", b, 32, 3, 1, 1, 32, rng), 32, "int8", 5, rng)         # depthwise, pre-pad
    d = _requant(g, "d", _conv(g, "gc", c, 32, 3, 1, 0, 4, rng, pads=[1, 2, 1, 0]), 32, "uint8", 0, rng)
    g.add_tensor("mp", (1, 32, 3, 3), "uint8", 0.1, 0)
    g.add_node("mp", "maxpool", [d], "mp", kernel=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    g.add_tensor("ap:acc", (1, 32, 6, 6), "int32", 0.1 / 9)
    g.add_node("ap", "avgpool", [b], "ap:acc", kernel=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    e = _requant(g, "e", "ap:acc", 32, "int8", -20, rng, per_channel=False)
    f = _requant(g, "f", _conv(g, "c3", e, 32, 1, 2, 0, 1, rng), 32, "uint8", 9, rng)
    s = _requant(g, "s", _conv(g, "c4", mp_to(g, "mp"), 32, 1, 1, 0, 1, rng), 32, "int8", 2, rng)
    g.add_tensor("sum", (1, 32, 3, 3), "int8", 0.1, -3)
    ma, sh = quantize_multiplier(0.8)
    g.add_node("add", "add", [f, s], "sum", multiplier=[ma, round(0.35 * 2 ** sh)], shift=sh, qmin=-128, qmax=127)
    g.add_tensor("cl", (1, 32, 3, 3), "int8", 0.1, -3)
    g.add_node("clip", "clip", ["sum"], "cl", qmin=-3, qmax=90)
    g.add_tensor("gap:acc", (1, 32, 1, 1), "int32", 0.1 / 9)
    g.add_node("gap", "global_avgpool", ["cl"], "gap:acc")
    gp = _requant(g, "gp", "gap:acc", 32, "uint8", 0, rng, per_channel=False)
    g.add_tensor("flat", (1, 32), "uint8", 0.1, 0)
    g.add_node("flat", "reshape", [gp], "flat")
    g.add_constant("fc.w", rng.integers(-60, 61, (10, 32)).astype(np.int8))
    g.add_tensor("fc:acc", (1, 10), "int32", tuple([0.01] * 10))
    g.add_node("fc", "dense", ["flat", "fc.w"], "fc:acc")
    y = _requant(g, "y", "fc:acc", 10, "int8", 4, rng)
    g.add_tensor("flat2", (1, 288), "int8", 0.1, -3)
    g.add_node("flat2", "reshape", ["cl"], "flat2")
    g.add_constant("fc2.w", rng.integers(-20, 21, (5, 288)).astype(np.int8))
    g.add_constant("fc2.b", rng.integers(-500, 500, 5).astype(np.int32))
    g.add_tensor("fc2:acc", (1, 5), "int32", tuple([0.01] * 5))
    g.add_node("fc2", "dense", ["flat2", "fc2.w", "fc2.b"], "fc2:acc")
    y2 = _requant(g, "y2", "fc2:acc", 5, "int8", 0, rng, spread=6)
    g.outputs = [y, y2]
    return g.validate()


def mp_to(g, name):
    """A standalone requantize of ``name`` (uint8 -> int8)."""
    ms = quantize_multiplier(0.6)
    g.add_tensor(name + "_q", g.tensors[name].shape, "int8", 0.1, -50)
    g.add_node(name + "_q", "requantize", [name], name + "_q", multiplier=ms[0], shift=ms[1], qmin=-128, qmax=127)
    return name + "_q"


def _inputs(g, n, seed=1):
    t = g.tensors[g.inputs[0]]
    lo, hi = (-128, 127) if t.dtype == "int8" else (0, 255)
    return np.random.default_rng(seed).integers(lo, hi + 1, (n,) + t.shape[1:]).astype(t.dtype)


@pytest.mark.parametrize("in_dtype,in_zp", [("uint8", 37), ("int8", -128), ("int8", 0)])
def test_tiny_graph_every_op_bit_exact_on_golden(in_dtype, in_zp):
    g = tiny_graph(in_dtype=in_dtype, in_zp=in_zp)
    low = lower(g, CFG, strict=True)
    ops = {L.op for L in low.layers}
    assert ops >= {"conv2d", "maxpool", "avgpool", "global_avgpool", "add", "clip", "requantize", "reshape", "dense"}
    notes = " ".join(" ".join(L.notes) for L in low.layers)
    assert "packed" in notes and "pre-padded" in notes and "block-diagonal" in notes
    x = _inputs(g, 3)
    res = low.run_golden(x)
    assert res.status == "ok", res.message
    for row in res.layers:
        assert row.bit_exact, row
    ref = [graph_run(g, {"x": x[i:i + 1]}) for i in range(3)]
    for name in g.outputs:
        assert np.array_equal(res.outputs[name], np.concatenate([r[name] for r in ref]))
        assert len(np.unique(res.outputs[name])) > 3   # not a saturated constant
    flat = [n for n in ref[0] if g.tensors[n].dtype != "int32" and n != "x"]
    assert all(len(np.unique(ref[0][n])) > min(8, ref[0][n].size // 3) for n in flat), \
        {n: len(np.unique(ref[0][n])) for n in flat}


def test_unmapped_and_errors():
    g = tiny_graph()
    g.nodes[0].attrs["dilations"] = [2, 2]
    with pytest.raises(LoweringError, match=r"layer 'c1' \(conv2d\): dilations"):
        lower(g, CFG, strict=True)
    g = Graph("cat")
    g.add_tensor("x", (1, 16, 4, 4), "int8", 0.1, 0)
    g.add_tensor("y", (1, 32, 4, 4), "int8", 0.1, 0)
    g.add_node("cat", "concat", ["x", "x"], "y", axis=1)
    g.inputs, g.outputs = ["x"], ["y"]
    low = lower(g.validate(), CFG)
    assert "cat" in low.unmapped and "not supported on VTA" in low.unmapped["cat"]
    res = low.run_golden(_inputs(g, 1))
    assert res.layers[0].where == "host" and res.status == "ok"
    with pytest.raises(LoweringError, match="input 'x': shape"):
        low.run_golden(np.zeros((2, 3), np.int8))


# -- the digits CNN -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    from sw.graph.models import build, digits_data
    from sw.graph.onnx_import import import_onnx
    from sw.graph.reference import quantize_input
    mf = build("digits")
    g = import_onnx(mf.qoperator)   # onnxruntime runs the QOperator form in integers (QDQ partly in float)
    _, _, xte, yte = digits_data()
    return mf, g, quantize_input(g, xte), xte, yte


def _ort_predictions(mf, xte):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(str(mf.qoperator), so, providers=["CPUExecutionProvider"])
    return np.array([s.run(None, {"input": x[None]})[0].argmax() for x in xte])


def test_digits_golden_whole_test_set(digits):
    mf, g, xq, xte, yte = digits
    low = lower(g, CFG, strict=True)
    res = low.run_golden(xq)
    assert res.status == "ok", res.message
    assert all(r.bit_exact for r in res.layers), [r for r in res.layers if not r.bit_exact]
    logits = res.outputs[g.outputs[0]]
    ref = np.concatenate([graph_run(g, {g.inputs[0]: xq[i:i + 1]})[g.outputs[0]] for i in range(len(xq))])
    assert np.array_equal(logits, ref)
    pred = logits.argmax(1)
    ort = _ort_predictions(mf, xte)
    agree = float((pred == ort).mean())
    acc = float((pred == yte).mean())
    print(f"digits on VTA golden: {len(xq)} images, accuracy {acc:.4f}, agreement with onnxruntime {agree:.4f}")
    assert agree == 1.0
    assert acc > 0.9


@pytest.mark.rtl
def test_digits_and_tiny_graph_on_rtl(digits, tmp_path):
    from tb.vta.network import run_network_rtl
    mf, g, xq, xte, yte = digits
    lines = []
    res = run_network_rtl(lower(g, CFG), xq[:4], tmp_path / "digits", progress=lines.append)
    assert res.status == "ok", res.message
    assert all(r.bit_exact for r in res.layers) and res.cycles > 0
    assert sum(" item " in ln and "cycles" in ln for ln in lines) == 4 * 5
    pred = res.outputs[g.outputs[0]].argmax(1)
    assert np.array_equal(pred, _ort_predictions(mf, xte[:4]))
    print(f"digits on the RTL: {res.cycles / 4:.0f} cycles per inference")
    t = tiny_graph(in_dtype="uint8", in_zp=37)
    res = run_network_rtl(lower(t, CFG), _inputs(t, 1), tmp_path / "tiny")
    assert res.status == "ok", res.message
    assert all(r.bit_exact for r in res.layers), [r for r in res.layers if not r.bit_exact]


# -- the VTA network JSON as a front end of the graph -------------------------------------------------------
JSON_NET = {"name": "j", "seed": 3, "input": {"channels": 32, "height": 10, "width": 12}, "layers": [
    {"name": "c1", "type": "conv2d", "out_channels": 48, "kernel": 3, "pad": 1, "shift": 10, "relu": True, "wmax": 31},
    {"name": "c2", "type": "conv2d", "out_channels": 48, "kernel": 3, "stride": 2, "pad": 1, "shift": 10,
     "relu": True, "wmax": 31},
    {"name": "g", "type": "conv2d", "out_channels": 48, "kernel": 3, "pad": 1, "groups": 3, "shift": 9, "relu": True,
     "wmax": 31},
    {"name": "mp", "type": "maxpool", "kernel": 3, "stride": 2, "pad": 1},
    {"name": "ad", "type": "add", "input": ["mp", "mp"], "relu": True},
    {"name": "ap", "type": "avgpool", "kernel": 3, "stride": 3, "shift": 3},
    {"name": "fc", "type": "dense", "out_features": 10, "shift": 8, "wmax": 31}]}


def test_network_json_is_a_graph_front_end():
    from sw.vta.network import NetworkError, load_network, run_reference, to_graph
    net = load_network(JSON_NET)
    ref = run_reference(net)
    g = to_graph(net)
    vals = graph_run(g, {"input": ref["input"][None]})
    for L in net.layers:
        assert np.array_equal(vals[L.name].reshape(ref[L.name].shape), ref[L.name]), L.name
    res = lower(g, CFG, strict=True).run_golden(ref["input"][None])
    assert res.status == "ok" and all(r.bit_exact for r in res.layers)
    bad = dict(JSON_NET, layers=JSON_NET["layers"][:2] + [dict(JSON_NET["layers"][1], name="r", stride=1,
                                                                input="c2", residual="c2")])
    with pytest.raises(NetworkError, match="layer 'r': a residual"):
        to_graph(load_network(bad))
