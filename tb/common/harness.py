"""Build and run the MemCopy fixture on Verilator (used by tests/test_sim_infra.py and for measurements).

Command line (prints a results table; long copy for a simulation-speed measurement)::

    python -m tb.common.harness [--words 1000000] [--waves]
"""

import argparse
import json
from pathlib import Path

from sim.runner import print_table, run_cocotb
from sim.simtop import SimTop
from sim.verilator import build
from sim.verilog import generate

__all__ = ["memcopy_verilog", "memcopy_build", "run_memcopy_tests", "TEST_MODULE"]

TEST_MODULE = "tb.common.test_memcopy"
_HERE = Path(__file__).resolve().parent


def memcopy_verilog(data_width=64, dram_depth_log2=21, *, out_root="build/verilog"):
    """Verilog of ``SimTop(MemCopy(data_width))`` (cached)."""
    from tb.common.memcopy import MemCopy
    key = {"engine": "memcopy", "data_width": data_width, "dram_depth_log2": dram_depth_log2}
    return generate("memcopy", lambda: SimTop(MemCopy(data_width), dram_depth_log2=dram_depth_log2),
                    key, out_root, extra_files=[_HERE / "memcopy.py"])


def memcopy_build(data_width=64, dram_depth_log2=21, *, waves=False,
                  verilog_root="build/verilog", sim_root="build/sim"):
    """Verilator build of the MemCopy SimTop (cached)."""
    return build(memcopy_verilog(data_width, dram_depth_log2, out_root=verilog_root),
                 waves=waves, out_root=sim_root)


def run_memcopy_tests(test_dir, *, data_width=64, dram_depth_log2=21, testcase=None, waves=False,
                      long_words=0, seed=None, sim_build=None):
    """Run :mod:`tb.common.test_memcopy` and return the :class:`sim.runner.RunResult`."""
    sb = sim_build or memcopy_build(data_width, dram_depth_log2, waves=waves)
    env = {"MEMCOPY_CONFIG": json.dumps({"data_width": data_width,
                                         "dram_depth_log2": dram_depth_log2}),
           "MEMCOPY_LONG_WORDS": str(long_words)}
    return run_cocotb(sb, TEST_MODULE, testcase=testcase, test_dir=test_dir, env=env,
                      waves=waves, seed=seed)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=0, help="also run a long copy of this many words")
    ap.add_argument("--waves", action="store_true", help="write a waveform in the test folder")
    ap.add_argument("--test-dir", default="build/tests/memcopy")
    args = ap.parse_args(argv)
    res = run_memcopy_tests(args.test_dir, waves=args.waves, long_words=args.words)
    rows = [{"test": t.name, "result": "SKIP" if t.skipped else "PASS" if t.passed else "FAIL", **t.data} for t in res.tests]
    print_table(rows, ["test", "result", ("latency", "latency"), ("words", "words"),
                       ("cycles", "cycles", ",d"), ("cycles/s", "cycles_per_s", ",.0f"),
                       ("wall s", "wall_s", ".2f")])
    if not res.passed:
        print(res.summary())
    return 0 if res.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
