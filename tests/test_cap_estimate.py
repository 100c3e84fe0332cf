"""The BF-IMNA-style estimator: networks, the cost fit, and the paper's qualitative findings."""

import json

import numpy as np
import pytest

from sw.cap import formulas
from sw.cap.config import CAPConfig
from sw.cap.estimator import CostModel, estimate_network, gemm_features, hawq_configs
from sw.cap.networks import HAWQ_LAYERS, NETWORKS, network, out_size
from sw.cap.programs import check_inputs, op_chunks, run_generator
from sw.data import HAWQ_V3_RESNET18

HAWQ = str(HAWQ_V3_RESNET18)
CFG = CAPConfig()


def _macs(name):
    total = 0
    for layer in network(name):
        if layer[0] == "conv":
            _, _, cin, cout, k, s, p, h = layer
            total += out_size(h, k, s, p) ** 2 * k * k * cin * cout
        elif layer[0] == "fc":
            total += layer[2] * layer[3]
    return total


def test_network_shapes():
    assert _macs("resnet18") == 1_814_073_344 and _macs("resnet50") == 4_089_184_256
    assert _macs("vgg16") == 15_470_264_320
    assert len(HAWQ_LAYERS) == 19 and HAWQ_LAYERS[-1] == "layer4.1.conv2"
    with pytest.raises(ValueError, match="unknown network 'lenet'"):
        network("lenet")


def test_hawq_configs_padded_to_the_published_average():
    for name, bits, entry in hawq_configs(HAWQ):
        assert len(bits) == 19
        assert abs(sum(bits.values()) / 19 - entry["avg"]) < 0.01, name


def _counted_bench():
    """Records with the program counts of every fit shape (the regression checks RTL cycles == counts)."""
    recs = []

    def count(ch):
        c = ch.program.counts()
        count.vertical += sum(u.op in (3, 4) for u in ch.program.uops)
        n = ch.col_out[1]
        return np.zeros((n, CFG.rows), bool), np.zeros((ch.row_out[1], CFG.cols), bool), c

    for m in (2, 4, 8, 16):
        for op in ("add", "mul", "relu"):
            signed = op == "relu"
            arrs = check_inputs(op, m, signed, {"a": np.zeros(CFG.rows, int), "b": np.zeros(CFG.rows, int)}
                                if op != "relu" else {"a": np.zeros(CFG.rows, int)})
            count.vertical = 0
            _, c, _ = run_generator(op_chunks(CFG, op, m, signed, arrs), count)
            recs.append({"name": f"f_{op}_m{m}", "op": op, "bits": m, "signed": signed, "ok": True, **c})
        for J in (2, 4, 8, 16, 32, 64):
            for G in {CFG.rows // J, max(1, CFG.rows // J // 2)}:
                arrs = check_inputs("matmul", m, False, {"a": np.zeros((G, J), int), "b": np.zeros((J, 1), int)})
                count.vertical = 0
                _, c, _ = run_generator(op_chunks(CFG, "matmul", m, False, arrs), count)
                recs.append({"name": f"fit_matmul_m{m}_G{G}_J{J}", "op": "matmul", "bits": m, "signed": False,
                             "G": G, "J": J, "ok": True, "vertical": count.vertical, **c})
                for op in ("maxpool", "avgpool"):
                    arrs = check_inputs(op, m, False, {"a": np.zeros(G * J, int)}, J)
                    count.vertical = 0
                    _, c, _ = run_generator(op_chunks(CFG, op, m, False, arrs, J), count)
                    recs.append({"name": f"fit_{op}_m{m}_G{G}_J{J}", "op": op, "bits": m, "signed": False,
                                 "G": G, "J": J, "ok": True, "vertical": count.vertical, **c})
    return {"records": recs}


@pytest.fixture(scope="module")
def measured():
    return CostModel("rtl", _counted_bench())


def test_fit_is_exact(measured):
    assert measured.residual < 1e-6
    # The fitted GEMM model reproduces the program length at a shape it was not fitted on.
    arrs = check_inputs("matmul", 6, False, {"a": np.zeros((4, 16), int), "b": np.zeros((16, 1), int)})
    _, c, _ = run_generator(op_chunks(CFG, "matmul", 6, False, arrs),
                            lambda ch: (np.zeros((ch.col_out[1], CFG.rows), bool),
                                        np.zeros((0, CFG.cols), bool), ch.program.counts()))
    assert round(measured.run("matmul", 6, G=4, J=16)["cycles"]) == c["cycles"]
    assert gemm_features(6, 4, 16)[-1] == 60


@pytest.mark.parametrize("source", ["formula", "rtl"])
def test_paper_findings(source, measured):
    cost = measured if source == "rtl" else CostModel("formula")
    for name in NETWORKS:
        r = {b: estimate_network(name, b, cost) for b in (2, 4, 8, 16)}
        energies = [r[b]["energy_j"] for b in (2, 4, 8, 16)]
        assert all(a < b for a, b in zip(energies, energies[1:])), (name, energies)
        # Latency moves far less than energy between 4 and 8 bits.
        lat = r[4]["latency_s"] / r[8]["latency_s"]
        en = r[4]["energy_j"] / r[8]["energy_j"]
        assert lat > 0.85 and en < 0.75, (name, lat, en)
        if source == "formula":
            assert lat > 0.98
    res = {n: estimate_network("resnet18", b, cost) for n, b, _ in hawq_configs(HAWQ)}
    order = [res[n]["edp"] for n in ("int4", "low", "medium", "high", "int8")]
    assert all(a < b for a, b in zip(order, order[1:])), order


def test_formula_cost_is_the_spec_formula():
    c = CostModel("formula").run("matmul", 8, G=9, J=512)
    assert c["cycles"] == formulas.matmul(8, 9, 512, 1) == 2 * 8 + 8 * 64 + 8 * 9 * 511 + 2 * 8 + 9


def test_estimate_cli(tmp_path, capsys):
    from sim.cli import main
    out = tmp_path / "e.json"
    assert main(["estimate", "cap", "--network", "resnet18", "--costs", "formula", "--bits", "4,8",
                 "--hawq", HAWQ, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "EDP ordering int4 < low < medium < high < int8: yes" in text
    assert json.loads(out.read_text())["hawq_edp_order_ok"] is True
    assert main(["estimate", "cap", "--network", "lenet"]) == 2
    assert main(["estimate", "cap", "--costs", "rtl", "--bench", str(tmp_path / "none.json")]) == 2


def test_estimate_cli_refuses_precisions_the_bench_did_not_measure(tmp_path, capsys):
    from sim.cli import main
    bench = _counted_bench()
    bench["records"] = [r for r in bench["records"] if not (r["op"] == "relu" and r["bits"] == 16)]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(bench))
    assert main(["estimate", "cap", "--costs", "rtl", "--bench", str(path), "--network", "alexnet", "--bits", "16"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no relu measured at 16 bits (measured: 2, 4, 8)" in err[0]
    assert main(["estimate", "cap", "--costs", "rtl", "--bench", str(path), "--network", "alexnet", "--bits", "4,8"]) == 0
    bench["records"][0]["cycles"] = "many"
    path.write_text(json.dumps(bench))
    assert main(["estimate", "cap", "--costs", "rtl", "--bench", str(path), "--network", "alexnet", "--bits", "8"]) == 2
    assert "cycles must be a non-negative number" in capsys.readouterr().err
