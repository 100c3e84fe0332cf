"""``accelgen sim|regress|verilog vta``: the VTA engine's command-line plugin (see :mod:`sim.engines`)."""

import json
import sys
import time
from pathlib import Path

from sim.cli.engines._common import (add_job_args, add_latency, check_latency, failure_message, out_dir,
                                 print_counters, print_waves, start_regression)
from sim.engines.vta import DEFAULT_CONFIG, load_config, manifest, top  # noqa: F401




def add_sim_args(p):
    add_job_args(p, "job folder (job.json + dram.bin)")
    add_latency(p, 32)


def sim(args):
    from sw.common.job import JobError, load_job, read_result, write_result
    from sw.vta import golden
    from sw.vta.job import config_of, validate
    from tb.vta.harness import dram_capacity, run_job_rtl

    if not check_latency(args):
        return 2
    job_dir = Path(args.job)
    out = out_dir(args)
    try:
        job = load_job(job_dir)
        if job.engine != "vta":
            raise JobError(f"{job_dir}/job.json: engine is {job.engine!r}, but this is 'accelgen sim vta'")
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
            write_result(out, "error", 0, {}, failure_message(run), None)
        result = read_result(out)
    wall = time.monotonic() - t0
    cyc = result["cycles"]
    print(f"{args.backend}: status {result['status']}, cycles {cyc:,}"
          + (f", {cyc / wall:,.0f} cycles/s" if cyc else "") + f", {wall:.1f} s")
    if result["message"]:
        print(f"  {result['message']}")
    print_counters(result["counters"], 20)
    print(f"results: {out / 'result.json'}, {out / 'dram.bin'}")
    print_waves(args, out)
    return 0 if result["status"] == "ok" else 1


def add_regress_args(p):
    add_latency(p, 32)


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from tb.vta.harness import run_regression

    if not check_latency(args):
        return 2
    test_dir, t0 = start_regression("vta", cfg, args)
    res = run_regression(cfg, test_dir, testcase=args.testcase or None, waves=args.waves,
                         n_random=200 if args.random is None else args.random, seed=args.seed,
                         latency=args.latency)
    rows = [{"test": t.name, "result": "PASS" if t.passed else "FAIL", "cycles": t.data.get("cycles", ""),
             "gemm uops": t.data.get("gemm_uops", ""), "alu uops": t.data.get("alu_uops", ""),
             "note": (t.message.splitlines()[0][:100] if t.message else "")} for t in res.tests]
    print_table(rows, ["test", "result", ("cycles", "cycles", ",d"), ("gemm uops", "gemm uops", ",d"),
                       ("alu uops", "alu uops", ",d"), "note"])
    return summarize(res, test_dir, cfg.to_dict(), time.monotonic() - t0, waves=args.waves)


def add_trace_args(p):
    p.add_argument("--job", required=True, help="job folder (job.json + dram.bin); keep it small: the RTL "
                                                "trace samples every cycle")
    p.add_argument("--out", help="output folder (default: JOB/trace)")
    add_latency(p, 32)


def _insn_name(insn):
    from sw.vta.config import AluOp, MemId, Opcode
    op = Opcode.NAMES[insn.OPCODE]
    if op in ("LOAD", "STORE"):
        return f"{op} {MemId.NAMES[insn.memory_type]}"
    if op == "ALU":
        return f"ALU {AluOp.NAMES[insn.alu_opcode]}"
    return op


def trace_diff(args):
    """``accelgen trace diff vta --job DIR``: every scratchpad write, golden vs RTL; print the first divergence."""
    from sw.common.job import JobError, load_job
    from sw.vta import golden
    from sw.vta.isa import InsnError, decode_insn
    from sw.vta.job import config_of, insn_words, validate
    from sw.vta.trace import describe, first_divergence
    from tb.vta.harness import run_trace_rtl

    if not check_latency(args):
        return 2
    job_dir = Path(args.job)
    out = Path(args.out) if args.out else job_dir / "trace"
    try:
        job = load_job(job_dir)
        cfg = config_of(job)
        validate(cfg, job)
    except (JobError, ValueError) as e:
        print(f"accelgen trace diff: bad job: {e}", file=sys.stderr)
        return 2
    gtrace = []
    g = golden.run(cfg, job.dram, job.insn_addr, job.insn_count, trace=gtrace)
    t0 = time.monotonic()
    run = run_trace_rtl(job_dir, out, cfg=cfg, latency=args.latency)
    path = out / "rtl_trace.jsonl"
    if not path.exists():
        print(f"accelgen trace diff: the RTL run produced no trace: {run.returncode_error} (log {run.log_path})",
              file=sys.stderr)
        return 1
    rtrace = [(i, m, a, bytes.fromhex(d)) for i, m, a, d in map(json.loads, path.read_text().splitlines())]
    names = []
    for k, w in enumerate(insn_words(job.dram, job.insn_addr, job.insn_count)):
        try:
            names.append(_insn_name(decode_insn(cfg, w, k)))
        except InsnError:
            names.append("undecodable")
    counts = {m: sum(1 for w in gtrace if w[1] == m) for m in ("inp", "wgt", "uop", "acc")}
    print(f"golden: status {g.status}, {len(gtrace):,} scratchpad writes; RTL: {len(rtrace):,} writes "
          f"({time.monotonic() - t0:.1f} s)")
    d = first_divergence(gtrace, rtrace)
    (out / "golden_trace.jsonl").write_text("".join(json.dumps([i, m, a, b.hex()]) + "\n" for i, m, a, b in gtrace))
    if d is None:
        print("no divergence: " + ", ".join(f"{m} {n:,}" for m, n in counts.items()) + " writes identical")
        return 0
    print(describe(d, names))
    print("writes compared before it: " + ", ".join(f"{m} {n:,}" for m, n in d["compared"].items()))
    print(f"traces: {out / 'golden_trace.jsonl'}, {path}")
    return 1
