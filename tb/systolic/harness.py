"""Host side of the systolic testbenches: build the RTL of a config (cached) and run cocotb modules on it.

Used by the RTL backend (:mod:`tb.systolic.backend`), ``accelgen regress systolic``, ``make sim TARGET=systolic``,
the pytest entry points, the benchmark and the FPGA workloads. Cases and layers travel to the simulator as JSON
in environment variables, the run options (seed, DMA read latency) as one :class:`sw.common.contract.RunOptions`.
"""

import json
import os
import re
from pathlib import Path

from sim.runner import run_cocotb
from sim.simtop import SimTop
from sim.verilator import build
from sim.verilog import REPO_ROOT, generate
from sw.common.contract import RunOptions
from sw.systolic.config import SystolicConfig
from sw.systolic.job import DEFAULT_LATENCY
from tb.systolic.driver import dram_depth_log2

__all__ = ["systolic_verilog", "systolic_build", "run_regression", "run_job_rtl", "run_layers_rtl",
           "env_config", "run_options", "ENV_CONFIG", "ENV_JOB", "ENV_OUT", "ENV_RANDOM", "ENV_LAYERS"]

ENV_CONFIG = "SYSTOLIC_CONFIG"
ENV_JOB = "SYSTOLIC_JOB"
ENV_OUT = "SYSTOLIC_OUT"
ENV_RANDOM = "SYSTOLIC_RANDOM"
ENV_LAYERS = "SYSTOLIC_LAYERS"

# sw modules the generator imports: they enter the Verilog cache key with hw/.
_SW_SOURCES = [REPO_ROOT / "sw" / "systolic" / f for f in ("config.py", "regs.py")] \
    + [REPO_ROOT / "sw" / "common" / "regs.py"]


def _strip_zero_memory_init(path: Path):
    """Drop the ``initial`` blocks that zero each memory word by word (Amaranth always emits them).

    Every vector-memory, weight-bank and accumulator word is written (by the DMA or by the first fold) before
    it is read, so the simulation does not need them, and Verilator would spend minutes compiling hundreds of
    thousands of constant assignments. Blocks that set anything other than zero are kept.
    """
    text = path.read_text()
    if "initial begin" not in text:
        return
    out, block = [], None
    for line in text.splitlines(keepends=True):
        if block is None:
            if line.strip() == "initial begin":
                block = [line]
            else:
                out.append(line)
            continue
        block.append(line)
        if line.strip() == "end":
            body = block[1:-1]
            if not body or not all(_ZERO_WORD.match(b) for b in body):
                out.extend(block)
            block = None
    out.extend(block or [])
    new = "".join(out)
    if new != text:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(new)
        tmp.replace(path)


_ZERO_WORD = re.compile(r"^\s+[\w$\\.]+\[\d+\] = \d+'[dhb]0+;\s*$")


def systolic_verilog(cfg: SystolicConfig, *, out_root="build/verilog"):
    """Verilog of ``SimTop(Systolic(cfg))``, cached by config and generator source (zero memory init removed)."""
    from hw.systolic.core import Systolic
    depth = dram_depth_log2(cfg)
    key = {"engine": "systolic", "config": cfg.to_dict(), "dram_depth_log2": depth}
    vb = generate("systolic", lambda: SimTop(Systolic(cfg), dram_depth_log2=depth), key, out_root,
                  extra_files=_SW_SOURCES)
    _strip_zero_memory_init(vb.files[0])
    return vb


def systolic_build(cfg: SystolicConfig, *, waves=False):
    """Verilator build for ``cfg`` (one per configuration, reused by every test)."""
    return build(systolic_verilog(cfg), waves=waves)


def run_regression(cfg: SystolicConfig, test_dir, *, testcase=None, waves=False, seed=None, n_random=0,
                   latency=None):
    """Run :mod:`tb.systolic.test_systolic`: the cases of :mod:`tb.systolic.cases` for ``cfg`` plus ``n_random``
    random layers (operands and random layers drawn from ``seed``), the DMA at ``latency`` (default 16)."""
    env = {ENV_CONFIG: json.dumps(cfg.to_dict()), ENV_RANDOM: str(n_random),
           **RunOptions(latency=latency, seed=seed, waves=waves).to_env()}
    return run_cocotb(systolic_build(cfg, waves=waves), "tb.systolic.test_systolic", testcase=testcase,
                      test_dir=test_dir, env=env, waves=waves)


def run_job_rtl(job_dir, out_dir, *, cfg: SystolicConfig = None, waves=False, latency=None):
    """Run one job folder on the RTL and write ``out_dir/result.json`` and the output array; returns the
    simulator run (:class:`sim.runner.RunResult`). ``cfg`` is the job's (kept for callers that pass it)."""
    from sw.systolic.job import load_job
    from tb.systolic.backend import run_with_log
    job = load_job(job_dir)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    result, run = run_with_log(job, out_dir, RunOptions(latency=latency, waves=waves))
    result.write(out_dir)
    return run


def run_layers_rtl(cfg: SystolicConfig, layers: list, test_dir, *, seed=0, latency=None):
    """Run shapes ``[{"name", **ConvLayer fields}]`` with random int8 data on the RTL (benchmarks): each
    record holds the RTL cycles, counters and whether the output matched the golden model."""
    env = {ENV_CONFIG: json.dumps(cfg.to_dict()), ENV_LAYERS: json.dumps(layers),
           **RunOptions(seed=seed, latency=latency).to_env()}
    return run_cocotb(systolic_build(cfg), "tb.systolic.run_layers", test_dir=test_dir, env=env)


def env_config() -> SystolicConfig:
    return SystolicConfig.from_dict(json.loads(os.environ[ENV_CONFIG]))


def run_options() -> RunOptions:
    """The run options the host put in the environment, with the engine's default DMA read latency."""
    return RunOptions.from_env().with_defaults(latency=DEFAULT_LATENCY)
