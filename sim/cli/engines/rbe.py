"""``accelgen sim|regress|verilog rbe``: the RBE engine's command-line plugin (see :mod:`sim.engines`)."""

import sys
import time
from pathlib import Path

from sim.cli.engines._common import (add_job_args, add_latency, check_latency, failure_message, out_dir,
                                 print_counters, print_waves, start_regression)
from sim.engines.rbe import DEFAULT_CONFIG, load_config, manifest, top  # noqa: F401




def add_sim_args(p):
    add_job_args(p, "job folder (job.json + x.npy, w.npy, kappa.npy, lambda.npy)")
    add_latency(p, 8)


def sim(args):
    from sw.common.job import JobError
    from sw.rbe.job import load_job, read_result, run_golden, write_result
    from tb.rbe.harness import dram_capacity, run_job_rtl

    if not check_latency(args):
        return 2
    job_dir = Path(args.job)
    out = out_dir(args)
    try:
        job = load_job(job_dir)
        size = job.plan().image.size
        if size > dram_capacity(job.cfg):
            raise JobError(f"{job_dir}: the layer needs {size} bytes of memory, more than the simulated "
                           f"{dram_capacity(job.cfg)}")
    except (JobError, ValueError) as e:
        print(f"accelgen sim: bad job: {e}", file=sys.stderr)
        write_result(out, "error", 0, 0, 0, {}, f"bad job: {e}")
        return 2

    t0 = time.monotonic()
    if args.backend == "golden":
        write_result(out, "ok", 0, job.layer.macs, 0, {}, "golden model: no timing", run_golden(job))
    else:
        run = run_job_rtl(job_dir, out, cfg=job.cfg, waves=args.waves, latency=args.latency)
        if not (out / "result.json").exists():
            write_result(out, "error", 0, job.layer.macs, 0, {}, failure_message(run))
    result = read_result(out)
    wall = time.monotonic() - t0
    cyc = result["cycles"]
    print(f"{args.backend}: status {result['status']}, cycles {cyc:,}, {result['macs']:,} MACs, "
          f"{result['mac_per_cycle']:,} MAC/cycle, {result['binary_ops_per_cycle']:,} 1-bit MACs/cycle, {wall:.1f} s")
    if result["message"]:
        print(f"  {result['message']}")
    print_counters(result["counters"])
    print(f"results: {out / 'result.json'}" + (f", {out / 'y.npy'}" if result["y"] is not None else ""))
    print_waves(args, out)
    return 0 if result["status"] == "ok" else 1


def add_regress_args(p):
    add_latency(p, 8)


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from tb.rbe.harness import run_regression

    if not check_latency(args):
        return 2
    test_dir, t0 = start_regression("rbe", cfg, args)
    res = run_regression(cfg, test_dir, testcase=args.testcase or None, waves=args.waves, n_random=args.random,
                         seed=args.seed, latency=args.latency)
    rows = []
    for rec in res.records:
        if rec.get("name") != rec.get("test"):
            rows.append({"test": rec.get("test"), "case": rec.get("name"), "cycles": rec.get("cycles", ""),
                         "MAC/cycle": round(rec["macs"] / rec["cycles"], 1) if rec.get("macs") else ""})
    print_table(rows, ["test", "case", ("cycles", "cycles", ",d"), "MAC/cycle"])
    summary = [{"test": t.name, "result": "PASS" if t.passed else "FAIL",
                "note": (t.message.splitlines()[0][:110] if t.message else
                         ", ".join(f"{k}={v}" for k, v in t.data.items() if k not in ("sim_time_ns", "wall_s",
                                                                                     "message")))[:110]}
               for t in res.tests]
    print()
    print_table(summary, ["test", "result", "note"])
    return summarize(res, test_dir, cfg.to_dict(), time.monotonic() - t0, waves=args.waves)
