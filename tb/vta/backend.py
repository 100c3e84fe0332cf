"""The VTA RTL backend: ``run_rtl(job, out, options) -> Result`` (Verilator + cocotb, one build per config).

The run options travel to the cocotb module :mod:`tb.vta.run_job` as one serialised
:class:`~sw.common.contract.RunOptions` (``options.to_env()``), with the defaults resolved here: DRAM latency
:data:`sw.vta.job.DEFAULT_LATENCY` and cycle limit ``--cycle-limit``, else the job's ``cycle_limit``, else
:data:`sw.vta.job.DEFAULT_CYCLE_LIMIT`.
"""

from __future__ import annotations

from pathlib import Path

from sw.common.contract import BadInput, Result, RunOptions
from sw.vta.job import DEFAULT_CYCLE_LIMIT, DEFAULT_LATENCY, ENGINE, RESULT_FILE
from tb.vta.harness import dram_capacity, run_job_sim

__all__ = ["run_rtl", "resolve_options"]


def resolve_options(job, options: RunOptions | None) -> RunOptions:
    """``options`` with the VTA defaults filled in (latency 32; cycle limit from the job or 50 M)."""
    return (options or RunOptions()).with_defaults(latency=DEFAULT_LATENCY,
                                                   cycle_limit=job.cycle_limit or DEFAULT_CYCLE_LIMIT)


def run_rtl(job, out, options: RunOptions | None = None) -> Result:
    """Run a loaded :class:`sw.vta.job.VTAJob` on the RTL; ``out`` receives ``result.json``, ``dram.bin`` and
    the simulator folder ``sim/``.

    Raises
    ------
    BadInput
        If the DRAM image does not fit the simulated DRAM.
    """
    if job.size > dram_capacity(job.cfg):
        raise BadInput(f"{job.path}/job.json: dram.size {job.size} exceeds the simulated DRAM "
                       f"({dram_capacity(job.cfg)} bytes)")
    options = resolve_options(job, options)
    out = Path(out)
    run = run_job_sim(job.path, out, cfg=job.cfg, options=options)
    if not (out / RESULT_FILE).exists():
        why = run.returncode_error or "the simulation produced no result"
        return Result(ENGINE, "rtl", "error", message=f"simulation failed: {why} (log: {run.log_path})")
    result = Result.read(out)
    result.metrics.update({"latency": options.latency, "cycle_limit": options.cycle_limit})
    return result
