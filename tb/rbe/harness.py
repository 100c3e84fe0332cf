"""Host side of the RBE testbenches: build the RTL of a config (cached) and run cocotb modules on it.

Used by the RTL backend (:mod:`tb.rbe.backend`), ``accelgen regress rbe``, the pytest entry points and the
benchmark. Run options (memory latency, seed, cycle limit) travel to the cocotb modules as one
:class:`sw.common.contract.RunOptions` (``RunOptions.to_env()`` here, ``RunOptions.from_env()`` there).
"""

import json
import os
from pathlib import Path

from sim.runner import run_cocotb
from sim.simtop import SimTop
from sim.verilator import build
from sim.verilog import REPO_ROOT, generate
from sw.common.contract import RunOptions
from sw.rbe.config import RBEConfig
from sw.rbe.job import DEFAULT_LATENCY, MEMORY_BYTES_LOG2

__all__ = ["DRAM_BYTES_LOG2", "dram_capacity", "rbe_verilog", "rbe_build", "run_regression", "run_cases",
           "env_config", "run_options", "ENV_CONFIG", "ENV_JOB", "ENV_OUT", "ENV_CASES", "ENV_RANDOM",
           "DEFAULT_LATENCY"]

#: Bytes of simulated memory (16 MiB): any single layer of the benchmarks fits; larger jobs are refused up front.
DRAM_BYTES_LOG2 = MEMORY_BYTES_LOG2
ENV_CONFIG = "RBE_CONFIG"
ENV_JOB = "RBE_JOB"
ENV_OUT = "RBE_OUT"
ENV_CASES = "RBE_CASES"
ENV_RANDOM = "RBE_RANDOM"

# sw modules the generator imports: they enter the Verilog cache key with hw/.
_SW_SOURCES = [REPO_ROOT / "sw" / "rbe" / f for f in ("config.py", "regs.py", "layer.py", "layout.py")] \
    + [REPO_ROOT / "sw" / "common" / "regs.py"]


def dram_capacity(cfg: RBEConfig) -> int:
    return 1 << DRAM_BYTES_LOG2


def _depth_log2(cfg):
    return DRAM_BYTES_LOG2 - (cfg.port_bytes.bit_length() - 1)


def rbe_verilog(cfg: RBEConfig, *, out_root="build/verilog"):
    """Verilog of ``SimTop(RBE(cfg))``, cached by config and generator source."""
    from hw.rbe.engine import RBE
    key = {"engine": "rbe", "config": cfg.to_dict(), "dram_depth_log2": _depth_log2(cfg)}
    return generate("rbe", lambda: SimTop(RBE(cfg), dram_depth_log2=_depth_log2(cfg)), key, out_root,
                    extra_files=_SW_SOURCES)


def rbe_build(cfg: RBEConfig, *, waves=False):
    """Verilator build for ``cfg`` (one per configuration, reused by every test)."""
    return build(rbe_verilog(cfg), waves=waves)


def _env(cfg, options: RunOptions):
    return {ENV_CONFIG: json.dumps(cfg.to_dict()), **options.with_defaults(latency=DEFAULT_LATENCY).to_env()}


def run_regression(cfg: RBEConfig, test_dir, *, testcase=None, waves=False, n_random=None, seed=None,
                   latency=None):
    """Run :mod:`tb.rbe.test_rbe` for ``cfg``; returns :class:`sim.runner.RunResult`."""
    env = _env(cfg, RunOptions(latency=latency, seed=seed, waves=waves))
    if n_random is not None:
        env[ENV_RANDOM] = str(n_random)
    return run_cocotb(rbe_build(cfg, waves=waves), "tb.rbe.test_rbe", testcase=testcase, test_dir=test_dir,
                      env=env, waves=waves)


def run_cases(cfg: RBEConfig, cases_file, test_dir, *, latency=None):
    """Run the cases listed in ``cases_file`` (JSON, see :mod:`tb.rbe.run_cases`) in one simulation."""
    env = _env(cfg, RunOptions(latency=latency))
    env[ENV_CASES] = str(Path(cases_file).resolve())
    return run_cocotb(rbe_build(cfg), "tb.rbe.run_cases", test_dir=test_dir, env=env)


def env_config() -> RBEConfig:
    return RBEConfig.from_dict(json.loads(os.environ[ENV_CONFIG]))


def run_options() -> RunOptions:
    """The run options the host put in the environment, with the RBE's default latency."""
    return RunOptions.from_env().with_defaults(latency=DEFAULT_LATENCY)
