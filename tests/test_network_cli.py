"""``accelgen run MODEL --engine E`` and ``accelgen compare``: the digits CNN through the network contract."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main


@pytest.fixture(scope="module")
def digits():
    from sw.graph.models import build
    return build("digits")


def _one_line_exit_2(capsys, argv, *words):
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("[accelgen]")]
    assert rc == 2 and len(lines) == 1 and "Traceback" not in out + err, (rc, out, err)
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_run_digits_on_vta_golden_agrees_with_graph_and_onnxruntime(digits, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(digits.qdq), "--engine", "vta", "--backend", "golden", "--images", "12",
                 "--out", str(out)]) == 0
    r = json.loads((out / "result.json").read_text())
    assert r["engine"] == "vta" and r["backend"] == "golden" and r["status"] == "ok" and r["bit_exact"] is True
    assert r["onnxruntime"]["inputs"] == 12 and r["onnxruntime"]["predictions_agree"] == 12
    conv = [l for l in r["layers"] if l["op"] == "conv2d"]
    assert conv and all(l["bit_exact"] for l in conv) and all(l["macs"] > 0 for l in conv)
    logits = [p for p in out.glob("*.npy") if not p.name.endswith(".float.npy")]
    assert len(logits) == 1 and np.load(logits[0]).shape[0] == 12
    assert "bit-exact True" in capsys.readouterr().out


def test_compare_fills_the_rows_it_can_and_says_why_for_the_rest(digits, tmp_path, capsys):
    from sim import engines
    no_lowering = [e for e in engines.names() if engines.spec(e) is None or engines.spec(e).lower is None]
    others = no_lowering[:1]
    out = tmp_path / "cmp"
    main(["compare", str(digits.qdq), "--engines", ",".join(["vta", *others]), "--backend", "golden",
          "--images", "5", "--out", str(out), "--workers", "1"])
    s = json.loads((out / "compare.json").read_text())
    rows = {r["engine"]: r for r in s["rows"]}
    assert rows["vta"]["status"] == "ok" and rows["vta"]["bit_exact"] is True
    assert rows["vta"]["macs"] > 0 and rows["vta"]["onnxruntime_agree"] == "5/5"
    for e in others:
        assert rows[e]["status"] == "cannot lower" and e in rows[e]["message"]
    assert (out / "compare.png").stat().st_size > 10_000
    table = (out / "compare.txt").read_text()
    assert "vta" in table and "MAC/cyc" in table and "Fmax" in table


def test_network_commands_refuse_bad_models_and_options(tmp_path, capsys, digits):
    import onnx
    bad = tmp_path / "notonnx.onnx"
    bad.write_text("this is not a protobuf")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    trunc = tmp_path / "trunc.onnx"
    trunc.write_bytes(Path(digits.qdq).read_bytes()[:300])
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (bad, empty, trunc)}
    _one_line_exit_2(capsys, ["run", str(bad), "--engine", "vta", "--backend", "golden"], "notonnx.onnx")
    _one_line_exit_2(capsys, ["run", str(empty), "--engine", "vta", "--backend", "golden"], "empty.onnx")
    _one_line_exit_2(capsys, ["run", str(trunc), "--engine", "vta", "--backend", "golden"], "trunc.onnx")
    _one_line_exit_2(capsys, ["run", str(digits.float), "--engine", "vta", "--backend", "golden"])
    _one_line_exit_2(capsys, ["run", str(tmp_path / "missing.onnx"), "--engine", "vta"], "missing.onnx", "not found")
    _one_line_exit_2(capsys, ["run", "digits", "--engine", "vta", "--images", "0"], "--images")
    _one_line_exit_2(capsys, ["compare", "digits", "--engines", "vta,tpu"], "--engines", "tpu")
    _one_line_exit_2(capsys, ["compare", "digits", "--config", "vta"], "--config")
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((2, 3, 8, 8), np.float32))
    _one_line_exit_2(capsys, ["run", "digits", "--engine", "vta", "--backend", "golden", "--input", str(x)],
                     "x.npy", "shape")
    np.save(x, np.full((1, 1, 8, 8), 300, np.int32))
    _one_line_exit_2(capsys, ["run", "digits", "--engine", "vta", "--backend", "golden", "--input", str(x)],
                     "x.npy", "codes")
    (tmp_path / "file").write_text("x")
    _one_line_exit_2(capsys, ["run", "digits", "--engine", "vta", "--backend", "golden", "--out",
                              str(tmp_path / "file" / "o")], "not a folder")
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (bad, empty, trunc)} == before
