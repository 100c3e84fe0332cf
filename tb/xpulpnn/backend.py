"""The xpulpnn RTL backend: the job's program on the Verilator build of its config."""

from __future__ import annotations

from pathlib import Path

from sw.common.contract import Result, RunOptions
from sw.xpulpnn.backend import cycle_limit, to_result, wants_trace

from .harness import SimError, run_rtl as run_programs

__all__ = ["run_rtl"]


def run_rtl(job, out, options: RunOptions = RunOptions()) -> Result:
    """Run ``job`` on the RTL (the simulator's files in ``out/sim``); status ``error`` if the simulator fails."""
    out = Path(out)
    trace = wants_trace(job, options)
    try:
        r = run_programs(job.cfg, [job.program], out / "sim", trace=trace,
                         max_cycles=cycle_limit(job, options), waves=options.waves, options=options)[0]
    except SimError as e:
        return Result("xpulpnn", "rtl", "error", message=f"simulation failed: {e}")
    return to_result(r, "rtl", out, trace=trace)
