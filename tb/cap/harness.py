"""Host side of the CAP testbenches: build the RTL of a config (cached) and run cocotb modules on it.

Used by the RTL backend (:mod:`tb.cap.backend`), ``accelgen regress cap``, the pytest entry points and the
bench. Run options (seed, latency, cycle limit) travel as :class:`sw.common.contract.RunOptions`.
"""

import json
import os
from pathlib import Path

from sim.runner import run_cocotb
from sim.simtop import SimTop
from sim.verilator import build
from sim.verilog import generate
from sw.cap.config import CAPConfig
from sw.common.contract import RunOptions

__all__ = ["cap_verilog", "cap_build", "run_regression", "run_bench_rtl", "env_config",
           "ENV_CONFIG", "ENV_JOB", "ENV_OUT", "ENV_RANDOM", "DRAM_DEPTH_LOG2"]

ENV_CONFIG = "CAP_CONFIG"
ENV_JOB = "CAP_JOB"
ENV_OUT = "CAP_OUT"
ENV_RANDOM = "CAP_RANDOM"
ENV_BENCH = "CAP_BENCH"
#: 2^20 words of 64 bits (8 MiB): more than a program memory plus both buffers of any config.
DRAM_DEPTH_LOG2 = 20


def cap_verilog(cfg: CAPConfig, *, out_root="build/verilog"):
    """Verilog of ``SimTop(CAP(cfg))``, cached by config and generator source."""
    from hw.cap.cap import CAP
    key = {"engine": "cap", "config": cfg.to_dict(), "dram_depth_log2": DRAM_DEPTH_LOG2}
    return generate("cap", lambda: SimTop(CAP(cfg), dram_depth_log2=DRAM_DEPTH_LOG2), key, out_root)


def cap_build(cfg: CAPConfig, *, waves=False):
    """Verilator build for ``cfg`` (one per configuration, reused by every test and every precision)."""
    return build(cap_verilog(cfg), waves=waves)


def _env(cfg, **extra):
    return {ENV_CONFIG: json.dumps(cfg.to_dict()), **{k: str(v) for k, v in extra.items()}}


def test_names() -> list[str]:
    """Names of the cocotb tests of :mod:`tb.cap.test_cap` (read from its source: importing it needs cocotb)."""
    import ast
    tree = ast.parse((Path(__file__).resolve().parent / "test_cap.py").read_text())
    return [f.name for f in tree.body if isinstance(f, ast.AsyncFunctionDef)
            and any("cocotb.test" in ast.unparse(d) for d in f.decorator_list)]


def run_regression(cfg: CAPConfig, test_dir, *, testcase=None, waves=False, n_random=20, seed=None):
    """Run :mod:`tb.cap.test_cap` for ``cfg``; returns :class:`sim.runner.RunResult`.

    Raises
    ------
    BadInput
        For a ``testcase`` that is not a test (before anything runs or is written).
    """
    from sw.common.contract import BadInput
    unknown = sorted(set(testcase or ()) - set(test_names()))
    if unknown:
        raise BadInput(f"--testcase: no test {unknown[0]!r}; tests: {', '.join(test_names())}")
    env = {**_env(cfg, **{ENV_RANDOM: n_random}), **RunOptions(seed=seed, waves=waves).to_env()}
    return run_cocotb(cap_build(cfg, waves=waves), "tb.cap.test_cap", testcase=testcase, test_dir=test_dir,
                      env=env, waves=waves)


def run_bench_rtl(cfg: CAPConfig, cases_file, out_file, test_dir):
    """Run the cases of ``cases_file`` (JSON list of ops) on the RTL; the cocotb module writes ``out_file``."""
    env = _env(cfg, **{ENV_BENCH: Path(cases_file).resolve(), ENV_OUT: Path(out_file).resolve()})
    return run_cocotb(cap_build(cfg), "tb.cap.run_bench", test_dir=test_dir, env=env)


def env_config() -> CAPConfig:
    return CAPConfig.from_dict(json.loads(os.environ[ENV_CONFIG]))
