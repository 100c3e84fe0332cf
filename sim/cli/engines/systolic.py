"""``accelgen regress systolic``: the systolic array's regression front end (``accelgen sim systolic`` is the generic
driver, :mod:`sim.cli.driver`, from ``sim.engines.systolic.SPEC``)."""

import sys
import time

from sim.cli.engines._common import start_regression
from sim.engines.systolic import DEFAULT_CONFIG, load_config, manifest, top  # noqa: F401
from sw.common.contract import BadInput, RunOptions

#: Upper bound of ``--random``.
MAX_RANDOM = 1000


#: Random layers ``accelgen regress systolic`` adds to the fixed cases unless --random says otherwise.
DEFAULT_RANDOM = 8


def add_regress_args(p):
    """``--latency`` (the DMA's DRAM read latency); ``--testcase NAME`` selects cases, ``--random N`` adds random
    layers."""
    p.add_argument("--latency", type=int, help="DRAM read latency of the DMA in cycles, 1..65535 (default 16)")


def check_regress_args(args, cfg) -> RunOptions:
    """The run options of a regression; :class:`BadInput` for an option out of range or an unknown test."""
    from tb.systolic.cases import cases_for
    if args.random is not None and not 0 <= args.random <= MAX_RANDOM:
        raise BadInput(f"--random must be 0..{MAX_RANDOM}, not {args.random}")
    options = RunOptions(latency=args.latency, seed=args.seed, waves=args.waves)
    n_random = DEFAULT_RANDOM if args.random is None else args.random
    if args.testcase:
        tests = [c.name for c in cases_for(cfg, n_random, 1 if options.seed is None else options.seed)]
        tests.append("hang_reports_cycle_limit")
        for name in args.testcase:
            if name not in tests:
                raise BadInput(f"--testcase: no test {name!r} for this config; tests: {', '.join(tests)}")
    return options


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from tb.systolic.harness import run_regression

    try:
        options = check_regress_args(args, cfg)
    except BadInput as e:
        print(f"accelgen regress systolic: {e}", file=sys.stderr)
        return 2
    test_dir, t0 = start_regression("systolic", cfg, args)
    res = run_regression(cfg, test_dir, testcase=args.testcase or None, waves=options.waves, seed=options.seed,
                         n_random=DEFAULT_RANDOM if args.random is None else args.random, latency=options.latency)
    rows = [{"test": t.name, "result": "PASS" if t.passed else "FAIL", **{k: t.data.get(k, "") for k in (
        "cycles", "bound", "scalesim", "ideal", "utilization", "folds", "min_read_gap")},
        "note": (t.message.splitlines()[0][:90] if t.message else "")} for t in res.tests]
    print_table(rows, ["test", "result", ("cycles", "cycles", ",d"), ("MACs/(R*C)", "bound", ",.1f"),
                       ("SCALE-Sim WS", "scalesim", ",d"), ("folds*T+2R+C-2", "ideal", ",d"),
                       ("util", "utilization", ".3f"), "folds", ("read gap", "min_read_gap"), "note"])
    return summarize(res, test_dir, cfg.to_dict(), time.monotonic() - t0, waves=args.waves)
