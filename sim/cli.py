"""``accelgen``: the command line of the generator and co-simulation stack.

    accelgen sim vta --job DIR [--backend rtl|golden] [--out OUTDIR] [--waves] [--latency N]
    accelgen regress vta [--config FILE] [--random N] [--seed S] [--testcase NAME ...] [--waves]
    accelgen verilog vta [--config FILE] [--out DIR]

Exit status: 0 when the job ran with status "ok" (or every regression test passed), 1 when it ran with
another status (or a test failed), 2 for bad input (config, job, arguments).
"""

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["main"]

ENGINES = ("vta",)
DEFAULT_CONFIG = {"vta": "configs/vta/default.json"}


def _load_config(args):
    """The engine config named by ``args.config``, or None after printing why it is bad."""
    from sw.vta.config import VTAConfig
    try:
        return VTAConfig.load(args.config)
    except (ValueError, OSError) as e:
        print(f"accelgen {args.cmd}: bad config {args.config}: {e}", file=sys.stderr)
        return None


# --- accelgen sim --------------------------------------------------------------------------------------
def cmd_sim(args):
    from sw.common.job import JobError, load_job, read_result, write_result
    from sw.vta import golden
    from sw.vta.job import config_of, validate
    from tb.vta.harness import dram_capacity, run_job_rtl

    job_dir = Path(args.job)
    out = Path(args.out) if args.out else job_dir / f"out-{args.backend}"
    try:
        job = load_job(job_dir)
        if job.engine != args.engine:
            raise JobError(f"{job_dir}/job.json: engine is {job.engine!r}, but this is 'accelgen sim {args.engine}'")
        cfg = config_of(job)
        validate(cfg, job)
        if job.dram.size > dram_capacity(cfg):
            raise JobError(f"{job_dir}/job.json: dram.size {job.dram.size} exceeds the simulated DRAM "
                           f"({dram_capacity(cfg)} bytes)")
    except (JobError, ValueError) as e:
        print(f"accelgen sim: bad job: {e}", file=sys.stderr)
        out.mkdir(parents=True, exist_ok=True)
        write_result(out, "error", 0, {}, f"bad job: {e}", None)
        return 2

    t0 = time.monotonic()
    if args.backend == "golden":
        r = golden.run_job(job)
        write_result(out, r.status, 0, r.counters, r.message, r.dram)
        result = read_result(out)
    else:
        run = run_job_rtl(job_dir, out, cfg=cfg, waves=args.waves, latency=args.latency)
        if not (out / "result.json").exists():
            msg = run.returncode_error or "the simulation produced no result"
            write_result(out, "error", 0, {}, f"simulation failed: {msg} (log: {run.log_path})", None)
        result = read_result(out)
    wall = time.monotonic() - t0
    cyc = result["cycles"]
    print(f"{args.backend}: status {result['status']}, cycles {cyc:,}"
          + (f", {cyc / wall:,.0f} cycles/s" if cyc else "") + f", {wall:.1f} s")
    if result["message"]:
        print(f"  {result['message']}")
    for k, v in result["counters"].items():
        print(f"  {k:>20} {v:,}")
    print(f"results: {out / 'result.json'}, {out / 'dram.bin'}")
    if args.waves and args.backend == "rtl":
        waves = sorted((out / "sim").glob("dump.*"))
        if waves:
            print(f"waveform: {waves[0]}")
    return 0 if result["status"] == "ok" else 1


