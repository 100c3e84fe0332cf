"""``accelgen regress cap``: the 2D CAP engine's command-line extras (``accelgen sim cap`` is the generic driver
of :mod:`sim.cli.driver`, from ``sim.engines.cap.SPEC``)."""

import sys
import time

from sim.cli.engines._common import start_regression
from sim.engines.cap import DEFAULT_CONFIG, load_config, manifest, top  # noqa: F401


def add_regress_args(p):
    pass


def regress(args, cfg):
    from sim.runner import print_table, summarize
    from sw.common.contract import BadInput, RunOptions
    from tb.cap.harness import run_regression

    from tb.cap.harness import test_names
    try:
        RunOptions(seed=args.seed)
        if args.random is not None and not 0 <= args.random <= 10_000:
            raise BadInput(f"--random must be 0..10000, not {args.random}")
        unknown = sorted(set(args.testcase or ()) - set(test_names()))
        if unknown:
            raise BadInput(f"--testcase: no test {unknown[0]!r}; tests: {', '.join(test_names())}")
    except BadInput as e:
        print(f"accelgen regress cap: {e}", file=sys.stderr)
        return 2
    test_dir, t0 = start_regression("cap", cfg, args)
    res = run_regression(cfg, test_dir, testcase=args.testcase or None, waves=args.waves,
                         n_random=20 if args.random is None else args.random, seed=args.seed)
    rows = [{"test": t.name, "result": "PASS" if t.passed else "FAIL", "cases": t.data.get("cases", ""),
             "seed": t.data.get("seed", ""), "note": (t.message.splitlines()[0][:100] if t.message else "")}
            for t in res.tests]
    print_table(rows, ["test", "result", "cases", "seed", "note"])
    return summarize(res, test_dir, cfg.to_dict(), time.monotonic() - t0, waves=args.waves)
