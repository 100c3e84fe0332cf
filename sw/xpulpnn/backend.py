"""The xpulpnn golden backend: the instruction-set simulator (:mod:`sw.xpulpnn.iss`); ``iss`` is its alias.

Both backends return the contract's :class:`~sw.common.contract.Result`: status ``ok`` when the program wrote
``tohost`` = 1 (riscv-tests pass), ``error`` when it reported a failure (an odd ``tohost`` v: test v >> 1) or
the core stopped on an error (illegal instruction, access outside the RAM...), ``timeout`` at the cycle
limit. The metrics ``verdict`` (pass, fail, timeout, error), ``tohost``, ``instret`` and ``pc`` (stop pc)
sit at the top of result.json; ``counters`` are the CSR counters (cycles, instret). With ``trace`` the
commit log is ``trace.log``.
"""

from __future__ import annotations

from pathlib import Path

from sw.common.contract import Result, RunOptions

from .iss import ISS, RunResult
from .regs import COUNTERS

__all__ = ["run_golden", "to_result", "wants_trace", "cycle_limit", "DEFAULT_CYCLE_LIMIT", "STATUS_OF"]

#: Cycle limit when neither --cycle-limit nor the job gives one.
DEFAULT_CYCLE_LIMIT = 1_000_000
#: The program's verdict -> the contract's status.
STATUS_OF = {"pass": "ok", "fail": "error", "timeout": "timeout", "error": "error"}


def cycle_limit(job, options: RunOptions) -> int:
    return options.cycle_limit or job.cycle_limit or DEFAULT_CYCLE_LIMIT


def wants_trace(job, options: RunOptions) -> bool:
    return bool(options.trace or getattr(job, "trace", False))


def to_result(r: RunResult, backend: str, out=None, *, trace=False) -> Result:
    """The contract's result of a run (writes ``out/trace.log`` when ``trace``)."""
    outputs = {}
    if trace and out is not None:
        (Path(out) / "trace.log").write_text("".join(line + "\n" for line in r.trace))
        outputs["trace"] = "trace.log"
    counters = {COUNTERS["mcycle"]: int(r.cycles), COUNTERS["minstret"]: int(r.instret)}
    return Result("xpulpnn", backend, STATUS_OF[r.status], int(r.cycles), counters, outputs, r.message,
                  {"verdict": r.status, "tohost": int(r.tohost), "instret": int(r.instret), "pc": int(r.pc)})


def run_golden(job, out, options: RunOptions = RunOptions(), backend: str = "golden") -> Result:
    """Run the job's program on the ISS (cycles = retired instructions: the ISS is untimed)."""
    trace = wants_trace(job, options)
    r = ISS(job.cfg, job.program, trace=trace).run(cycle_limit(job, options))
    return to_result(r, backend, out, trace=trace)
