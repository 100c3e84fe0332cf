"""Host side of the VTA testbenches: build the RTL of a config (cached) and run cocotb modules on it.

Every run passes its :class:`sw.common.contract.RunOptions` (DRAM latency, cycle limit, seed) to the cocotb
module through ``options.to_env()``; the modules read them with ``RunOptions.from_env()``. Used by the RTL
backend (:mod:`tb.vta.backend`), ``accelgen regress|trace diff vta``, the network runs and the benches.
"""

import json
import os
from pathlib import Path

from sim.runner import run_cocotb
from sim.simtop import SimTop
from sim.verilator import build
from sim.verilog import generate
from sw.common.contract import RunOptions
from sw.vta.config import VTAConfig
from sw.vta.job import DRAM_BYTES_LOG2, DRAM_CAPACITY

__all__ = ["DRAM_BYTES_LOG2", "dram_capacity", "vta_verilog", "vta_build", "run_regression", "run_job_rtl",
           "run_job_sim", "run_jobs_rtl", "run_trace_rtl", "ENV_CONFIG", "ENV_JOB", "ENV_OUT", "ENV_RANDOM",
           "ENV_LATENCY"]

ENV_CONFIG = "VTA_CONFIG"
#: Environment variables naming the job folder and the output folder of one job run.
ENV_JOB = "VTA_JOB"
ENV_OUT = "VTA_OUT"
ENV_RANDOM = "VTA_RANDOM"
#: Deprecated: no module reads it any more (the latency travels in RunOptions); kept for old importers.
ENV_LATENCY = "VTA_LATENCY"


def dram_capacity(cfg: VTAConfig) -> int:
    return DRAM_CAPACITY


def _depth_log2(cfg):
    return DRAM_BYTES_LOG2 - (cfg.bus_bytes.bit_length() - 1)


def vta_verilog(cfg: VTAConfig, *, out_root="build/verilog", trace=False):
    """Verilog of ``SimTop(VTA(cfg))``, cached by config and generator source (``trace``: with trace ports)."""
    from hw.vta.core import VTA
    key = {"engine": "vta", "config": cfg.to_dict(), "dram_depth_log2": _depth_log2(cfg)}
    if trace:
        key["trace"] = True
    return generate("vta_trace" if trace else "vta",
                    lambda: SimTop(VTA(cfg, trace=trace), dram_depth_log2=_depth_log2(cfg)), key, out_root)


def vta_build(cfg: VTAConfig, *, waves=False, trace=False):
    """Verilator build for ``cfg`` (one per configuration, reused by every test)."""
    return build(vta_verilog(cfg, trace=trace), waves=waves)


def run_regression(cfg: VTAConfig, test_dir, *, testcase=None, waves=False, n_random=200, seed=None,
                   latency=None, options: RunOptions | None = None):
    """Run :mod:`tb.vta.test_vta` for ``cfg``; returns :class:`sim.runner.RunResult`.

    ``latency``/``seed``/``waves`` fill the matching fields of ``options`` (a :class:`RunOptions`)."""
    options = (options or RunOptions()).with_defaults(latency=latency, seed=seed)
    if waves and not options.waves:
        options = RunOptions(**{**options.__dict__, "waves": True})
    env = {ENV_CONFIG: json.dumps(cfg.to_dict()), ENV_RANDOM: str(n_random), **options.to_env()}
    return run_cocotb(vta_build(cfg, waves=options.waves), "tb.vta.test_vta", testcase=testcase,
                      test_dir=test_dir, env=env, waves=options.waves)


def run_job_sim(job_dir, out_dir, *, cfg: VTAConfig, options: RunOptions):
    """Run one job folder on the RTL with ``options``; the cocotb module writes ``out_dir/result.json`` and
    ``dram.bin``. Returns the :class:`sim.runner.RunResult` (simulator log, errors)."""
    out_dir = Path(out_dir).resolve()
    env = {ENV_JOB: str(Path(job_dir).resolve()), ENV_OUT: str(out_dir), **options.to_env()}
    return run_cocotb(vta_build(cfg, waves=options.waves), "tb.vta.run_job", test_dir=out_dir / "sim", env=env,
                      waves=options.waves)


def run_job_rtl(job_dir, out_dir, *, cfg: VTAConfig, waves=False, latency=None):
    """Run one job folder on the RTL (see :func:`run_job_sim`); returns the RunResult."""
    return run_job_sim(job_dir, out_dir, cfg=cfg, options=RunOptions(latency=latency, waves=waves))


def run_jobs_rtl(pairs, test_dir, *, cfg: VTAConfig, sample=0, latency=None, progress=None, poll_s=0.5,
                 options: RunOptions | None = None):
    """Run many jobs (``[(job_dir, out_dir), ...]``, all of config ``cfg``) in one simulator run.

    Each out_dir receives ``result.json`` and ``dram.bin`` (and ``timeline.json`` when ``sample`` > 0: busy
    counters every ``sample`` cycles). ``progress(line)`` is called with each finished job's record
    (``{"n", "job", "status", "cycles"}``) while the simulator is still running. Returns the RunResult.
    """
    import threading
    import time

    test_dir = Path(test_dir).resolve()
    test_dir.mkdir(parents=True, exist_ok=True)
    spec = test_dir / "jobs.json"
    spec.write_text(json.dumps({"jobs": [[str(Path(j).resolve()), str(Path(o).resolve())] for j, o in pairs],
                                "sample": int(sample)}))
    prog = test_dir / "progress.jsonl"
    prog.unlink(missing_ok=True)
    options = (options or RunOptions()).with_defaults(latency=latency)
    env = {"VTA_JOBS": str(spec), "VTA_PROGRESS": str(prog), **options.to_env()}
    sb = vta_build(cfg)
    box = {}
    th = threading.Thread(target=lambda: box.setdefault("res", run_cocotb(sb, "tb.vta.run_jobs",
                                                                          test_dir=test_dir / "sim", env=env)))
    th.start()
    seen = 0
    while True:
        alive = th.is_alive()
        if progress is not None and prog.exists():
            lines = prog.read_text().split("\n")[:-1]    # complete lines only
            for line in lines[seen:]:
                progress(json.loads(line))
            seen = max(seen, len(lines))
        if not alive:
            break
        time.sleep(poll_s)
    th.join()
    return box["res"]


def run_trace_rtl(job_dir, out_dir, *, cfg: VTAConfig, latency=None, options: RunOptions | None = None):
    """Run one job on the trace build; the cocotb module writes ``out_dir/rtl_trace.jsonl`` and the result."""
    out_dir = Path(out_dir).resolve()
    options = (options or RunOptions()).with_defaults(latency=latency)
    env = {ENV_JOB: str(Path(job_dir).resolve()), ENV_OUT: str(out_dir), **options.to_env()}
    return run_cocotb(vta_build(cfg, trace=True), "tb.vta.trace_job", test_dir=out_dir / "sim", env=env)


def env_config() -> VTAConfig:
    return VTAConfig.from_dict(json.loads(os.environ[ENV_CONFIG]))
