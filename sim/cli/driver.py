"""The generic ``accelgen sim ENGINE``: load the job, run a backend into a staged folder, report.

Every engine on the contract (an :class:`sim.engines.EngineSpec`) gets the same options, the same checks and the
same output rules; nothing here names an engine.
"""

import sys
import time
from pathlib import Path

from sim import engines
from sw.common.contract import BadInput, Result, RunOptions, staged_output

__all__ = ["add_run_options", "add_sim_args", "cmd_sim", "run_one", "default_out", "print_result"]


def _flags(spec, flag):
    """``flag`` and its aliases in ``spec.aliases``."""
    return [flag, *(a for a, canon in spec.aliases.items() if canon == flag)]


def add_run_options(p, spec):
    """The :class:`RunOptions` flags: ``--latency`` (engines with a memory latency), ``--cycle-limit``,
    ``--seed``, ``--waves``, ``--trace`` (engines that trace)."""
    if spec.default_latency is not None:
        p.add_argument("--latency", type=int, help=f"memory read latency in cycles, 1..65535 "
                                                   f"(default {spec.default_latency})")
    if spec.trace:
        p.add_argument("--trace", action="store_true", help="record an execution trace in OUT")
    p.add_argument(*_flags(spec, "--cycle-limit"), type=int, dest="cycle_limit",
                   help=f"stop with status 'timeout' after this many cycles (default: the job's, else "
                        f"{spec.default_cycle_limit:,})")
    p.add_argument("--seed", type=int, help="seed for anything random in the run")
    p.add_argument("--waves", action="store_true", help="record a waveform (FST, else VCD) in OUT/sim")


def add_sim_args(p, spec):
    p.add_argument(*_flags(spec, "--job"), dest="job", required=True, help=spec.job_help)
    p.add_argument("--backend", choices=spec.backends, default="rtl")
    p.add_argument("--out", help="output folder (default: JOB/out-BACKEND); written only when complete")
    add_run_options(p, spec)


def default_out(job_path, backend) -> Path:
    job_path = Path(job_path)
    base = job_path if job_path.is_dir() else job_path.parent / job_path.stem
    return base / f"out-{backend}" if job_path.is_dir() else Path(f"{base}-out-{backend}")


def run_one(spec, job, backend: str, out, options: RunOptions, *, allow=()) -> Result:
    """Run ``job`` on ``backend`` into ``out`` (staged: complete or untouched) and return the result."""
    if spec.is_golden(backend):
        run = spec.golden
    else:
        from tb import backends
        run = backends.rtl(spec.name)
    with staged_output(out, protect=job.input_paths(), allow=allow) as tmp:
        result = run(job, tmp, options)
        result.backend = backend           # the name asked for (an alias such as xpulpnn's "iss" included)
        result.write(tmp)
    return result


def print_result(result: Result, out, wall: float, metrics=()):
    cyc = result.cycles
    extra = "".join(f", {k} {result.metrics[k]:,}" if isinstance(result.metrics.get(k), (int, float))
                    else "" for k in metrics)
    print(f"{result.backend}: status {result.status}, cycles {cyc:,}{extra}"
          + (f", {cyc / wall:,.0f} cycles/s" if cyc and wall > 0 else "") + f", {wall:.1f} s")
    if result.message:
        print(f"  {result.message}")
    for k, v in result.counters.items():
        print(f"  {k:>20} {v:,}" if isinstance(v, int) else f"  {k:>20} {v}")
    print(f"results: {Path(out) / 'result.json'}"
          + "".join(f", {Path(out) / f}" for f in result.outputs.values()))


def _record_refusal(spec, out, backend, message):
    """A refused job leaves ``out/result.json`` (status error) only where it loses nothing: a new folder."""
    out = Path(out)
    if out.exists():
        return
    try:
        with staged_output(out) as tmp:
            Result(spec.name, backend, "error", message=message).write(tmp)
    except (BadInput, OSError):
        pass


def cmd_sim(args):
    spec = engines.spec(args.engine)
    cmd = f"accelgen sim {spec.name}"
    out = Path(args.out) if args.out else default_out(args.job, args.backend)
    allow = () if args.out else (out,)
    try:
        options = RunOptions.from_args(args)
    except BadInput as e:
        print(f"{cmd}: {e}", file=sys.stderr)
        return 2
    try:
        job = spec.load_job(args.job)
    except (BadInput, ValueError) as e:
        print(f"{cmd}: bad job: {e}", file=sys.stderr)
        _record_refusal(spec, out, args.backend, f"bad job: {e}")
        return 2
    t0 = time.monotonic()
    try:
        result = run_one(spec, job, args.backend, out, options, allow=allow)
    except BadInput as e:
        print(f"{cmd}: {e}", file=sys.stderr)
        return 2
    print_result(result, out, time.monotonic() - t0, spec.metrics)
    if args.waves and not spec.is_golden(args.backend):
        waves = sorted((out / "sim").glob("dump.*"))
        if waves:
            print(f"waveform: {waves[0]}")
    return 0 if result.ok else 1
