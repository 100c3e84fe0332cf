"""accelgen dse commands and the engine bridges (VTA, systolic array)."""

import json

import pytest

from sim.cli import main
from sw.dse import bridges, load_layers
from sw.data import RESNET18_LAYERS

CFG = "configs/dse"
RESNET = str(RESNET18_LAYERS)


def test_cli_energy_reproduction(tmp_path, capsys):
    out = tmp_path / "e.json"
    rc = main(["dse", "energy", "--layer", f"{CFG}/alexnet_conv3_b16.json", "--arch", f"{CFG}/eyeriss_baseline.json",
               "--mapping", f"{CFG}/eyeriss_conv3_mapping.json", "--out", str(out), "--plot-dir", str(tmp_path)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "9,946,550,108.16" in text and "5.578 pJ/MAC" in text
    d = json.loads(out.read_text())
    assert d["results"][0]["energy_per_level_pJ"]["DRAM"] == 2_736_537_600
    assert (tmp_path / "energy-alexnet_conv3_b16.png").stat().st_size > 1000


def test_cli_energy_search_and_errors(tmp_path, capsys):
    rc = main(["dse", "energy", "--layer", f"{CFG}/alexnet_conv3_b1.json", "--arch", f"{CFG}/eyeriss_baseline.json",
               "--dataflow", "C|K", "--out", str(tmp_path / "s.json"), "--no-plot"])
    assert rc == 0
    r = json.loads((tmp_path / "s.json").read_text())["results"][0]
    assert r["dataflow"] == "C16|K16" and r["utilisation"] == 1.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"temporal": {"RF": [["K", 5]]}, "spatial": "C16|K16"}))
    rc = main(["dse", "energy", "--layer", f"{CFG}/alexnet_conv3_b1.json", "--arch", f"{CFG}/eyeriss_baseline.json",
               "--mapping", str(bad), "--no-plot", "--out", str(tmp_path / "b.json")])
    assert rc == 2
    assert "loop K factors 5 (RF) x 16 (spatial) = 80, but layer 'alexnet_conv3_b1' has K = 384" in capsys.readouterr().err


def test_cli_dataflows_and_memory(tmp_path, capsys):
    rc = main(["dse", "dataflows", "--layer", f"{CFG}/alexnet_conv3_b1.json", "--arch", f"{CFG}/eyeriss_baseline.json",
               "--out", str(tmp_path / "d.json"), "--plot-dir", str(tmp_path)])
    assert rc == 0
    d = json.loads((tmp_path / "d.json").read_text())
    assert len(d["pairs"]) == 15 and d["pairs_within"] < 0.046
    # The whole space: never worse than the best loop pair, and exact over what it explores.
    sp = d["space"]
    assert sp["stats"]["exact"] and sp["stats"]["complete"] > 100_000 and sp["stats"]["searched"] >= 1
    assert sp["best"]["energy_pJ"] <= sp["paper_best"]["energy_pJ"] and sp["gain"] >= 0
    assert "whole space:" in capsys.readouterr().out
    assert (tmp_path / "dataflows-alexnet_conv3_b1.png").exists()
    rc = main(["dse", "memory", "--layer", f"{CFG}/alexnet_conv3_b1.json", "--arch", f"{CFG}/explore_16x16.json",
               "--rf", "32,512", "--sram", "128K,256K", "--out", str(tmp_path / "m.json"), "--plot-dir", str(tmp_path)])
    assert rc == 0
    rows = json.loads((tmp_path / "m.json").read_text())["rows"]
    e = {(r["rf_bytes"], r["sram_bytes"]): r["energy_pJ"] for r in rows}
    assert e[512, 262144] > 2 * e[32, 262144]
    assert (tmp_path / "memory-alexnet_conv3_b1.png").exists()


