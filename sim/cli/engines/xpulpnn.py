"""``accelgen sim|regress|verilog|trace diff xpulpnn``: the RISC-V XpulpNN core's plugin (see :mod:`sim.engines`).

    accelgen sim xpulpnn --elf PROG.elf [--backend rtl|iss] [--config CFG] [--max-cycles N] [--trace] [--out DIR]
    accelgen regress xpulpnn [--random N] [--seed S] [--testcase NAME]
    accelgen trace diff xpulpnn --elf PROG.elf [--config CFG] [--max-cycles N] [--out DIR]
"""

import json
import sys
import time
from pathlib import Path
from sim.engines.xpulpnn import DEFAULT_CONFIG, load_config, manifest, top  # noqa: F401

DEFAULT_MAX_CYCLES = 1_000_000
RESULT_KEYS = ("status", "tohost", "cycles", "instret", "pc", "message")


def _common(p, *, out_help):
    p.add_argument("--elf", required=True, help="RISC-V ELF32 program linked at 0x80000000 with a 'tohost' symbol")
    p.add_argument("--config", help=f"config JSON (default {DEFAULT_CONFIG})")
    p.add_argument("--max-cycles", type=int, default=DEFAULT_MAX_CYCLES,
                   help=f"stop with status 'timeout' after this many cycles (default {DEFAULT_MAX_CYCLES:,})")
    p.add_argument("--out", help=out_help)


def add_sim_args(p):
    _common(p, out_help="output folder for result.json and trace.log (default build/xpulpnn/runs/ELF-BACKEND)")
    p.add_argument("--backend", choices=("rtl", "iss"), default="rtl")
    p.add_argument("--trace", action="store_true", help="write the commit log OUT/trace.log")
    p.add_argument("--waves", action="store_true", help="record a waveform (RTL)")


def _load(args, cmd):
    """(cfg, program) or None after printing why not."""
    from sim.cli import load_engine_config
    from sw.xpulpnn.program import ProgramError, load_elf
    cfg = load_engine_config("xpulpnn", args.config, cmd)
    if cfg is None:
        return None
    if args.max_cycles < 1:
        print(f"{cmd}: --max-cycles must be >= 1, not {args.max_cycles}", file=sys.stderr)
        return None
    try:
        return cfg, load_elf(args.elf, cfg)
    except (ProgramError, OSError) as e:
        print(f"{cmd}: bad program: {e}", file=sys.stderr)
        return cfg, e


def _write_result(out, result):
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps({k: result[k] for k in RESULT_KEYS}, indent=1) + "\n")


def sim(args):
    from tb.xpulpnn.harness import SimError, run_iss, run_rtl
    loaded = _load(args, "accelgen sim xpulpnn")
    out = Path(args.out) if args.out else Path("build/xpulpnn/runs") / f"{Path(args.elf).stem}-{args.backend}"
    if loaded is None:
        return 2
    cfg, prog = loaded
    if isinstance(prog, Exception):
        _write_result(out, {"status": "error", "tohost": 0, "cycles": 0, "instret": 0, "pc": 0,
                            "message": f"bad program: {prog}"})
        print(f"results: {out / 'result.json'}")
        return 2
    t0 = time.monotonic()
    if args.backend == "iss":
        r = run_iss(cfg, prog, trace=args.trace, max_cycles=args.max_cycles)
    else:
        try:
            r = run_rtl(cfg, [prog], out / "sim", trace=args.trace, max_cycles=args.max_cycles, waves=args.waves)[0]
        except SimError as e:
            _write_result(out, {"status": "error", "tohost": 0, "cycles": 0, "instret": 0, "pc": 0,
                                "message": f"simulation failed: {e}"})
            print(f"accelgen sim xpulpnn: {e}", file=sys.stderr)
            return 1
    wall = time.monotonic() - t0
    _write_result(out, r.to_json())
    if args.trace:
        (out / "trace.log").write_text("".join(line + "\n" for line in r.trace))
    print(f"{args.backend}: {prog.name}: status {r.status}, tohost {r.tohost}, cycles {r.cycles:,}, "
          f"instret {r.instret:,}, pc 0x{r.pc:08x}, {wall:.1f} s")
    if r.message:
        print(f"  {r.message}")
    print(f"results: {out / 'result.json'}" + (f", trace: {out / 'trace.log'}" if args.trace else ""))
    return 0 if r.status == "pass" else 1


def add_regress_args(p):
    pass


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from tb.xpulpnn.harness import run_regression
    n_random = 500 if args.random is None else args.random
    seed = 1 if args.seed is None else args.seed
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
    _common(p, out_help="folder for iss.trace and rtl.trace (default build/xpulpnn/runs/ELF-diff)")


def trace_diff(args):
    from sw.xpulpnn.trace import first_divergence, format_divergence
    from tb.xpulpnn.harness import compare, run_iss, run_rtl
    loaded = _load(args, "accelgen trace diff xpulpnn")
    if loaded is None or isinstance(loaded[1], Exception):
        return 2
    cfg, prog = loaded
    out = Path(args.out) if args.out else Path("build/xpulpnn/runs") / f"{Path(args.elf).stem}-diff"
    a = run_iss(cfg, prog, trace=True, max_cycles=args.max_cycles)
    b = run_rtl(cfg, [prog], out / "sim", trace=True, max_cycles=args.max_cycles)[0]
    out.mkdir(parents=True, exist_ok=True)
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
