"""End-to-end on the RTL: compiled layers (conv with residual on the GEMM, max pooling, dense) run in one
simulation, match the golden model byte for byte and the numpy reference; timelines and rooflines are drawn;
``accelgen trace diff`` finds no divergence on a real program and reports an injected one."""

import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sw.vta.job import load_job, read_result
from sw.vta.config import VTAConfig
from sw.vta.network import load_network
from sw.vta.compile import compile_network
from sw.vta.plots import timeline_fractions
from tb.vta.network_run import run_network

ROOT = Path(__file__).resolve().parent.parent
CFG = VTAConfig.load(ROOT / "configs" / "vta" / "default.json")

NET = {"name": "ci", "seed": 5, "input": {"channels": 64, "height": 14, "width": 14}, "layers": [
    {"name": "conv", "type": "conv2d", "out_channels": 64, "kernel": 3, "pad": 1, "shift": 9, "relu": True,
     "wmax": 15},
    {"name": "res", "type": "conv2d", "out_channels": 64, "kernel": 3, "pad": 1, "shift": 9, "relu": True,
     "residual": "input", "residual_scale": 32, "wmax": 15},
    {"name": "pool", "type": "maxpool", "kernel": 3, "stride": 2, "pad": 1},
    {"name": "gpool", "type": "avgpool", "kernel": 7, "stride": 7, "shift": 5},
    {"name": "fc", "type": "dense", "out_features": 24, "shift": 7, "wmax": 31}]}


@pytest.mark.rtl
def test_layers_on_rtl_match_golden_and_reference(tmp_path):
    net = load_network(NET)
    compile_network(net, CFG, tmp_path)
    rows = run_network(tmp_path, backend="rtl", sample=500, show=False)
    assert [r["name"] for r in rows] == [L.name for L in net.layers]
    for r in rows:
        assert r["status"] == "ok" and r["match"], f"{r['name']}: {r['message']}"
        assert "equals the golden model" in r["message"]
    conv = rows[0]
    macs = 64 * 64 * 9 * 14 * 14
    assert conv["macs"] == macs
    # The GEMM runs one micro-op per cycle: busy = MACs / 256 plus a few cycles of pipeline per instruction.
    units = json.loads((tmp_path / "00_conv" / "layer.json").read_text())["tps"]["units"]
    c = conv["counters"]
    assert macs // 256 <= c["gemm_busy"] <= macs // 256 + 8 * units
    assert c["alu_busy"] <= 4 * 14 * 14 + 8 * units              # the bias MOV only (requantised in the STORE)
    assert conv["cycles"] < 1.25 * macs / 256, conv["cycles"]      # loads and stores overlap the GEMM
    # Residual layer: one extra GEMM iteration per output entry, no ALU work beyond the bias MOV.
    r = rows[1]["counters"]
    assert r["gemm_busy"] >= macs // 256 + 4 * 14 * 14 and r["alu_busy"] <= 4 * 14 * 14 + 8 * units
    # The sampled timeline is consistent with the final counters.
    tl = json.loads((tmp_path / "00_conv" / "out-rtl" / "timeline.json").read_text())
    x, fr = timeline_fractions(tl)
    assert x[-1] == conv["cycles"] and len(x) >= 5
    assert 0.5 < float(np.mean(fr["gemm_busy"])) <= 1.0
    # Plots: a roofline for the network, a timeline per layer.
    assert main(["plot", str(tmp_path), "--out", str(tmp_path / "png")]) == 0
    assert (tmp_path / "png" / "roofline.png").stat().st_size > 5000
    assert (tmp_path / "png" / "timeline_conv.png").stat().st_size > 5000


@pytest.mark.rtl
def test_trace_diff_finds_no_divergence_then_an_injected_one(tmp_path, capsys):
    from sw.vta.randprog import random_job
    from sw.vta import golden
    from sw.vta.trace import first_divergence
    cfg = VTAConfig.from_dict({"LOG_BLOCK": 3, "LOG_INP_BUFF_SIZE": 10, "LOG_WGT_BUFF_SIZE": 12,
                               "LOG_ACC_BUFF_SIZE": 11, "LOG_UOP_BUFF_SIZE": 10, "BUS_WIDTH": 64})
    job = random_job(cfg, 7, tmp_path / "job")
    assert main(["trace", "diff", "vta", "--job", str(job)]) == 0
    out = capsys.readouterr().out
    assert "no divergence" in out, out
    rtl = [json.loads(line) for line in (Path(job) / "trace" / "rtl_trace.jsonl").read_text().splitlines()]
    assert len(rtl) > 20
    g = []
    golden.run(cfg, load_job(job).dram, load_job(job).insn_addr, load_job(job).insn_count, trace=g)
    # Flip one bit of one RTL acc write: the diff names that write.
    rt = [(i, m, a, bytes.fromhex(d)) for i, m, a, d in rtl]
    k = max(n for n, w in enumerate(rt) if w[1] == "acc")
    i, m, a, d = rt[k]
    rt[k] = (i, m, a, bytes([d[0] ^ 1]) + d[1:])
    div = first_divergence(g, rt)
    assert div["memory"] == "acc" and div["rtl"] == rt[k] and div["instruction"] == i
    assert read_result(Path(job) / "trace")["status"] == "ok"
