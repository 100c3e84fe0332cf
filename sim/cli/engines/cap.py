"""``accelgen sim|regress|verilog cap``: the 2D CAP engine's command-line plugin (see :mod:`sim.engines`)."""

import sys
import time
from pathlib import Path

from sim.cli.engines._common import add_job_args, failure_message, out_dir, start_regression
from sim.engines.cap import DEFAULT_CONFIG, load_config, manifest, top  # noqa: F401




def add_sim_args(p):
    add_job_args(p, "job folder (job.json + .npy inputs)")


def _golden(job, out):
    from sw.cap.golden import execute_chunk
    from sw.cap.emulator import APEmulator
    from sw.cap.job import op_result, write_cap_result
    from sw.cap.programs import ProgramError, op_chunks, run_generator
    emu = APEmulator(job.config)
    results, outputs = [], []
    for k, o in enumerate(job.ops):
        try:
            res, counters, runs = run_generator(op_chunks(job.config, o["op"], o["bits"], o["signed"], o["arrs"],
                                                          o["window"]), lambda ch: execute_chunk(emu, ch))
        except ProgramError as e:
            return write_cap_result(out, "error", f"ops[{k}]: {e}", results, outputs)
        results.append(op_result(o, counters, runs))
        outputs.append(res)
    return write_cap_result(out, "ok", "", results, outputs)


def sim(args):
    from sw.cap.job import JobError, load_cap_job, read_cap_result, write_cap_result
    from tb.cap.harness import run_job_rtl

    job_dir = Path(args.job)
    out = out_dir(args)
    try:
        job = load_cap_job(job_dir)
    except JobError as e:
        print(f"accelgen sim: bad job: {e}", file=sys.stderr)
        write_cap_result(out, "error", f"bad job: {e}", [])
        return 2
    t0 = time.monotonic()
    if args.backend == "golden":
        _golden(job, out)
    else:
        run = run_job_rtl(job_dir, out, cfg=job.config, waves=args.waves)
        if not (out / "result.json").exists():
            write_cap_result(out, "error", failure_message(run), [])
    res = read_cap_result(out)
    print(f"{args.backend}: status {res['status']}, {res['cycles']:,} cycles, {time.monotonic() - t0:.1f} s")
    if res["message"]:
        print(f"  {res['message']}")
    from sim.runner import print_table
    print_table(res["ops"], ["op", "bits", "signed", ("cycles", "cycles", ",d"), ("compares", "compares", ",d"),
                             ("writes", "writes", ",d"), ("reads", "reads", ",d"), "runs"])
    print(f"results: {out / 'result.json'}, {out}/op<k>.npy")
    return 0 if res["status"] == "ok" else 1


def add_regress_args(p):
    pass


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from tb.cap.harness import run_regression

    test_dir, t0 = start_regression("cap", cfg, args)
    res = run_regression(cfg, test_dir, testcase=args.testcase or None, waves=args.waves,
                         n_random=20 if args.random is None else args.random, seed=args.seed)
    rows = [{"test": t.name, "result": "PASS" if t.passed else "FAIL", "cases": t.data.get("cases", ""),
             "seed": t.data.get("seed", ""), "note": (t.message.splitlines()[0][:100] if t.message else "")}
            for t in res.tests]
    print_table(rows, ["test", "result", "cases", "seed", "note"])
    return summarize(res, test_dir, cfg.to_dict(), time.monotonic() - t0, waves=args.waves)
