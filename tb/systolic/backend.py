"""The systolic engine's RTL backend: run a loaded job on ``SimTop(Systolic(cfg))`` under Verilator.

``run_rtl(job, out, options)`` writes the output array (``ofmap.npy`` or ``c.npy``) into ``out`` when the run
finished, the simulator's files under ``out/sim``, and returns the :class:`sw.common.contract.Result`. The cocotb
module :mod:`tb.systolic.run_job` gets the job and output folders as paths and the run options as one
:class:`RunOptions` (DMA read latency and cycle limit resolved here).
"""

from pathlib import Path

from sim.runner import run_cocotb
from sw.common.contract import Result, RunOptions
from sw.systolic.job import DEFAULT_CYCLE_LIMIT, DEFAULT_LATENCY, ENGINE, SystolicJob, metrics
from tb.systolic.harness import ENV_JOB, ENV_OUT, systolic_build

__all__ = ["run_rtl", "resolve_options", "run_with_log"]


def resolve_options(job: SystolicJob, options: RunOptions) -> RunOptions:
    """``options`` with the engine's defaults: latency 16, the job's cycle limit (else 50,000,000 per run)."""
    return options.with_defaults(latency=DEFAULT_LATENCY, cycle_limit=job.cycle_limit or DEFAULT_CYCLE_LIMIT)


def run_with_log(job: SystolicJob, out, options: RunOptions = RunOptions()):
    """``(Result, sim.runner.RunResult)``: :func:`run_rtl` plus the simulator run (log path, exit status)."""
    out = Path(out).resolve()
    options = resolve_options(job, options)
    env = {ENV_JOB: str(Path(job.path).resolve()), ENV_OUT: str(out), **options.to_env()}
    run = run_cocotb(systolic_build(job.cfg, waves=options.waves), "tb.systolic.run_job", test_dir=out / "sim",
                     env=env, waves=options.waves)
    rec = next((r for r in run.records if r.get("name") == "job"), None)
    if rec is None:
        why = run.returncode_error or "the simulation produced no result"
        return Result(ENGINE, "rtl", "error", message=f"simulation failed: {why} (log: {run.log_path})",
                      metrics=metrics(job, 0, options.latency)), run
    ok = rec["status"] == "ok"
    return Result(ENGINE, "rtl", rec["status"], rec["cycles"], rec["counters"],
                  {job.output_key: job.output_file} if ok else {}, rec["message"],
                  metrics(job, rec["cycles"], options.latency)), run


def run_rtl(job: SystolicJob, out, options: RunOptions = RunOptions()) -> Result:
    return run_with_log(job, out, options)[0]
