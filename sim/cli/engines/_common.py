"""Pieces every engine plugin's ``sim``/``regress`` share (not an engine: the leading underscore hides it)."""

import sys
import time
from pathlib import Path

__all__ = ["add_job_args", "out_dir", "add_latency", "check_latency", "failure_message", "print_counters",
           "print_waves", "start_regression"]


def add_job_args(p, job_help):
    """``--job DIR --backend rtl|golden --out OUT --waves``, the options of every job-folder engine."""
    p.add_argument("--job", required=True, help=job_help)
    p.add_argument("--backend", choices=("rtl", "golden"), default="rtl")
    p.add_argument("--out", help="output folder (default: JOB/out-BACKEND)")
    p.add_argument("--waves", action="store_true", help="record a waveform (FST, else VCD)")


def out_dir(args) -> Path:
    """``--out``, or ``JOB/out-BACKEND``."""
    return Path(args.out) if args.out else Path(args.job) / f"out-{args.backend}"


def add_latency(p, default):
    p.add_argument("--latency", type=int, help=f"memory read latency in cycles, 1..65535 (default {default})")


def check_latency(args) -> bool:
    """False (after saying why) when ``--latency`` is outside 1..65535."""
    if args.latency is not None and not 1 <= args.latency < 65536:
        print(f"accelgen: --latency must be 1..65535, not {args.latency}", file=sys.stderr)
        return False
    return True


def failure_message(run) -> str:
    """Message for a result.json when the RTL run of a job wrote none (simulator crash, build error)."""
    return f"simulation failed: {run.returncode_error or 'the simulation produced no result'} (log: {run.log_path})"


def print_counters(counters, width=16):
    for k, v in counters.items():
        print(f"  {k:>{width}} {v:,}" if isinstance(v, int) else f"  {k:>{width}} {v}")


def print_waves(args, out):
    if getattr(args, "waves", False) and getattr(args, "backend", "rtl") == "rtl":
        waves = sorted((Path(out) / "sim").glob("dump.*"))
        if waves:
            print(f"waveform: {waves[0]}")


def start_regression(engine, cfg, args):
    """Print the regression banner; return ``(test_dir, t0)``."""
    test_dir = Path("build/tests") / f"{engine}-{cfg.name}"
    print(f"{engine} {cfg.name} ({args.config}): building and running the regression in {test_dir}", flush=True)
    return test_dir, time.monotonic()
