"""The VTA compiler on the golden model: every layer kind and lowering path against the numpy reference."""

import json

import numpy as np
import pytest

from sw.vta.job import load_job
from sw.vta.compile import blocked, check_output, compile_layer, compile_network, read_output, unblocked
from sw.vta.config import VTAConfig
from sw.vta.golden import run_job
from sw.vta.network import NetworkError, load_network, run_reference
from sw.vta.tps import MapError, Tiling, conv_geom, evaluate, naive_bytes, search

CFG = VTAConfig()

TINY = {"name": "tiny", "seed": 3, "input": {"channels": 32, "height": 10, "width": 12}, "layers": [
    {"name": "c1", "type": "conv2d", "out_channels": 48, "kernel": 3, "pad": 1, "shift": 10, "relu": True, "wmax": 31},
    {"name": "c2", "type": "conv2d", "out_channels": 48, "kernel": 3, "stride": 2, "pad": 1, "shift": 10,
     "relu": True, "wmax": 31},
    {"name": "d", "type": "conv2d", "input": "c1", "out_channels": 48, "kernel": 1, "stride": 2, "shift": 8,
     "wmax": 31},
    # residual on the GEMM (int8 scale), on the ALU with MUL, and with the default 1 << shift (SHR)
    {"name": "r_gemm", "type": "conv2d", "input": "c2", "out_channels": 48, "kernel": 3, "pad": 1, "shift": 10,
     "relu": True, "residual": "d", "residual_scale": -77, "wmax": 31},
    {"name": "r_mul", "type": "conv2d", "out_channels": 48, "kernel": 3, "pad": 1, "shift": 10,
     "relu": True, "residual": "c2", "residual_scale": 300, "wmax": 31},
    {"name": "r_shl", "type": "conv2d", "out_channels": 48, "kernel": 3, "pad": 1, "shift": 17, "relu": False,
     "residual": "d", "wmax": 127},
    {"name": "g", "type": "conv2d", "out_channels": 48, "kernel": 3, "pad": 1, "groups": 3, "shift": 9, "relu": True,
     "wmax": 31},
    {"name": "mp", "type": "maxpool", "kernel": 3, "stride": 2, "pad": 1},
    {"name": "ad", "type": "add", "input": ["mp", "mp"], "relu": True},
    {"name": "ap", "type": "avgpool", "kernel": 3, "stride": 3, "shift": 3},
    {"name": "fc", "type": "dense", "out_features": 10, "shift": 8, "wmax": 31}]}


@pytest.fixture(scope="module")
def tiny():
    return load_network(TINY)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
def test_every_layer_matches_reference(tiny, tmp_path, fused):
    m = compile_network(tiny, CFG, tmp_path, fused=fused)
    assert [L["name"] for L in m["layers"]] == [L.name for L in tiny.layers]
    ref = run_reference(tiny)
    for L in m["layers"]:
        job = tmp_path / L["job"]
        r = run_job(load_job(job))
        assert r.status == "ok", (L["name"], r.message)
        ok, msg = check_output(job, r.dram)
        assert ok, f"{L['name']}: {msg}"
        out = ref[L["name"]]
        assert np.count_nonzero(out) > out.size // 10, f"{L['name']}: reference output is almost all zero"
        rec = json.loads((job / "layer.json").read_text())
        assert rec["dram_bytes"]["total"] > 0 and rec["insns"] == load_job(job).insn_count


def test_fused_requant_saves_alu_work(tiny, tmp_path):
    fused = compile_layer(tiny.layer("c1"), CFG, run_reference(tiny), tmp_path / "f", fused=True)
    plain = compile_layer(tiny.layer("c1"), CFG, run_reference(tiny), tmp_path / "p", fused=False)
    n = 48 * 10 * 12 // 16   # output entries
    assert fused["alu_iterations"] == n                # the bias MOV only
    assert plain["alu_iterations"] == 4 * n            # MOV + SHR + MAX + MIN
    assert fused["gemm_iterations"] == plain["gemm_iterations"] == n * 2 * 9


def test_tilings_are_all_correct(tiny, tmp_path):
    """Several explicit tilings of one layer (double-buffered input/acc, weights per unit, both orders)."""
    layer = tiny.layer("c1")
    t = run_reference(tiny)
    for til in [Tiling(1, 1, 1, "hw"), Tiling(3, 3, 2, "hw"), Tiling(4, 1, 1, "oc"), Tiling(10, 3, 2, "hw")]:
        rec = compile_layer(layer, CFG, t, tmp_path / "j", tiling=til)
        r = run_job(load_job(tmp_path / "j"))
        assert check_output(tmp_path / "j", r.dram)[0], til
        assert rec["tiling"] == til.to_dict()


