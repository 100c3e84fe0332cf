"""``accelgen regress|trace diff vta``: the VTA engine's command-line front end (``accelgen sim vta`` is the
generic driver, :mod:`sim.cli.driver`, from ``sim.engines.vta.SPEC``)."""

import json
import sys
import time
from pathlib import Path

from sim.cli.engines._common import start_regression
from sim.engines.vta import DEFAULT_CONFIG, load_config, manifest, top  # noqa: F401
from sw.common.contract import BadInput, RunOptions, check_output_path

#: cocotb tests of :mod:`tb.vta.test_vta` besides the per-case tests (``--testcase`` must name a test).
EXTRA_TESTS = ("random_programs", "deadlock_reports_queue", "unknown_opcode_reports_index",
               "index_out_of_range_is_error", "store_with_pad_is_error")
#: Upper bound of ``--random`` (random programs; ~0.1 s each at the default config).
MAX_RANDOM = 100_000


def add_regress_args(p):
    p.add_argument("--latency", type=int, help="DRAM read latency in cycles, 1..65535 (default 32)")


def check_regress_args(args, cfg) -> RunOptions:
    """The run options of a regression; :class:`BadInput` for an option out of range or an unknown test."""
    from tb.vta.cases import case_names
    tests = tuple(case_names(cfg)) + EXTRA_TESTS
    for name in args.testcase or ():
        if name not in tests:
            raise BadInput(f"--testcase: no test {name!r}; tests: {', '.join(tests)}")
    if args.random is not None and not 0 <= args.random <= MAX_RANDOM:
        raise BadInput(f"--random must be 0..{MAX_RANDOM:,}, not {args.random}")
    return RunOptions(latency=args.latency, seed=args.seed, waves=args.waves)


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from tb.vta.harness import run_regression

    try:
        options = check_regress_args(args, cfg)
    except BadInput as e:
        print(f"accelgen regress vta: {e}", file=sys.stderr)
        return 2
    test_dir, t0 = start_regression("vta", cfg, args)
    res = run_regression(cfg, test_dir, testcase=args.testcase or None,
                         n_random=200 if args.random is None else args.random, options=options)
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
    p.add_argument("--latency", type=int, help="DRAM read latency in cycles, 1..65535 (default 32)")
    p.add_argument("--cycle-limit", type=int, dest="cycle_limit",
                   help="stop after this many cycles (default: the job's, else 50,000,000)")


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
    from sw.vta import golden
    from sw.vta.isa import InsnError, decode_insn
    from sw.vta.job import insn_words, load_job
    from sw.vta.trace import describe, first_divergence
    from tb.vta.harness import run_trace_rtl

    cmd = "accelgen trace diff vta"
    job_dir = Path(args.job)
    default_out = job_dir / "trace"
    out = Path(args.out) if args.out else default_out
    try:
        options = RunOptions(latency=args.latency, cycle_limit=args.cycle_limit)
        job = load_job(job_dir)
        cfg = job.cfg
        out = check_output_path(out, protect=job.input_paths(), allow=() if args.out else (default_out,))
    except BadInput as e:
        print(f"{cmd}: bad input: {e}", file=sys.stderr)
        return 2
    gtrace = []
    g = golden.run(cfg, job.dram, job.insn_addr, job.insn_count, trace=gtrace)
    t0 = time.monotonic()
    run = run_trace_rtl(job_dir, out, cfg=cfg, options=options)
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