def test_vta_bridge(tmp_path):
    from sw.vta.config import VTAConfig
    cfg = VTAConfig.load("configs/vta/default.json")
    arch = bridges.vta_arch(cfg)
    assert arch.array == (1, 16, 16) and arch.n_per_pe == 0
    assert arch.levels[0].partitions == {"IF": 32768, "FL": 262144, "OF": 131072}
    assert arch.levels[1].bandwidth == 8 and arch.bits == {"IF": 8, "OF": 32, "FL": 8}
    # A per-layer RTL bench file (as a network benchmark would write it) is picked up and compared.
    bench = tmp_path / "vta_resnet18.json"
    bench.write_text(json.dumps([{"layer": "C2", "rtl_cycles": 500000}]))
    rep = bridges.report("vta", layers=RESNET, bench=bench)
    rows = {r["layer"]: r for r in rep["rows"]}
    assert rows["C2"]["compute_cycles"] == 115_605_504 / 256
    assert rows["C2"]["model_over_rtl"] == rows["C2"]["cycles"] / 500000
    assert rows["C1"]["padded_macs"] == rows["C1"]["macs"] * 16 // 3          # C_I 3 padded to BLOCK_IN 16
    assert rows["C4"]["bound"] == "DRAM"                                      # 1x1 stride 2: little reuse
    assert rep["summary"]["network_cycles"] >= 6_623_232                      # never below 256 MAC/cycle


def test_systolic_bridge():
    pytest.importorskip("sw.systolic.config")
    from sw.systolic.config import SystolicConfig
    cfg = SystolicConfig.load("configs/systolic/default.json")
    c1 = [l for l in load_layers(RESNET) if l.name == "C1"][0]
    layer, spatial = bridges.systolic_spatial(cfg, c1)
    assert layer.FX == 10 and [[f for _, f in d] for d in spatial] == [[3, 5], [16]]   # 5 tiles of 7 columns
    r = bridges.estimate(bridges.systolic_arch(cfg), layer, spatial).result
    assert r.compute_cycles == layer.macs / 240


def test_rtl_cycles_from_the_engines_bench_formats(tmp_path):
    # The systolic bench keeps ResNet-18 under groups.resnet18.rows with the layer shape under "layer".
    sysfile = tmp_path / "systolic.json"
    sysfile.write_text(json.dumps({"groups": {"resnet18": {"rows": [
        {"name": "C2", "layer": {"height": 56}, "cycles": 451_621, "source": "rtl"},
        {"name": "C3", "layer": {"height": 56}, "cycles": 9, "source": "model"}]}}}))
    assert bridges.find_rtl_cycles("systolic", sysfile) == ({"C2": 451_621}, sysfile)
    # The VTA network bench names layers after the network; instances of one table shape are averaged.
    vtafile = tmp_path / "vta_resnet18.json"
    vtafile.write_text(json.dumps({"runs": [{"summary": {"label": "resnet18 default"}, "rows": [
        {"name": "s1b0_conv1", "type": "conv2d", "cycles": 100},
        {"name": "s1b0_conv2", "type": "conv2d", "cycles": 300},
        {"name": "pool1", "type": "maxpool", "cycles": 7}]}]}))
    found, f = bridges.find_rtl_cycles("vta", vtafile)
    assert f == vtafile and found == {"C2": 200}


