"""The systolic cocotb regression on Verilator (one build per configuration), RTL jobs through the CLI (the
example job, a job at several DMA read latencies)."""

from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sw.systolic import golden
from sw.systolic.config import SystolicConfig
from sw.systolic import schedule as S
from sw.systolic.job import load_job, read_result, write_conv_job
from sw.systolic.layer import ConvLayer
from tb.systolic.cases import cases_for, random_operands
from tb.systolic.harness import run_regression

ROOT = Path(__file__).resolve().parent.parent
# (config, random layers on top of the fixed cases)
CONFIGS = [("r4c4_w1.json", 6), ("r8c8_w4.json", 6), ("default.json", 4)]


@pytest.mark.rtl
@pytest.mark.parametrize("config,n_random", CONFIGS, ids=[c for c, _ in CONFIGS])
def test_systolic_regression(config, n_random):
    cfg = SystolicConfig.load(ROOT / "configs" / "systolic" / config)
    res = run_regression(cfg, ROOT / "build" / "tests" / f"pytest-systolic-{cfg.name}", n_random=n_random, seed=1)
    assert not res.returncode_error, f"simulation error: {res.returncode_error}; log {res.log_path}"
    names = {t.name for t in res.tests}
    for case in cases_for(cfg, n_random, 1):
        assert case.name in names, f"{case.name} did not run (log {res.log_path})"
    assert "hang_reports_cycle_limit" in names
    failed = [t for t in res.tests if not t.passed]
    assert not failed, "\n".join(f"{t.name}: {t.message}" for t in failed) + f"\nlog: {res.log_path}"
    # The counters behind "each vector memory is read at most once every W cycles".
    for t in res.tests:
        if "min_read_gap" in t.data:
            assert t.data["min_read_gap"] >= cfg.W and (cfg.W == 1 or t.data["port_conflicts"] == 0)


@pytest.mark.rtl
def test_rtl_job_through_the_cli(tmp_path, capsys):
    cfg = SystolicConfig.load(ROOT / "configs" / "systolic" / "r4c4_w1.json")
    layer = ConvLayer(2, 7, 6, 5, 6, 3, 3, 2, 1)
    x, w = random_operands(layer, 11)
    job = write_conv_job(tmp_path / "job", cfg, layer, x, w)
    assert main(["sim", "systolic", "--job", str(job)]) == 0
    res = read_result(job / "out-rtl")
    assert res["status"] == "ok" and res["backend"] == "rtl"
    assert res["cycles"] == res["reference"]["model_cycles"] and res["counters"]["dma_cycles"] > 0
    assert res["utilization"] == pytest.approx(layer.macs / (16 * res["cycles"]), abs=1e-6)
    np.testing.assert_array_equal(np.load(job / "out-rtl" / "ofmap.npy"), golden.conv2d(layer, x, w))
    assert "status ok" in capsys.readouterr().out


@pytest.mark.rtl
def test_latency_moves_the_dma_cycles_not_the_array_cycles(tmp_path):
    """``--latency L`` is the DRAM read latency of the DMA's loads: each of the two load commands of a run (vector
    memories, weight banks) waits L cycles for its first beat and streams the rest, so ``dma_cycles`` grows by
    2 x runs x (L - L0); the array's ``cycles`` (operands on chip) do not move."""
    cfg = SystolicConfig.load(ROOT / "configs" / "systolic" / "r4c4_w1.json")
    layer = ConvLayer(1, 9, 8, 6, 5, 3, 3, 1, 1)
    x, w = random_operands(layer, 5)
    job = write_conv_job(tmp_path / "job", cfg, layer, x, w)
    runs = len(S.plan(cfg, layer).runs)
    res = {}
    for lat in (1, 16, 200):
        out = tmp_path / f"lat{lat}"
        assert main(["sim", "systolic", "--job", str(job), "--latency", str(lat), "--out", str(out)]) == 0
        res[lat] = read_result(out)
        assert res[lat]["status"] == "ok" and res[lat]["latency"] == lat
        np.testing.assert_array_equal(np.load(out / "ofmap.npy"), golden.conv2d(layer, x, w))
    assert res[1]["cycles"] == res[16]["cycles"] == res[200]["cycles"] == S.plan(cfg, layer).model_cycles()
    dma = {lat: r["counters"]["dma_cycles"] for lat, r in res.items()}
    assert dma[16] - dma[1] == 2 * runs * 15 and dma[200] - dma[16] == 2 * runs * 184, dma


@pytest.mark.rtl
def test_example_job_on_both_backends(tmp_path):
    ex = ROOT / "examples" / "systolic"
    job = load_job(ex)
    want = golden.conv2d(job.layer, job.ifmap, job.weights)
    for backend in ("golden", "rtl"):
        out = tmp_path / backend
        assert main(["sim", "systolic", "--job", str(ex), "--backend", backend, "--out", str(out)]) == 0
        r = read_result(out)
        assert r["status"] == "ok" and r["outputs"] == {"ofmap": "ofmap.npy"}
        assert r["cycles"] == r["reference"]["model_cycles"]
        np.testing.assert_array_equal(np.load(out / "ofmap.npy"), want)
