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
