"""The VTA cocotb regression on Verilator, one Verilator build per configuration."""

from pathlib import Path

import pytest

from sw.vta.config import VTAConfig
from tb.vta.harness import run_regression

ROOT = Path(__file__).resolve().parent.parent
# (config file, random programs): the default config carries the 200 random programs CI must run.
CONFIGS = [("default.json", 200), ("b2x8x8_bus256.json", 100), ("in16_out8_bus128.json", 50)]


@pytest.mark.rtl
@pytest.mark.parametrize("config,n_random", CONFIGS, ids=[c for c, _ in CONFIGS])
def test_vta_regression(config, n_random):
    cfg = VTAConfig.load(ROOT / "configs" / "vta" / config)
    res = run_regression(cfg, ROOT / "build" / "tests" / f"pytest-vta-{cfg.name}", n_random=n_random)
    assert not res.returncode_error, f"simulation error: {res.returncode_error}; log {res.log_path}"
    names = {t.name for t in res.tests}
    for required in ("save_load", "gemm_2threads", "gemm_back_to_back_same_acc", "gemm_long", "alu_vec_long",
                     "random_programs", "deadlock_reports_queue", "unknown_opcode_reports_index"):
        assert required in names, f"{required} did not run (log {res.log_path})"
    failed = [t for t in res.tests if not t.passed]
    assert not failed, "\n".join(f"{t.name}: {t.message}" for t in failed) + f"\nlog: {res.log_path}"
    random = next(t for t in res.tests if t.name == "random_programs")
    assert random.data["programs"] == n_random
