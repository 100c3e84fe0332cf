"""Host side of the systolic testbenches: build the RTL of a config (cached) and run cocotb modules on it.

Used by ``accelgen sim|regress systolic``, ``make sim TARGET=systolic``, the pytest entry points and the
benchmark. Cases and layers travel to the simulator as JSON in environment variables.
"""

import json
import os
import re
from pathlib import Path

from sim.runner import run_cocotb
from sim.simtop import SimTop
from sim.verilator import build
from sim.verilog import generate
from sw.systolic.config import SystolicConfig
from tb.systolic.driver import dram_depth_log2

__all__ = ["systolic_verilog", "systolic_build", "run_regression", "run_job_rtl", "run_layers_rtl",
           "env_config", "ENV_CONFIG", "ENV_JOB", "ENV_OUT", "ENV_SEED", "ENV_RANDOM", "ENV_LAYERS"]

ENV_CONFIG = "SYSTOLIC_CONFIG"
ENV_JOB = "SYSTOLIC_JOB"
ENV_OUT = "SYSTOLIC_OUT"
ENV_SEED = "SYSTOLIC_SEED"
ENV_RANDOM = "SYSTOLIC_RANDOM"
ENV_LAYERS = "SYSTOLIC_LAYERS"


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
    vb = generate("systolic", lambda: SimTop(Systolic(cfg), dram_depth_log2=depth), key, out_root)
    _strip_zero_memory_init(vb.files[0])
    return vb


def systolic_build(cfg: SystolicConfig, *, waves=False):
    """Verilator build for ``cfg`` (one per configuration, reused by every test)."""
    return build(systolic_verilog(cfg), waves=waves)


def run_regression(cfg: SystolicConfig, test_dir, *, testcase=None, waves=False, seed=None, n_random=0):
    """Run :mod:`tb.systolic.test_systolic`: the cases of :mod:`tb.systolic.cases` for ``cfg`` plus ``n_random``
    random layers (operands and random layers drawn from ``seed``)."""
    env = {ENV_CONFIG: json.dumps(cfg.to_dict()), ENV_RANDOM: str(n_random)}
    if seed is not None:
        env[ENV_SEED] = str(seed)
    return run_cocotb(systolic_build(cfg, waves=waves), "tb.systolic.test_systolic", testcase=testcase,
                      test_dir=test_dir, env=env, waves=waves)


def run_job_rtl(job_dir, out_dir, *, cfg: SystolicConfig, waves=False):
    """Run one job folder on the RTL; the cocotb module writes ``out_dir/result.json`` and the output array."""
    out_dir = Path(out_dir).resolve()
    env = {ENV_JOB: str(Path(job_dir).resolve()), ENV_OUT: str(out_dir)}
    return run_cocotb(systolic_build(cfg, waves=waves), "tb.systolic.run_job", test_dir=out_dir / "sim",
                      env=env, waves=waves)


def run_layers_rtl(cfg: SystolicConfig, layers: list, test_dir, *, seed=0):
    """Run shapes ``[{"name", **ConvLayer fields}]`` with random int8 data on the RTL (benchmarks): each
    record holds the RTL cycles, counters and whether the output matched the golden model."""
    env = {ENV_CONFIG: json.dumps(cfg.to_dict()), ENV_LAYERS: json.dumps(layers), ENV_SEED: str(seed)}
    return run_cocotb(systolic_build(cfg), "tb.systolic.run_layers", test_dir=test_dir, env=env)


def env_config() -> SystolicConfig:
    return SystolicConfig.from_dict(json.loads(os.environ[ENV_CONFIG]))
