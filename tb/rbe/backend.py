"""The RBE's RTL backend: run a loaded job on ``SimTop(RBE(cfg))`` under Verilator.

``run_rtl(job, out, options)`` writes ``out/y.npy`` (when the run finished) and the simulator's files under
``out/sim`` and returns the :class:`sw.common.contract.Result`. The cocotb module :mod:`tb.rbe.run_job` gets the
job folder and the output folder as paths and the run options as one :class:`RunOptions` (latency and cycle
limit resolved here, so the engine's defaults live in one place).
"""

from pathlib import Path

from sim.runner import run_cocotb
from sw.common.contract import Result, RunOptions
from sw.rbe.job import DEFAULT_CYCLE_LIMIT, DEFAULT_LATENCY, ENGINE, Y_FILE, RBEJob, metrics
from sw.rbe.regs import COUNTERS
from tb.rbe.harness import ENV_JOB, ENV_OUT, _env, rbe_build

__all__ = ["run_rtl", "resolve_options"]


def resolve_options(job: RBEJob, options: RunOptions) -> RunOptions:
    """``options`` with the RBE's defaults: latency 8, the job's cycle limit (else 20,000,000 per engine job)."""
    return options.with_defaults(latency=DEFAULT_LATENCY, cycle_limit=job.cycle_limit or DEFAULT_CYCLE_LIMIT)


def run_rtl(job: RBEJob, out, options: RunOptions = RunOptions()) -> Result:
    out = Path(out).resolve()
    options = resolve_options(job, options)
    env = _env(job.cfg, options)
    env.update({ENV_JOB: str(Path(job.path).resolve()), ENV_OUT: str(out)})
    run = run_cocotb(rbe_build(job.cfg, waves=options.waves), "tb.rbe.run_job", test_dir=out / "sim", env=env,
                     waves=options.waves)
    rec = next((r for r in run.records if r.get("name") == "job"), None)
    if rec is None:
        why = run.returncode_error or "the simulation produced no result"
        return Result(ENGINE, "rtl", "error", message=f"simulation failed: {why} (log: {run.log_path})",
                      metrics=metrics(job.layer.macs, 0, 0))
    counters = {k: rec["counters"][k] for k in (*COUNTERS, "dram_read_beats", "dram_write_beats")
                if k in rec["counters"]}
    ok = rec["status"] == "ok"
    return Result(ENGINE, "rtl", rec["status"], rec["cycles"], counters, {"y": Y_FILE} if ok else {},
                  rec["message"], {**metrics(job.layer.macs, rec["cycles"], rec["bin_ops"]),
                                   "latency": options.latency})
