"""The CAP RTL backend: a job on the Verilator build of its config (:mod:`tb.cap.run_job` in cocotb)."""

from __future__ import annotations

import json
from pathlib import Path

from sw.cap.job import CapJob, cap_result
from sw.common.contract import Result, RunOptions

from .harness import ENV_JOB, ENV_OUT, _env, cap_build
from sim.runner import run_cocotb

__all__ = ["run_rtl"]


def run_rtl(job: CapJob, out, options: RunOptions = RunOptions()) -> Result:
    """Run ``job`` on the RTL into ``out`` (``op<k>.npy``, the cocotb run in ``out/sim``).

    The cocotb module reads the options from :meth:`RunOptions.from_env` and writes ``out/rtl.json`` (the
    result); a simulator that fails before writing it gives status ``error`` naming the log.
    """
    out = Path(out).resolve()
    part = out / "rtl.json"
    env = {**_env(job.cfg, **{ENV_JOB: Path(job.path).resolve(), ENV_OUT: out}), **options.to_env()}
    run = run_cocotb(cap_build(job.cfg, waves=options.waves), "tb.cap.run_job", test_dir=out / "sim", env=env,
                     waves=options.waves)
    if not part.is_file():
        why = run.returncode_error or "the simulation produced no result"
        return cap_result("rtl", "error", f"simulation failed: {why} (log: {run.log_path})", [])
    d = json.loads(part.read_text())
    part.unlink()
    return cap_result("rtl", d["status"], d["message"], d["ops"], [None] * d["n_outputs"],
                      total_cycles=d["total_cycles"], latency=d["latency"])