def test_blocked_layout_round_trip():
    x = np.random.default_rng(0).integers(-128, 128, (20, 3, 5)).astype(np.int8)
    b = blocked(x, 16)
    assert b.shape == (2 * 3 * 5, 1, 16)
    assert b[(1 * 3 + 2) * 5 + 4, 0, 3] == x[19, 2, 4] and b[(1 * 3 + 2) * 5 + 4, 0, 4] == 0   # padded channel
    assert (unblocked(b, x.shape) == x).all()


def test_tps_resnet_layers_reduce_dram_traffic():
    """C2..C11 of the VTA benchmark: a fitting tiling, at least 10x fewer bytes than the no-reuse schedule."""
    from sw.vta.network import Layer
    for name, h, cin, cout, k, s in [("C2", 56, 64, 64, 3, 1), ("C4", 56, 64, 128, 1, 2), ("C9", 14, 256, 512, 3, 2),
                                     ("C11", 7, 512, 512, 3, 1)]:
        p = k // 2
        oh = (h + 2 * p - k) // s + 1
        g = conv_geom(Layer(name, "conv2d", ["input"], (cin, h, h), (cout, oh, oh), k, s, p), CFG)
        for objective in ("bytes", "cycles"):
            t, r, n = search(g, CFG, objective=objective)
            assert r["fits"] and n > 50
            assert naive_bytes(g) >= 10 * r["dram_bytes"], (name, objective, naive_bytes(g), r["dram_bytes"])
        # every input byte and output byte moves at least once
        assert r["dram_bytes"] >= cout * oh * oh + g.wgt_entries * 256


def test_unmappable_layers_are_named():
    net = load_network({"input": {"channels": 24, "height": 4, "width": 4}, "layers": [
        {"name": "odd_groups", "type": "conv2d", "out_channels": 24, "kernel": 3, "pad": 1, "groups": 3}]})
    with pytest.raises(MapError, match="odd_groups.*multiple of the block size"):
        conv_geom(net.layers[0], CFG)
    wide = load_network({"input": {"channels": 512, "height": 2, "width": 600}, "layers": [
        {"name": "too_wide", "type": "conv2d", "out_channels": 16, "kernel": 3, "pad": 1}]})
    with pytest.raises(MapError, match="too_wide.*no tiling fits"):
        search(conv_geom(wide.layers[0], CFG), CFG)


def test_channel_padding_is_reported(tmp_path):
    net = load_network({"input": {"channels": 3, "height": 6, "width": 6}, "layers": [
        {"name": "rgb", "type": "conv2d", "out_channels": 20, "kernel": 3, "pad": 1, "shift": 6, "wmax": 63}]})
    rec = compile_layer(net.layers[0], CFG, run_reference(net), tmp_path)
    assert any("in_channels 3 padded to 16" in n for n in rec["notes"])
    assert any("out_channels 20 padded to 32" in n for n in rec["notes"])
    r = run_job(load_job(tmp_path))
    assert check_output(tmp_path, r.dram)[0] and read_output(tmp_path, r.dram).shape == (20, 6, 6)


@pytest.mark.parametrize("layer,match", [
    ({"name": "x", "type": "conv3d"}, "type must be one of"),
    ({"name": "x", "type": "conv2d", "out_channels": 8}, "missing 'kernel'"),
    ({"name": "x", "type": "conv2d", "out_channels": 8, "kernel": 3, "bogus": 1}, "unknown key"),
    ({"name": "x", "type": "conv2d", "out_channels": 8, "kernel": 3, "input": "nope"}, "not an earlier layer"),
    ({"name": "x", "type": "maxpool", "kernel": 9}, "leave no output"),
    ({"name": "x", "type": "conv2d", "out_channels": 8, "kernel": 1, "residual": "input"}, "residual"),
])
def test_bad_network_errors_name_the_layer(layer, match):
    with pytest.raises(NetworkError, match=match):
        load_network({"input": {"channels": 16, "height": 4, "width": 4}, "layers": [layer]})


def test_cli_compile_and_run_golden(tmp_path, capsys):
    from sim.cli import main
    net = tmp_path / "net.json"
    net.write_text(json.dumps({"name": "cli", "seed": 1, "input": {"channels": 16, "height": 6, "width": 6},
                               "layers": [TINY["layers"][0] | {"name": "a"}, {"name": "p", "type": "maxpool",
                                                                            "kernel": 2}]}))
    assert main(["compile", str(net), "--out", str(tmp_path / "out"), "--plain"]) == 0
    assert main(["run", str(tmp_path / "out"), "--backend", "golden"]) == 0
    out = capsys.readouterr().out
    assert "2/2 layers match" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"input": {"channels": 16, "height": 6, "width": 6},
                               "layers": [{"name": "g", "type": "conv2d", "out_channels": 16, "kernel": 3,
                                           "groups": 16}]}))
    assert main(["compile", str(bad), "--out", str(tmp_path / "bad")]) == 2
    assert "layer 'g': grouped convolution" in capsys.readouterr().err
