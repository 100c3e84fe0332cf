"""The integer network graph (sw/graph): IR validation, reference op semantics on hand-computed cases, the
rounding rule, lowering parameters and graph folders."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from sw.graph import (Graph, GraphError, integer_layers, load, quantize_multiplier, rounding_shift, run, save)


# -- helpers ---------------------------------------------------------------------------------------------------
def conv_graph(x_shape, w, b=None, zp=0, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), groups=1,
               dtype="uint8", acc_scale=1.0):
    g = Graph("t")
    g.add_tensor("x", x_shape, dtype, 0.5, zp)
    g.add_constant("w", np.asarray(w, np.int8))
    ins = ["x", "w"]
    if b is not None:
        ins.append(g.add_constant("b", np.asarray(b, np.int32)))
    m, _, kh, kw = np.shape(w)
    oh = (x_shape[2] + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (x_shape[3] + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    g.add_tensor("acc", (x_shape[0], m, oh, ow), "int32", acc_scale)
    g.add_node("conv", "conv2d", ins, "acc", strides=list(strides), pads=list(pads), dilations=list(dilations),
               groups=groups)
    g.inputs, g.outputs = ["x"], ["acc"]
    return g.validate()


def naive_conv(x, w, b, zp, strides, pads, dilations, groups):
    """Definition of the integer core, element by element: positions outside the image hold the real zero."""
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, m, oh, ow), np.int64)
    mg = m // groups
    for o in range(m):
        gi = o // mg
        for y in range(oh):
            for xx in range(ow):
                s = 0 if b is None else int(b[o])
                for ci in range(cg):
                    for i in range(kh):
                        for j in range(kw):
                            yy = y * strides[0] - pads[0] + i * dilations[0]
                            xq = xx * strides[1] - pads[1] + j * dilations[1]
                            if 0 <= yy < h and 0 <= xq < wd:
                                s += (int(x[0, gi * cg + ci, yy, xq]) - zp) * int(w[o, ci, i, j])
                out[0, o, y, xx] = s
    return out


def single(op, x_shape, out_shape, x_dtype="int8", x_zp=0, out_dtype=None, out_zp=0, x_scale=1.0, out_scale=1.0,
           **attrs):
    g = Graph("t")
    g.add_tensor("x", x_shape, x_dtype, x_scale, x_zp)
    g.add_tensor("y", out_shape, out_dtype or x_dtype, out_scale, out_zp)
    g.add_node("n", op, ["x"], "y", **attrs)
    g.inputs, g.outputs = ["x"], ["y"]
    return g.validate()


# -- rounding rule ---------------------------------------------------------------------------------------------
def test_rounding_shift_is_round_half_up():
    # v / 2: 1.5 -> 2, -1.5 -> -1, 2.5 -> 3 (not 2 as half-to-even), -2.5 -> -2, 0.5 -> 1, -0.5 -> 0
    v = np.array([3, -3, 5, -5, 1, -1, 4, -4, 7])
    assert rounding_shift(v, 1).tolist() == [2, -1, 3, -2, 1, 0, 2, -2, 4]
    # v / 8 with the tie at 4/8: 12/8 = 1.5 -> 2, -12/8 -> -1, 11/8 -> 1, -13/8 -> -2
    assert rounding_shift(np.array([12, -12, 11, -13]), 3).tolist() == [2, -1, 1, -2]


@pytest.mark.parametrize("real,expected", [(0.5, (1 << 30, 31)), (0.25, (1 << 30, 32)), (1.0, (1 << 30, 30)),
                                           (0.75, (3 << 29, 31)), (0.0, (0, 1))])
def test_quantize_multiplier_exact_powers(real, expected):
    assert quantize_multiplier(real) == expected


def test_quantize_multiplier_precision_and_limits():
    for real in (0.0123, 1e-4, 0.9999999, 3.7, 1234.5):
        m0, s = quantize_multiplier(real)
        assert 1 << 30 <= m0 < 1 << 31 and 1 <= s <= 62
        assert abs(m0 * 2.0 ** -s - real) <= real * 2.0 ** -30
    m0, s = quantize_multiplier(1e-12)  # denormal: shift capped at 62
    assert s == 62 and abs(m0 * 2.0 ** -62 - 1e-12) < 2.0 ** -62
    for bad in (-0.1, float("nan"), float("inf"), 2.0 ** 31):
        with pytest.raises(GraphError):
            quantize_multiplier(bad)


# -- reference op semantics ------------------------------------------------------------------------------------
def test_conv_padding_holds_the_input_zero_point():
    # 3x3 image of 12 with zero point 10 (real value 2 units), 3x3 kernel of ones, pad 1: the padded
    # positions are real zeros, so corner = 4 * 2, edge = 6 * 2, centre = 9 * 2 (plus bias 5)
    g = conv_graph((1, 1, 3, 3), np.ones((1, 1, 3, 3)), [5], zp=10, pads=(1, 1, 1, 1))
    acc = run(g, np.full((1, 1, 3, 3), 12, np.uint8))["acc"][0, 0]
    assert acc.tolist() == [[13, 17, 13], [17, 23, 17], [13, 17, 13]]
    # an image equal to the zero point is all real zeros: only the bias remains, border included
    assert (run(g, np.full((1, 1, 3, 3), 10, np.uint8))["acc"] == 5).all()


def test_conv_hand_computed_strided():
    # x = 0..15 (4x4), zp 0, kernel [[1, 0], [0, -1]], stride 2, no padding: x[i,j] - x[i+1,j+1] = -5
    x = np.arange(16, dtype=np.uint8).reshape(1, 1, 4, 4)
    g = conv_graph((1, 1, 4, 4), [[[[1, 0], [0, -1]]]], strides=(2, 2))
    assert run(g, x)["acc"][0, 0].tolist() == [[-5, -5], [-5, -5]]


@pytest.mark.parametrize("groups,cin,m,strides,pads,dil,zp,dtype", [
    (1, 3, 4, (1, 1), (1, 1, 1, 1), (1, 1), 7, "uint8"),
    (1, 2, 3, (2, 2), (0, 1, 2, 0), (1, 1), -5, "int8"),
    (2, 4, 6, (1, 2), (1, 0, 1, 1), (2, 1), 3, "int8"),
    (4, 4, 4, (2, 2), (1, 1, 1, 1), (1, 1), -128, "int8"),   # depthwise
    (3, 3, 6, (1, 1), (2, 2, 2, 2), (2, 2), 200, "uint8"),   # depthwise, channel multiplier 2, dilation 2
])
def test_conv_matches_the_definition(groups, cin, m, strides, pads, dil, zp, dtype):
    rng = np.random.default_rng(groups * 10 + cin)
    lo, hi = (-128, 127) if dtype == "int8" else (0, 255)
    x = rng.integers(lo, hi + 1, (1, cin, 6, 7)).astype(dtype)
    w = rng.integers(-128, 128, (m, cin // groups, 3, 3)).astype(np.int8)
    b = rng.integers(-1000, 1000, m).astype(np.int32)
    g = conv_graph(x.shape, w, b, zp, strides, pads, dil, groups, dtype)
    assert np.array_equal(run(g, x)["acc"], naive_conv(x, w, b, zp, strides, pads, dil, groups))


def test_dense_hand_computed():
    g = Graph("t")
    g.add_tensor("x", (1, 2), "int8", 1.0, 1)
    g.add_constant("w", np.array([[3, 4], [5, -6]], np.int8))
    g.add_constant("b", np.array([10, 0], np.int32))
    g.add_tensor("acc", (1, 2), "int32", (1.0, 2.0))
    g.add_node("fc", "dense", ["x", "w", "b"], "acc")
    g.inputs, g.outputs = ["x"], ["acc"]
    # (x - zp) = [0, 1]: [10 + 4, 0 - 6]
    assert run(g.validate(), np.array([[1, 2]], np.int8))["acc"].tolist() == [[14, -6]]


def test_requantize_per_tensor_ties_round_up_and_saturate():
    m0, s = quantize_multiplier(0.5)
    g = single("requantize", (1, 7), (1, 7), "int32", 0, "int8", 10, multiplier=m0, shift=s, qmin=-128, qmax=127)
    acc = np.array([[-3, -1, 1, 3, 5, 1000, -1000]], np.int32)
    # x 0.5 = -1.5, -0.5, 0.5, 1.5, 2.5, 500, -500 -> -1, 0, 1, 2, 3 (half up), then + 10, saturated
    assert run(g, acc)["y"].tolist() == [[9, 10, 11, 12, 13, 127, -128]]


def test_requantize_per_channel_with_clamp_and_input_zero_point():
    (m_a, s_a), (m_b, s_b) = quantize_multiplier(0.5), quantize_multiplier(0.25)
    g = single("requantize", (1, 2, 1, 2), (1, 2, 1, 2), "uint8", 100, "int8", -128,
               multiplier=[m_a, m_b], shift=[s_a, s_b], qmin=-128, qmax=0)
    x = np.array([[[[102, 110]], [[106, 200]]]], np.uint8)
    # channel 0: (2, 10) * 0.5 = 1, 5; channel 1: (6, 100) * 0.25 = 1.5 -> 2, 25; -128 + ..., clamp to <= 0
    assert run(g, x)["y"].ravel().tolist() == [-127, -123, -126, -103]
    g.nodes[0].attrs["qmax"] = -110
    assert run(g, x)["y"].ravel().tolist() == [-127, -123, -126, -110]


def test_add_two_requantised_inputs():
    g = Graph("t")
    g.add_tensor("a", (1, 4), "int8", 0.5, 0)
    g.add_tensor("b", (1, 4), "int8", 1.0, 2)
    g.add_tensor("y", (1, 4), "int8", 1.0, -3)
    m_b, s = quantize_multiplier(1.0)
    m_a = round(0.5 * 2.0 ** s)
    g.add_node("add", "add", ["a", "b"], "y", multiplier=[m_a, m_b], shift=s, qmin=-128, qmax=127)
    g.inputs, g.outputs = ["a", "b"], ["y"]
    vals = run(g.validate(), {"a": np.array([[10, 1, -1, 127]], np.int8), "b": np.array([[4, 2, 2, 127]], np.int8)})
    # real: 5 + 2 = 7; 0.5 + 0 -> 1 (tie up); -0.5 + 0 -> 0 (tie up); 63.5 + 125 = 188.5 -> 189 - 3 -> saturates
    assert vals["y"].tolist() == [[4, -2, -3, 127]]


def test_pools_hand_computed():
    x = np.array([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], np.int8)
    g = single("maxpool", (1, 1, 3, 3), (1, 1, 2, 2), kernel=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1])
    assert run(g, x)["y"][0, 0].tolist() == [[5, 6], [8, 9]]
    neg = np.full((1, 1, 3, 3), -100, np.int8)
    assert (run(g, neg)["y"] == -100).all()  # padding never wins a max
    g = single("avgpool", (1, 1, 3, 3), (1, 1, 3, 3), "int8", 1, "int32", kernel=[3, 3], strides=[1, 1],
               pads=[1, 1, 1, 1])
    # window sums of x - 1 with zero padding: corner (0+1+3+4) = 8, centre 36
    y = run(g, x)["y"][0, 0]
    assert y[0, 0] == 8 and y[1, 1] == 36 and y[2, 2] == 24  # (5-1)+(6-1)+(8-1)+(9-1)
    g = single("global_avgpool", (1, 1, 3, 3), (1, 1, 1, 1), "int8", 1, "int32")
    assert run(g, x)["y"].ravel().tolist() == [36]


def test_clip_reshape_concat():
    x = np.array([[[[-5, 0], [3, 9]]]], np.int8)
    assert run(single("clip", (1, 1, 2, 2), (1, 1, 2, 2), qmin=-1, qmax=4), x)["y"].ravel().tolist() == [-1, 0, 3, 4]
    assert run(single("reshape", (1, 1, 2, 2), (1, 4)), x)["y"].tolist() == [[-5, 0, 3, 9]]
    g = Graph("t")
    g.add_tensor("a", (1, 1, 2, 2), "int8")
    g.add_tensor("b", (1, 2, 2, 2), "int8")
    g.add_tensor("y", (1, 3, 2, 2), "int8")
    g.add_node("cat", "concat", ["a", "b"], "y", axis=1)
    g.inputs, g.outputs = ["a", "b"], ["y"]
    y = run(g.validate(), {"a": x, "b": np.ones((1, 2, 2, 2), np.int8)})["y"]
    assert y[0, 0].tolist() == [[-5, 0], [3, 9]] and (y[0, 1:] == 1).all()


# -- validation ------------------------------------------------------------------------------------------------
def _conv_requant():
    g = conv_graph((1, 2, 4, 4), np.ones((3, 2, 3, 3)), [1, 2, 3], zp=4, pads=(1, 1, 1, 1), acc_scale=(1., 2., 3.))
    g.add_tensor("y", (1, 3, 4, 4), "int8", 0.5, -128)
    ms = [quantize_multiplier(s / 8) for s in (1., 2., 3.)]
    g.add_node("rq", "requantize", ["acc"], "y", multiplier=[m for m, _ in ms], shift=[s for _, s in ms],
               qmin=-128, qmax=127)
    g.outputs = ["y"]
    return g.validate()


@pytest.mark.parametrize("mutate,pattern", [
    (lambda g: setattr(g.nodes[0], "op", "softmax"), r"node 'conv'.*op 'softmax'"),
    (lambda g: g.nodes[1].attrs.update(shift=[31, 0, 31]), r"node 'rq' \(requantize\): attrs.shift"),
    (lambda g: g.nodes[1].attrs.update(multiplier=[1, 2]), r"node 'rq' \(requantize\): attrs.multiplier"),
    (lambda g: g.nodes[1].attrs.update(qmin=5, qmax=4), r"node 'rq'.*qmin"),
    (lambda g: g.nodes[0].attrs.update(pads=[1, 1]), r"node 'conv' \(conv2d\): attrs.pads"),
    (lambda g: g.nodes[0].attrs.update(groups=2), r"node 'conv' \(conv2d\).*groups"),
    (lambda g: g.constants.update(b=np.zeros(2, np.int32)), r"node 'conv' \(conv2d\): bias shape"),
    (lambda g: g.constants.update(w=np.ones((3, 2, 3, 3), np.float32)), r"constant 'w': must be an int8"),
    (lambda g: setattr(g.tensors["acc"], "shape", (1, 3, 5, 5)), r"node 'conv'.*output shape"),
    (lambda g: setattr(g.tensors["x"], "zero_point", 300), r"tensor 'x': zero_point"),
    (lambda g: setattr(g.tensors["y"], "scale", -1.0), r"tensor 'y': scale"),
    (lambda g: setattr(g.tensors["y"], "dtype", "float32"), r"tensor 'y': dtype"),
    (lambda g: setattr(g.tensors["acc"], "scale", (1.0, 2.0)), r"tensor 'acc': 2 per-channel scales"),
    (lambda g: g.nodes.reverse(), r"node 'rq'.*not defined before"),
    (lambda g: setattr(g, "outputs", ["nope"]), r"graph output 'nope'"),
])
def test_validation_names_node_and_field(mutate, pattern):
    g = _conv_requant()
    mutate(g)
    with pytest.raises(GraphError, match=pattern):
        g.validate()
    assert issubclass(GraphError, ValueError)


# -- lowering view ---------------------------------------------------------------------------------------------
def test_integer_layers_fold_zero_point_into_bias():
    g = _conv_requant()
    (lp,) = integer_layers(g)
    assert lp.nodes == ["conv", "rq"] and lp.output == "y" and lp.pad_value == 4
    assert lp.bias.tolist() == [1 - 4 * 18, 2 - 4 * 18, 3 - 4 * 18]
    assert lp.multiplier.shape == (3,) and lp.zp_out == -128 and (lp.qmin, lp.qmax) == (-128, 127)
    # an engine's view: raw codes, padding = zp_x, folded bias, then the requantisation -> the reference
    x = np.random.default_rng(1).integers(0, 256, (1, 2, 4, 4)).astype(np.uint8)
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=lp.pad_value)
    acc = np.zeros((3, 4, 4), np.int64)
    for i in range(3):
        for j in range(3):
            acc += np.einsum("mc,cyx->myx", lp.weights[:, :, i, j].astype(np.int64), xp[0, :, i:i + 4, j:j + 4])
    acc += lp.bias[:, None, None]
    y = np.clip(rounding_shift(acc * lp.multiplier[:, None, None], lp.shift[:, None, None]) + lp.zp_out,
                lp.qmin, lp.qmax)
    assert np.array_equal(y, run(g, x)["y"][0])


# -- graph folders ---------------------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    g = _conv_requant()
    g.meta["note"] = "x"
    save(g, tmp_path / "g")
    h = load(tmp_path / "g")
    assert h.to_dict() == g.to_dict()
    x = np.random.default_rng(2).integers(0, 256, (1, 2, 4, 4)).astype(np.uint8)
    assert np.array_equal(run(h, x)["y"], run(g, x)["y"])
    # saving into an existing folder replaces the two files and keeps everything else
    (tmp_path / "g" / "model.onnx").write_text("keep")
    save(g, tmp_path / "g")
    assert (tmp_path / "g" / "model.onnx").read_text() == "keep"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _corrupt(tmp_path, how):
    save(_conv_requant(), tmp_path / "g")
    gj, wz = tmp_path / "g" / "graph.json", tmp_path / "g" / "weights.npz"
    doc = json.loads(gj.read_text())
    if how == "missing-weights":
        wz.unlink()
    elif how == "missing-json":
        gj.unlink()
    elif how == "truncated-npz":
        wz.write_bytes(wz.read_bytes()[:100])
    elif how == "not-json":
        gj.write_text("{not json")
    elif how == "zero-point-type":
        doc["tensors"][0]["zero_point"] = "4"
        gj.write_text(json.dumps(doc))
    elif how == "shape-type":
        doc["tensors"][1]["shape"] = "1x3"
        gj.write_text(json.dumps(doc))
    elif how == "constant-dtype":
        doc["constants"]["w"]["dtype"] = "int32"
        gj.write_text(json.dumps(doc))
    elif how == "bad-attr":
        doc["nodes"][1]["attrs"]["shift"] = "31"
        gj.write_text(json.dumps(doc))
    elif how == "format":
        doc["format"] = "other"
        gj.write_text(json.dumps(doc))
    return tmp_path / "g"


@pytest.mark.parametrize("how,pattern", [
    ("missing-weights", r"weights\.npz: missing file"),
    ("missing-json", r"graph\.json: missing file"),
    ("truncated-npz", r"weights\.npz: unreadable or truncated"),
    ("not-json", r"graph\.json: not valid JSON"),
    ("zero-point-type", r"graph\.json: tensors\[0\]: field 'zero_point' must be int"),
    ("shape-type", r"graph\.json: tensors\[1\]: field 'shape' must be list"),
    ("constant-dtype", r"weights\.npz: constant 'w'"),
    ("bad-attr", r"graph\.json: node 'rq' \(requantize\): attrs.shift"),
    ("format", r"graph\.json: field 'format'"),
])
def test_load_rejects_corrupt_folders(tmp_path, how, pattern):
    folder = _corrupt(tmp_path, how)
    with pytest.raises(GraphError, match=pattern):
        load(folder)


def test_sw_graph_imports_no_upper_layer():
    root = Path(__file__).resolve().parents[1] / "sw" / "graph"
    for f in root.glob("*.py"):
        src = f.read_text()
        assert not re.search(r"^\s*(from|import)\s+(hw|sim|tb|fpga|bench)\b", src, re.M), f
