"""The CAP cocotb regression on Verilator (one build for every precision), and a job through the CLI on the RTL."""

from pathlib import Path

import numpy as np
import pytest

from sw.cap.config import CAPConfig
from tb.cap.harness import run_regression

ROOT = Path(__file__).resolve().parent.parent
CFG = CAPConfig.load(ROOT / "configs" / "cap" / "default.json")


@pytest.mark.rtl
def test_cap_regression():
    res = run_regression(CFG, ROOT / "build" / "tests" / f"pytest-cap-{CFG.name}", n_random=20)
    assert not res.returncode_error, f"simulation error: {res.returncode_error}; log {res.log_path}"
    names = {t.name for t in res.tests}
    for required in ("every_op_every_precision", "folding", "random_ops", "cycles_vs_formulas", "errors_are_reported"):
        assert required in names, f"{required} did not run (log {res.log_path})"
    failed = [t for t in res.tests if not t.passed]
    assert not failed, "\n".join(f"{t.name}: {t.message}" for t in failed) + f"\nlog: {res.log_path}"
    every = next(t for t in res.tests if t.name == "every_op_every_precision")
    assert every.data["cases"] >= 8 * 9 * 2 and every.data["failures"] == 0


@pytest.mark.rtl
def test_cli_job_rtl_matches_golden(tmp_path):
    from sim.cli import main
    from sw.cap.job import read_cap_result, write_cap_job
    rng = np.random.default_rng(11)
    ops = [{"op": "mul", "bits": 5, "signed": "mixed", "inputs": {"a": rng.integers(0, 32, 70),
                                                                 "b": rng.integers(-16, 16, 70)}},
           {"op": "matmul", "bits": 3, "signed": True, "inputs": {"a": rng.integers(-4, 4, (3, 5)),
                                                                 "b": rng.integers(-4, 4, (5, 2))}},
           {"op": "avgpool", "bits": 6, "signed": False, "inputs": {"a": rng.integers(0, 64, (2, 8))}, "window": 4}]
    job = write_cap_job(tmp_path / "job", CFG, ops)
    assert main(["sim", "cap", "--job", str(job), "--backend", "golden"]) == 0
    assert main(["sim", "cap", "--job", str(job), "--backend", "rtl"]) == 0
    g, r = read_cap_result(job / "out-golden"), read_cap_result(job / "out-rtl")
    assert r["status"] == "ok" and r["ops"] == g["ops"]
    for a, b in zip(r["outputs"], g["outputs"]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(r["outputs"][0], ops[0]["inputs"]["a"] * ops[0]["inputs"]["b"])
    np.testing.assert_array_equal(r["outputs"][1], ops[1]["inputs"]["a"] @ ops[1]["inputs"]["b"])


@pytest.mark.rtl
def test_latency_moves_total_cycles_as_the_docs_say(tmp_path):
    """docs/cap.md: cycles and counters do not depend on --latency; total_cycles grows by dma_read_bursts per
    latency cycle (examples/cap: 5,451 at latency 1, 5,470 at 2, 6,648 at 64)."""
    import json
    from sim.cli import main
    ex = ROOT / "examples" / "cap"
    assert main(["sim", "cap", "--job", str(ex), "--backend", "golden", "--out", str(tmp_path / "g")]) == 0
    g = json.loads((tmp_path / "g" / "result.json").read_text())
    res = {}
    for lat in (1, 2, 64):
        out = tmp_path / f"l{lat}"
        assert main(["sim", "cap", "--job", str(ex), "--backend", "rtl", "--latency", str(lat), "--out", str(out)]) == 0
        res[lat] = json.loads((out / "result.json").read_text())
        assert res[lat]["latency"] == lat
        assert res[lat]["counters"] == g["counters"] and res[lat]["ops"] == g["ops"]
        for k in range(3):
            np.testing.assert_array_equal(np.load(out / f"op{k}.npy"), np.load(tmp_path / "g" / f"op{k}.npy"))
    bursts = g["dma_read_bursts"]
    assert bursts == 19
    for lat in (2, 64):
        assert res[lat]["total_cycles"] - res[1]["total_cycles"] == (lat - 1) * bursts
    assert (res[1]["total_cycles"], res[2]["total_cycles"], res[64]["total_cycles"]) == (5451, 5470, 6648)
    # the cycle limit stops the RTL with status timeout and says what waits on what
    out = tmp_path / "limit"
    assert main(["sim", "cap", "--job", str(ex), "--backend", "rtl", "--cycle-limit", "3000", "--out", str(out)]) == 1
    r = json.loads((out / "result.json").read_text())
    assert r["status"] == "timeout" and "the cycle limit 3,000 reached with the run still busy" in r["message"]
