"""The RBE on Verilator: the cocotb regression (one build per configuration), jobs through the CLI and the
memory-latency table of docs/rbe.md (the example job, examples/rbe, on the default configuration)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sw.rbe.config import RBEConfig
from sw.rbe.golden import golden
from sw.rbe.job import load_job, read_result, write_job
from tb.rbe.cases import make_case
from tb.rbe.harness import run_regression

ROOT = Path(__file__).resolve().parent.parent
# The default config (10,368 one-bit MACs/cycle) takes 4-7 minutes to build here; CI runs the same regression on
# 9 Cores x 9 Blocks x 4 BinConvs of 8 bits (the full 3x3 mapping, 4x narrower), and `make sim TARGET=rbe`
# runs it on the default config (docs/rbe.md).
CI = RBEConfig.load(ROOT / "configs" / "rbe" / "ci_c9w8_p256.json")
REQUIRED = ("precision_grid", "edge_values", "split_k_out", "throughput_64x64_11x11", "refused_registers",
            "hang_report")


@pytest.mark.rtl
def test_rbe_regression():
    res = run_regression(CI, ROOT / "build" / "tests" / f"pytest-rbe-{CI.name}", n_random=12, seed=1)
    assert not res.returncode_error, f"simulation error: {res.returncode_error}; log {res.log_path}"
    assert {t.name for t in res.tests} >= set(REQUIRED), res.summary()
    failed = [t for t in res.tests if not t.passed]
    assert not failed, "\n".join(f"{t.name}: {t.message}" for t in failed) + f"\nlog: {res.log_path}"
    perf = next(t for t in res.tests if t.name == "throughput_64x64_11x11").data
    assert perf["mac_per_cycle"] >= 0.9 * CI.ideal_mac_per_cycle("3x3", 4, 4)
    assert perf["bin_ops_peak"] == CI.bin_ops_per_cycle == 9 * 9 * 4 * 8
    grid = next(t for t in res.tests if t.name == "precision_grid").data
    assert grid["cases"] == 24


def _job(tmp_path):
    case = make_case("cli", mode="3x3", qa=6, qw=3, qao=5, k_in=64, k_out=32, height=7, width=8, relu=False, seed=11)
    return write_job(tmp_path / "job", CI, case.layer, case.x, case.w, case.kappa, case.lam), case


@pytest.mark.rtl
def test_rtl_job_through_the_cli(tmp_path, capsys):
    job, case = _job(tmp_path)
    assert main(["sim", "rbe", "--job", str(job), "--backend", "rtl"]) == 0
    res = read_result(job / "out-rtl")
    assert res["status"] == "ok" and res["cycles"] > 0 and res["macs"] == case.layer.macs
    assert res["mac_per_cycle"] == round(case.layer.macs / res["cycles"], 3)
    assert res["binary_ops_per_cycle"] > 0 and res["counters"]["passes"] == 4 * (32 // CI.k_tile) * (64 // CI.k_tile) * 2
    np.testing.assert_array_equal(res["y"], golden(case.x, case.w, case.kappa, case.lam, case.layer))
    assert "status ok" in capsys.readouterr().out


def test_golden_job_through_the_cli(tmp_path):
    job, case = _job(tmp_path)
    assert main(["sim", "rbe", "--job", str(job), "--backend", "golden", "--out", str(tmp_path / "g")]) == 0
    res = read_result(tmp_path / "g")
    assert res["status"] == "ok" and res["cycles"] == 0 and res["macs"] == load_job(job).layer.macs
    np.testing.assert_array_equal(res["y"], golden(case.x, case.w, case.kappa, case.lam, case.layer))


def _docs_latency_table():
    """``{latency: cycles}`` from the table between the ``latency`` markers of docs/rbe.md."""
    text = (ROOT / "docs" / "rbe.md").read_text()
    block = text.split("<!-- latency:begin -->")[1].split("<!-- latency:end -->")[0]
    rows = re.findall(r"^\| (\d+) \| ([\d,]+) \|", block, re.M)
    return {int(lat): int(cyc.replace(",", "")) for lat, cyc in rows}


@pytest.mark.rtl
def test_latency_moves_the_cycles_as_the_docs_say(tmp_path):
    """``accelgen sim rbe --latency L`` on examples/rbe (the docs' acceptance layer, default configuration)
    reproduces docs/rbe.md's latency table exactly; the count grows with the latency."""
    table = _docs_latency_table()
    assert set(table) >= {1, 8, 64, 200}, table
    got = {}
    for lat in sorted(table):
        out = tmp_path / f"lat{lat}"
        assert main(["sim", "rbe", "--job", str(ROOT / "examples" / "rbe"), "--latency", str(lat),
                     "--out", str(out)]) == 0
        res = read_result(out)
        assert res["status"] == "ok" and res["latency"] == lat
        job = load_job(ROOT / "examples" / "rbe")
        np.testing.assert_array_equal(res["y"], golden(job.x, job.w, job.kappa, job.lam, job.layer))
        got[lat] = res["cycles"]
    assert got == table, f"measured {got}, docs/rbe.md says {table}"
    lats = sorted(got)
    assert all(got[a] <= got[b] for a, b in zip(lats, lats[1:])) and got[200] > got[64] > got[1]


def test_bad_job_exits_2_and_says_why(tmp_path, capsys):
    job, _ = _job(tmp_path)
    raw = json.loads((job / "job.json").read_text())
    raw["layer"]["k_out"] = 36
    (job / "job.json").write_text(json.dumps(raw))
    assert main(["sim", "rbe", "--job", str(job), "--backend", "rtl"]) == 2
    err = capsys.readouterr().err
    assert "layer.k_out=36 must be a multiple of 8" in err
    assert read_result(job / "out-rtl")["status"] == "error"
