"""``accelgen regress|trace diff xpulpnn``: the RISC-V XpulpNN core's command-line extras (``accelgen sim
xpulpnn`` is the generic driver of :mod:`sim.cli.driver`, from ``sim.engines.xpulpnn.SPEC``).

    accelgen regress xpulpnn [--random N] [--seed S] [--testcase NAME]
    accelgen trace diff xpulpnn --job JOB|ELF [--config CFG] [--cycle-limit N] [--out DIR]
"""

import sys
import time
from pathlib import Path

from sim.engines.xpulpnn import DEFAULT_CONFIG, DEFAULT_MAX_CYCLES, load_config, manifest, top  # noqa: F401


def add_regress_args(p):
    pass


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from sw.common.contract import BadInput, RunOptions
    from tb.xpulpnn.harness import regression_programs, run_regression
    n_random = 500 if args.random is None else args.random
    seed = 1 if args.seed is None else args.seed
    try:
        RunOptions(seed=seed)
        if not 0 <= n_random <= 100_000:
            raise BadInput(f"--random must be 0..100000, not {n_random}")
        if args.testcase:
            regression_programs(cfg, n_random=n_random, seed=seed, testcase=args.testcase)
    except BadInput as e:
        print(f"accelgen regress xpulpnn: {e}", file=sys.stderr)
        return 2
    test_dir = Path("build/tests") / f"xpulpnn-{cfg.name}"
    print(f"xpulpnn {cfg.name} ({args.config}): ISA tests + {n_random} random streams (seeds {seed}.."
          f"{seed + n_random - 1}), RTL vs ISS in {test_dir}", flush=True)
    t0 = time.monotonic()
    res = run_regression(cfg, test_dir, n_random=n_random, seed=seed, testcase=args.testcase, waves=args.waves)
    shown = [t for t in res.tests if not t.name.startswith("random-") or not t.passed]
    rows = [{"test": t.name, "result": "PASS" if t.passed else "FAIL", "status": t.data.get("status", ""),
             "instret": t.data.get("instret", ""), "cycles": t.data.get("cycles", ""),
             "note": (t.message.splitlines()[0][:90] if t.message else "")} for t in shown]
    randoms = [t for t in res.tests if t.name.startswith("random-")]
    if randoms:
        rows.append({"test": f"random-* ({len(randoms)})", "result": "PASS" if all(t.passed for t in randoms)
                     else f"{sum(not t.passed for t in randoms)} FAIL",
                     "instret": sum(t.data.get("instret", 0) for t in randoms),
                     "cycles": sum(t.data.get("cycles", 0) for t in randoms)})
    print_table(rows, ["test", "result", "status", ("instret", "instret", ",d"), ("rtl cycles", "cycles", ",d"),
                       "note"])
    for t in res.tests:
        if not t.passed:
            print(f"--- {t.name} (random streams: accelgen regress xpulpnn --random 1 --seed N)\n{t.message}")
    return summarize(res, test_dir, cfg.to_dict(), time.monotonic() - t0, waves=args.waves)


def add_trace_args(p):
    p.add_argument("--job", "--elf", dest="job", required=True,
                   help="job folder (job.json naming the ELF) or an ELF file (--elf: the same)")
    p.add_argument("--config", help="config JSON replacing the job's (default: the job's, else "
                                    f"{DEFAULT_CONFIG})")
    p.add_argument("--cycle-limit", "--max-cycles", dest="cycle_limit", type=int,
                   help=f"stop with status 'timeout' after this many cycles (default: the job's, else "
                        f"{DEFAULT_MAX_CYCLES:,})")
    p.add_argument("--out", help="folder for iss.trace and rtl.trace (default: JOB-diff next to the job)")


def _load_for_trace(args, cmd):
    """(job, options) or None after printing why not."""
    from sw.common.contract import BadInput, RunOptions
    from sw.xpulpnn.job import load_job
    try:
        options = RunOptions(cycle_limit=args.cycle_limit, trace=True)
        job = load_job(args.job)
        if args.config:
            from sw.xpulpnn.config import XpulpNNConfig
            try:
                job.cfg = XpulpNNConfig.load(args.config)
            except ValueError as e:
                raise BadInput(f"{args.config}: {e}") from None
            job.config_file = Path(args.config)
            job.program.check(job.cfg)
    except BadInput as e:
        print(f"{cmd}: {e}", file=sys.stderr)
        return None
    return job, options


def trace_diff(args):
    from sw.common.contract import BadInput, check_output_path
    from sw.xpulpnn.backend import cycle_limit
    from sw.xpulpnn.trace import first_divergence, format_divergence
    from tb.xpulpnn.harness import compare, run_iss, run_rtl
    cmd = "accelgen trace diff xpulpnn"
    loaded = _load_for_trace(args, cmd)
    if loaded is None:
        return 2
    job, options = loaded
    jp = Path(args.job)
    out = Path(args.out) if args.out else (jp.parent / f"{jp.stem}-diff" if jp.is_file() else jp / "out-diff")
    try:
        out = check_output_path(out, protect=job.input_paths(), allow=() if args.out else (out,))
    except BadInput as e:
        print(f"{cmd}: {e}", file=sys.stderr)
        return 2
    limit = cycle_limit(job, options)
    prog = job.program
    a = run_iss(job.cfg, prog, trace=True, max_cycles=limit)
    b = run_rtl(job.cfg, [prog], out / "sim", trace=True, max_cycles=limit, options=options)[0]
    for name, r in (("iss", a), ("rtl", b)):
        (out / f"{name}.trace").write_text("".join(line + "\n" for line in r.trace))
    print(f"iss: status {a.status}, instret {a.instret:,}; rtl: status {b.status}, instret {b.instret:,}, "
          f"cycles {b.cycles:,}; traces in {out}")
    d = first_divergence(a.trace, b.trace)
    if d is None:
        others = compare(prog, a, b, traces=False)
        for p in others:
            print(f"  {p}")
        print(f"traces identical ({len(a.trace):,} retired instructions)")
        return 1 if others else 0
    print(format_divergence(d))
    return 1