# --- accelgen regress ----------------------------------------------------------------------------------
def cmd_regress(args):
    from sim.runner import print_table
    from tb.vta.harness import run_regression

    cfg = _load_config(args)
    if cfg is None:
        return 2
    test_dir = Path("build/tests") / f"{args.engine}-{cfg.name}"
    print(f"{args.engine} {cfg.name} ({args.config}): building and running the regression in {test_dir}",
          flush=True)
    t0 = time.monotonic()
    res = run_regression(cfg, test_dir, testcase=args.testcase or None, waves=args.waves,
                         n_random=args.random, seed=args.seed, latency=args.latency)
    wall = time.monotonic() - t0
    rows = [{"test": t.name, "result": "PASS" if t.passed else "FAIL", "cycles": t.data.get("cycles", ""),
             "gemm uops": t.data.get("gemm_uops", ""), "alu uops": t.data.get("alu_uops", ""),
             "note": (t.message.splitlines()[0][:100] if t.message else "")} for t in res.tests]
    print_table(rows, ["test", "result", ("cycles", "cycles", ",d"), ("gemm uops", "gemm uops", ",d"),
                       ("alu uops", "alu uops", ",d"), "note"])
    n_pass = sum(t.passed for t in res.tests)
    n_fail = len(res.tests) - n_pass
    summary = {"config": cfg.to_dict(), "wall_s": round(wall, 1),
               "tests": [{"name": t.name, "passed": t.passed, **t.data} for t in res.tests]}
    (test_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"results: {res.results_xml} (JUnit XML), {test_dir / 'summary.json'}; log {res.log_path}")
    if args.waves:
        print(f"waveforms: {sorted(test_dir.glob('dump.*'))}")
    if res.returncode_error or not res.tests:
        print(f"simulation error: {res.returncode_error or 'no test ran'}", file=sys.stderr)
        n_fail = max(n_fail, 1)
    print(f"{n_pass} passed, {n_fail} failed")
    return 0 if n_fail == 0 else 1


# --- accelgen verilog ----------------------------------------------------------------------------------
def cmd_verilog(args):
    from amaranth import __version__ as amaranth_version
    from hw.vta.core import VTA
    from sim.verilog import write_verilog

    cfg = _load_config(args)
    if cfg is None:
        return 2
    out = Path(args.out) if args.out else Path("build/verilog") / f"{args.engine}-{cfg.name}"
    path = write_verilog(VTA(cfg), out / f"{args.engine}.v", name=args.engine)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n")
    manifest = {"engine": args.engine, "top": args.engine, "verilog": path.name, "config_digest": cfg.digest(),
                "amaranth": amaranth_version, "bus_width": cfg.BUS_WIDTH,
                "scratchpads": {"uop": [cfg.uop_depth, 32], "inp": [cfg.inp_depth, cfg.inp_elem_bits],
                                "wgt": [cfg.wgt_depth, cfg.wgt_elem_bits], "acc": [cfg.acc_depth, cfg.acc_elem_bits]},
                "macs_per_cycle": cfg.macs_per_cycle}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {path} ({path.stat().st_size:,} bytes), {out / 'config.json'}, {out / 'manifest.json'}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="accelgen", description="DNN accelerator generator and co-simulation")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("sim", help="run one job folder on the RTL or the golden model")
    p.add_argument("engine", choices=ENGINES)
    p.add_argument("--job", required=True, help="job folder (job.json + dram.bin)")
    p.add_argument("--backend", choices=("rtl", "golden"), default="rtl")
    p.add_argument("--out", help="output folder (default: JOB/out-BACKEND)")
    p.add_argument("--waves", action="store_true", help="record a waveform (FST, else VCD)")
    p.add_argument("--latency", type=int, help="DRAM read latency in cycles (default 32)")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("regress", help="build the RTL for a config and run the cocotb regression")
    p.add_argument("engine", choices=ENGINES)
    p.add_argument("--config", help="config JSON (default configs/<engine>/default.json)")
    p.add_argument("--random", type=int, default=200, help="random differential programs (default 200)")
    p.add_argument("--seed", type=int, help="first random seed (default 1)")
    p.add_argument("--testcase", action="append", help="run only this test (repeatable)")
    p.add_argument("--latency", type=int, help="DRAM read latency in cycles (default 32)")
    p.add_argument("--waves", action="store_true")
    p.set_defaults(func=cmd_regress)

    p = sub.add_parser("verilog", help="write the Verilog of a config under build/verilog")
    p.add_argument("engine", choices=ENGINES)
    p.add_argument("--config", help="config JSON (default configs/<engine>/default.json)")
    p.add_argument("--out", help="output folder")
    p.set_defaults(func=cmd_verilog)

    args = ap.parse_args(argv)
    if getattr(args, "config", "unset") is None:
        args.config = DEFAULT_CONFIG[args.engine]
    if getattr(args, "latency", None) is not None and not 1 <= args.latency < 65536:
        ap.error(f"--latency must be 1..65535, not {args.latency}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
