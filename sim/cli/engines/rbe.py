"""``accelgen regress rbe``: the RBE's regression front end (``accelgen sim rbe`` is the generic driver,
:mod:`sim.cli.driver`, from ``sim.engines.rbe.SPEC``)."""

import sys
import time

from sim.cli.engines._common import start_regression
from sim.engines.rbe import DEFAULT_CONFIG, load_config, manifest, top  # noqa: F401
from sw.common.contract import BadInput, RunOptions

#: Tests of :mod:`tb.rbe.test_rbe` (``--testcase`` must name one of them).
TESTS = ("precision_grid", "edge_values", "split_k_out", "throughput_64x64_11x11", "refused_registers",
         "hang_report")
#: Upper bound of ``--random`` (precision triples sampled from the 343-point grid).
MAX_RANDOM = 343


def add_regress_args(p):
    p.add_argument("--latency", type=int, help="memory read latency in cycles, 1..65535 (default 8)")


def check_regress_args(args) -> RunOptions:
    """The run options of a regression; :class:`BadInput` for an option out of range or an unknown test."""
    for name in args.testcase or ():
        if name not in TESTS:
            raise BadInput(f"--testcase: no test {name!r}; tests: {', '.join(TESTS)}")
    if args.random is not None and not 0 <= args.random <= MAX_RANDOM:
        raise BadInput(f"--random must be 0..{MAX_RANDOM}, not {args.random}")
    return RunOptions(latency=args.latency, seed=args.seed, waves=args.waves)


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from tb.rbe.harness import run_regression

    try:
        options = check_regress_args(args)
    except BadInput as e:
        print(f"accelgen regress rbe: {e}", file=sys.stderr)
        return 2
    test_dir, t0 = start_regression("rbe", cfg, args)
    res = run_regression(cfg, test_dir, testcase=args.testcase or None, waves=options.waves, n_random=args.random,
                         seed=options.seed, latency=options.latency)
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