def _tiny_onnx(path):
    """conv 3->8 (float), a QDQ-wrapped conv 8->8 stride 2 (int8 weights behind DequantizeLinear), a
    depthwise conv (group 8), a QLinearConv and a MatMul classifier."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper as nh
    init = [nh.from_array(np.zeros((8, 3, 3, 3), np.float32), "w1"), nh.from_array(np.zeros((8, 8, 3, 3), np.int8), "w2q"),
            nh.from_array(np.array(0.1, np.float32), "sc"), nh.from_array(np.array(0, np.int8), "zp"),
            nh.from_array(np.zeros((8, 1, 3, 3), np.float32), "w3"), nh.from_array(np.zeros((4, 8, 1, 1), np.int8), "w4"),
            nh.from_array(np.zeros((64, 10), np.float32), "wf"), nh.from_array(np.array([1, -1], np.int64), "shp")]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             helper.make_node("QuantizeLinear", ["c1", "sc", "zp"], ["q1"]),
             helper.make_node("DequantizeLinear", ["q1", "sc", "zp"], ["d1"]),
             helper.make_node("DequantizeLinear", ["w2q", "sc", "zp"], ["w2"]),
             helper.make_node("Conv", ["d1", "w2"], ["c2"], name="conv2_qdq", strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["c2", "w3"], ["c3"], name="dw", group=8, pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("QuantizeLinear", ["c3", "sc", "zp"], ["q3"]),
             helper.make_node("QLinearConv", ["q3", "sc", "zp", "w4", "sc", "zp", "sc", "zp"], ["q4"], name="qconv"),
             helper.make_node("DequantizeLinear", ["q4", "sc", "zp"], ["c4"]),
             helper.make_node("Reshape", ["c4", "shp"], ["f"]),
             helper.make_node("MatMul", ["f", "wf"], ["y"], name="fc")]
    g = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 16, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], init)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_cli_energy_model_onnx(tmp_path, capsys):
    model = _tiny_onnx(tmp_path / "tiny.onnx")
    out = tmp_path / "net.json"
    rc = main(["dse", "energy", "--model", str(model), "--arch", f"{CFG}/eyeriss_baseline.json", "--out", str(out),
               "--no-plot"])
    assert rc == 0
    d = json.loads(out.read_text())
    rows = {r["layer"]: r for r in d["layers"]}
    assert set(rows) == {"conv1", "conv2_qdq", "dw", "qconv", "fc"}
    assert rows["dw"]["instances"] == 8 and rows["dw"]["macs"] == 4 * 4 * 9          # one group: K = C = 1
    assert rows["conv2_qdq"]["shape"] == "K8 C8 8x8 3x3/2" and rows["fc"]["macs"] == 640
    assert rows["qconv"]["macs"] == 4 * 8 * 4 * 4
    net = d["network"]
    assert net["energy_pJ"] == pytest.approx(sum(r["energy_pJ"] * r["instances"] for r in d["layers"]))
    assert net["macs"] == 16 * 16 * 8 * 27 + 8 * 8 * 8 * 72 + 8 * 144 + 512 + 640
    assert all(r["search"]["exact"] for r in d["layers"])
    assert "network:" in capsys.readouterr().out


def test_cli_energy_model_resnet18(tmp_path):
    out = tmp_path / "r.json"
    rc = main(["dse", "energy", "--model", "resnet18", "--dataflow", "C|K", "--arch", f"{CFG}/eyeriss_baseline.json",
               "--out", str(out), "--no-plot"])
    assert rc == 0
    d = json.loads(out.read_text())
    assert len(d["layers"]) == 11 and sum(r["instances"] for r in d["layers"]) == 20   # ResNet-18's 20 convs
    assert d["network"]["macs"] == sum(r["macs"] * r["instances"] for r in d["layers"])


@pytest.mark.parametrize("what, message", [
    ("arch", r"eyeriss.json: levels\[1\] \(SRAM\): access_pj must be >= 0 pJ"),
    ("bandwidth", r"eyeriss.json: levels\[2\] \(DRAM\): bandwidth_bytes_per_cycle must be a positive number"),
    ("layer", r"huge.json: .*K = 1,000,000,000 is beyond any DNN layer"),
    ("tiles", r"big.json: layer 'big': loop bounds .* tile candidates per level .* would take hours"),
    ("model", r"missing.onnx: no such file"),
    ("util", r"--min-util must be between 0 and 1"),
])
def test_cli_refuses_nonsense_with_one_line(tmp_path, capsys, what, message):
    d = json.loads(open(f"{CFG}/eyeriss_baseline.json").read())
    layer = f"{CFG}/alexnet_conv3_b1.json"
    extra = []
    if what == "arch":
        d["levels"][1]["access_pj"] = -20
    if what == "bandwidth":
        d["levels"][2]["bandwidth_bytes_per_cycle"] = 0
    (tmp_path / "eyeriss.json").write_text(json.dumps(d))
    if what == "layer":
        layer = tmp_path / "huge.json"
        layer.write_text(json.dumps({"name": "huge", "K": 10 ** 9, "C": 3, "X": 1, "Y": 1, "FX": 1, "FY": 1}))
    if what == "tiles":
        layer = tmp_path / "big.json"
        layer.write_text(json.dumps({"name": "big", "B": 720720, "K": 720720, "C": 5040, "X": 1, "Y": 1, "FX": 1,
                                     "FY": 1}))
    if what == "util":
        extra = ["--min-util", "2"]
    if what == "model":
        argv = ["dse", "energy", "--model", str(tmp_path / "missing.onnx"), "--arch", str(tmp_path / "eyeriss.json")]
    else:
        argv = ["dse", "dataflows", "--layer", str(layer), "--arch", str(tmp_path / "eyeriss.json")] + extra
    rc = main(argv + ["--no-plot", "--out", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1, err
    assert __import__("re").search(message, err), err


def test_cli_dataflows_beats_zigzags_winner_on_c10(tmp_path, capsys):
    from sw.dse import load_arch
    from sw.dse.search import search_blocking
    rc = main(["dse", "dataflows", "--layer", RESNET, "--name", "C10", "--arch", f"{CFG}/eyeriss_baseline.json",
               "--out", str(tmp_path / "c10.json"), "--no-plot"])
    assert rc == 0
    sp = json.loads((tmp_path / "c10.json").read_text())["space"]
    c10 = [l for l in load_layers(RESNET) if l.name == "C10"][0]
    zz = search_blocking(c10, load_arch(f"{CFG}/eyeriss_baseline.json"), "C16|K16").result   # ZigZag's winner
    assert sp["best"]["energy_pJ"] <= float(zz.total)
    assert sp["gain"] > 0.01                     # the paper's best C16|Y7 leaves 56% of the PEs idle
    assert "gain over the best loop pair" in capsys.readouterr().out


def test_model_layers_agree_across_float_qdq_qoperator_and_graph_folder(tmp_path):
    # The tiny model of sw.graph (grouped and depthwise convs, pools, concat, Gemm) in every form --model reads.
    pytest.importorskip("onnxruntime")
    from sw.dse.onnx_layers import network_layers
    from sw.graph.models import build
    from sw.graph.onnx_import import import_onnx
    from sw.graph.serialize import save
    mf = build("tiny", out=tmp_path)
    save(import_onnx(str(mf.qdq)), tmp_path / "graph")

    def shapes(spec):
        return [(l.bounds, l.stride_x, n) for l, n in network_layers(spec)]
    ref = shapes(mf.float)
    assert len(ref) == 5 and ((1, 1, 1, 6, 6, 3, 3), 2, 8) in ref          # depthwise: 8 instances of K = C = 1
    assert shapes(mf.qdq) == ref and shapes(mf.qoperator) == ref and shapes(tmp_path / "graph") == ref


def test_model_reads_the_whole_resnet18_graph(tmp_path):
    # sw.graph's ResNet-18 (torchvision shapes): its 20 convolutions are the table's 11 shapes with their instance
    # counts, plus the 512 -> 1000 classifier.
    import onnx
    from sw.dse.onnx_layers import network_layers
    from sw.graph.models import resnet18_float
    onnx.save(resnet18_float(), str(tmp_path / "r18.onnx"))
    got = {(l.bounds, l.stride_x): n for l, n in network_layers(tmp_path / "r18.onnx")}
    table = {(l.bounds, l.stride_x): n for l, n in network_layers("resnet18")}
    fc = {k: n for k, n in got.items() if k[0][1:] == (1000, 512, 1, 1, 1, 1)}
    assert len(fc) == 1 and {k: n for k, n in got.items() if k not in fc} == table
    assert sum(table.values()) == 20
