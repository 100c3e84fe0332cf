"""``accelgen sim|regress|verilog systolic``: the weight-stationary systolic array's CLI plugin (see :mod:`sim.engines`)."""

import sys
import time
from pathlib import Path

from sim.cli.engines._common import (add_job_args, failure_message, out_dir, print_counters, print_waves,
                                 start_regression)
from sim.engines.systolic import DEFAULT_CONFIG, load_config, manifest, top  # noqa: F401




def add_sim_args(p):
    add_job_args(p, "job folder (job.json + .npy operands)")


def sim(args):
    from sw.common.job import JobError
    from sw.systolic import golden
    from sw.systolic import schedule as S
    from sw.systolic.job import load_job, read_result, write_result

    job_dir = Path(args.job)
    out = out_dir(args)
    try:
        job = load_job(job_dir)
    except JobError as e:
        print(f"accelgen sim: bad job: {e}", file=sys.stderr)
        return 2

    t0 = time.monotonic()
    ref = S.reference(job.cfg, job.layer)
    if args.backend == "golden":
        ofmap = golden.conv2d(job.layer, job.ifmap, job.weights)
        write_result(out, job, status="ok", cycles=ref["model_cycles"], counters={}, output=ofmap,
                     backend="golden", message="cycles from the schedule model (sw.systolic.schedule.run_cycles)",
                     reference=ref)
    else:
        from tb.systolic.harness import run_job_rtl
        run = run_job_rtl(job_dir, out, cfg=job.cfg, waves=args.waves)
        if not (out / "result.json").exists():
            write_result(out, job, status="error", cycles=0, counters={}, message=failure_message(run), reference=ref)
    result = read_result(out)
    wall = time.monotonic() - t0
    cyc = result["cycles"]
    print(f"{args.backend}: status {result['status']}, cycles {cyc:,}, MACs {result['macs']:,}, "
          f"utilization {result['utilization']:.4f}, {wall:.1f} s")
    print(f"  SCALE-Sim v2 WS {ref['scalesim_ws_cycles']:,}, folds x T + 2R + C - 2 = {ref['ideal_cycles']:,}, "
          f"bound MACs/(R*C) = {ref['physical_bound']:,}, folds {ref['folds']}, runs {ref['runs']}")
    if result["message"]:
        print(f"  {result['message']}")
    print_counters(result["counters"])
    print(f"results: {out / 'result.json'}" + (f", {out / job.output_file}" if result["status"] == "ok" else ""))
    print_waves(args, out)
    return 0 if result["status"] == "ok" else 1


#: Random layers ``accelgen regress systolic`` adds to the fixed cases unless --random says otherwise.
DEFAULT_RANDOM = 8


def add_regress_args(p):
    """No engine-specific options: ``--testcase NAME`` selects cases, ``--random N`` adds random layers."""


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from tb.systolic.harness import run_regression

    test_dir, t0 = start_regression("systolic", cfg, args)
    res = run_regression(cfg, test_dir, testcase=args.testcase or None, waves=args.waves, seed=args.seed,
                         n_random=DEFAULT_RANDOM if args.random is None else args.random)
    rows = [{"test": t.name, "result": "PASS" if t.passed else "FAIL", **{k: t.data.get(k, "") for k in (
        "cycles", "bound", "scalesim", "ideal", "utilization", "folds", "min_read_gap")},
        "note": (t.message.splitlines()[0][:90] if t.message else "")} for t in res.tests]
    print_table(rows, ["test", "result", ("cycles", "cycles", ",d"), ("MACs/(R*C)", "bound", ",.1f"),
                       ("SCALE-Sim WS", "scalesim", ",d"), ("folds*T+2R+C-2", "ideal", ",d"),
                       ("util", "utilization", ".3f"), "folds", ("read gap", "min_read_gap"), "note"])
    return summarize(res, test_dir, cfg.to_dict(), time.monotonic() - t0, waves=args.waves)
