"""ONNX import of onnxruntime-quantised models (QDQ and QOperator) and agreement with onnxruntime: the digits
CNN (trained here on sklearn digits) and a tiny graph with the less common ops; bad ONNX inputs through the CLI."""

import shutil

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from sim.cli import main  # noqa: E402
from sw.graph import agreement as A  # noqa: E402
from sw.graph import load, models  # noqa: E402
from sw.graph.onnx_import import import_onnx  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return models.build("digits")


@pytest.fixture(scope="module")
def tiny():
    return models.build("tiny")


@pytest.fixture(scope="module")
def test_images():
    return models.digits_data()[2:]


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_digits_import(digits, fmt):
    g = import_onnx(getattr(digits, fmt))
    ops = [n.op for n in g.nodes]
    assert ops == ["conv2d", "requantize", "maxpool", "conv2d", "requantize", "add", "reshape", "dense",
                   "requantize"]
    assert g.tensors[g.inputs[0]].dtype == "int8" and g.tensors[g.outputs[0]].shape == (1, 10)
    assert all(g.tensors[n.output].per_channel for n in g.nodes if n.op in ("conv2d", "dense"))
    assert sum(g.macs(n) for n in g.nodes) == 8 * 8 * 16 * 9 + 4 * 4 * 16 * 16 * 9 + 256 * 10


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_digits_per_layer_agreement(digits, test_images, fmt):
    path = getattr(digits, fmt)
    g = import_onnx(path)
    ort = A.OrtIntermediates(g, path)
    rows = [A.layer_agreement(g, path, x[None], ort=ort) for x in test_images[0][:60]]
    s = A.summarize(rows)
    assert len(rows[0]) == 7  # input + 6 integer ONNX tensors compared per image
    assert s["worst_layer_agree_fraction"] >= 0.999 and s["max_abs_diff"] <= 1, s


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_digits_predictions_agree_on_every_test_image(digits, test_images, fmt):
    x, y = test_images
    g = import_onnx(getattr(digits, fmt))
    res = A.prediction_agreement(g, getattr(digits, fmt), x[:, None])
    assert res["agree"] == res["n"] == 360
    acc = float((res["ours"] == y).mean())
    assert acc == digits.info[f"{fmt}_ort_accuracy"] and acc >= 0.9


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_tiny_graph_agreement(tiny, fmt):
    path = getattr(tiny, fmt)
    g = import_onnx(path)
    ops = {n.op for n in g.nodes}
    assert {"conv2d", "add", "avgpool", "maxpool", "concat", "global_avgpool", "dense"} <= ops
    assert any(n.op == "conv2d" and n.attrs["groups"] == 8 for n in g.nodes)  # depthwise
    assert any(n.op == "conv2d" and n.attrs["groups"] == 2 for n in g.nodes)
    ort = A.OrtIntermediates(g, path)
    xs = np.random.default_rng(3).standard_normal((10, 1, 3, 12, 12)).astype(np.float32)
    for iso in (True, False):
        s = A.summarize([A.layer_agreement(g, path, x, isolated=iso, ort=ort) for x in xs])
        assert s["worst_layer_agree_fraction"] >= 0.999 and s["max_abs_diff"] <= 1, s


def test_cli_import_writes_graph_and_table(digits, tmp_path, capsys):
    src = tmp_path / "m" / "digits.onnx"
    src.parent.mkdir()
    shutil.copy(digits.qoperator, src)
    assert main(["import", str(src), "--out", str(src.parent)]) == 0  # --out = the input's folder
    out = capsys.readouterr().out
    assert "conv2d" in out and "36,864" in out and "per-channel" in out
    assert src.read_bytes() == digits.qoperator.read_bytes()
    g = load(src.parent)
    assert [n.op for n in g.nodes][:2] == ["conv2d", "requantize"]
    assert main(["import", str(src), "--out", str(src)]) == 2  # never overwrite the input file
    assert src.read_bytes() == digits.qoperator.read_bytes()


# -- bad inputs: exit 2, one line, no traceback ----------------------------------------------------------------
def _q_model(path, tail_op="Relu", dims=(1, 1, 4, 4), scale_as_input=False):
    from onnx import TensorProto, helper
    inits = [helper.make_tensor("zp", TensorProto.INT8, [], [0])]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(dims))]
    if scale_as_input:
        inputs.append(helper.make_tensor_value_info("s", TensorProto.FLOAT, []))
    else:
        inits.append(helper.make_tensor("s", TensorProto.FLOAT, [], [0.1]))
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], name="q0"),
             helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["d"], name="dq0"),
             helper.make_node(tail_op, ["d"], ["y"], name="tail")]
    g = helper.make_graph(nodes, "bad", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


@pytest.mark.parametrize("case,pattern", [
    ("float", "float model"),
    ("unknown-op", "node 'tail' (Sin): unsupported op; supported ops: QuantizeLinear"),
    ("dynamic", "input 'x': dynamic shape ['N', 1, 4, 4]"),
    ("missing-param", "node 'q0' (QuantizeLinear): scale 's' must be a constant initializer"),
    ("corrupt", "not an ONNX model"),
    ("not-onnx", "not an ONNX model"),
    ("missing-file", "no such file"),
])
def test_cli_import_bad_models_exit_2_one_line(digits, tmp_path, capsys, case, pattern):
    p = tmp_path / f"{case}.onnx"
    if case == "float":
        shutil.copy(digits.float, p)
    elif case == "unknown-op":
        _q_model(p, "Sin")
    elif case == "dynamic":
        _q_model(p, dims=("N", 1, 4, 4))
    elif case == "missing-param":
        _q_model(p, scale_as_input=True)
    elif case == "corrupt":
        p.write_bytes(digits.qdq.read_bytes()[:3000])
    elif case == "not-onnx":
        p.write_text("this is not a model\n")
    rc = main(["import", str(p), "--out", str(tmp_path / "g")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"accelgen import: {p}: ") and pattern in err, err
    assert not (tmp_path / "g").exists() and not [q for q in tmp_path.iterdir() if q.name.startswith(".")]


@pytest.mark.parametrize("fmt,activation,per_channel", [("qdq", "uint8", False), ("qoperator", "uint8", True),
                                                        ("qdq", "int8", False)])
def test_tiny_uint8_and_per_tensor_variants(tiny, tmp_path, fmt, activation, per_channel):
    path = tmp_path / "m.onnx"
    calib = np.random.default_rng(4).standard_normal((8, 3, 12, 12)).astype(np.float32)
    models.quantize(tiny.float, path, calib, fmt, per_channel=per_channel, activation=activation)
    g = import_onnx(path)
    assert g.tensors[g.inputs[0]].dtype == activation
    convs = [g.tensors[n.output] for n in g.nodes if n.op == "conv2d"]
    assert all(t.per_channel == per_channel for t in convs if t.shape[1] > 1)
    ort = A.OrtIntermediates(g, path)
    xs = np.random.default_rng(5).standard_normal((6, 1, 3, 12, 12)).astype(np.float32)
    s = A.summarize([A.layer_agreement(g, path, x, ort=ort) for x in xs])
    assert s["worst_layer_agree_fraction"] >= 0.999 and s["max_abs_diff"] <= 1, s
