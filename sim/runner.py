"""Run cocotb tests against an existing Verilator build and collect their results.

:func:`run_cocotb` never builds: it runs the executable of a :class:`sim.verilator.SimBuild` in its own
test folder, with the DRAM file plusargs and environment set, then reads the JUnit XML written by
cocotb and the ``records.jsonl`` side file written by :func:`sim.cocotb_util.record`. It behaves the
same under pytest and from a command-line tool (cocotb's runner raises or exits on failures only in
some situations; here failures are always reported through the returned :class:`RunResult`).
"""

import json
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from sim.cocotb_util import ENV_DRAM_IN, ENV_DRAM_OUT, ENV_RECORDS
from sim.verilator import TIMESCALE, _ensure_path, _runner_class

__all__ = ["TestResult", "RunResult", "run_cocotb", "print_table", "format_table", "summarize"]


@dataclass
class TestResult:
    """Outcome of one cocotb test.

    Attributes
    ----------
    name : str
        Test function name.
    passed : bool
        No failure or error (a skipped test counts as passed).
    message : str
        Failure message (empty when passed; ``"skipped"`` when skipped).
    data : dict
        Everything the test recorded with :func:`sim.cocotb_util.record` (merged; later keys win),
        plus ``sim_time_ns`` and ``wall_s`` from the XML when present.
    """

    __test__ = False   # not a pytest class

    name: str
    passed: bool
    message: str = ""
    data: dict = field(default_factory=dict)
    skipped: bool = False


@dataclass
class RunResult:
    """Outcome of one :func:`run_cocotb` call.

    Attributes
    ----------
    tests : list of TestResult
    results_xml : Path
    log_path : Path
        Simulator output (cocotb log) of the run.
    records : list of dict
        Raw lines of ``records.jsonl``.
    wall_s : float
        Wall time of the whole simulator run.
    returncode_error : str
        Non-empty when the simulator process failed (crash, ``$fatal``...).
    """

    tests: list
    results_xml: Path
    log_path: Path
    records: list = field(default_factory=list)
    wall_s: float = 0.0
    returncode_error: str = ""

    @property
    def passed(self):
        """True when at least one test ran, all passed and the simulator exited cleanly."""
        return bool(self.tests) and all(t.passed for t in self.tests) and not self.returncode_error

    def summary(self):
        """One line per test, for assertion messages."""
        lines = [f"{'SKIP' if t.skipped else 'PASS' if t.passed else 'FAIL'} {t.name} {t.message}".rstrip()
                 for t in self.tests]
        if not self.tests:
            lines.append(f"no test results (see {self.log_path})")
        if self.returncode_error:
            lines.append(f"simulator: {self.returncode_error} (see {self.log_path})")
        return "\n".join(lines)


def _parse_xml(path):
    tests = []
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        message = ""
        if failure is not None:
            message = failure.get("message") or (failure.text or "").strip()
        elif skipped is not None:
            message = "skipped"
        data = {}
        for attr, key in (("sim_time_ns", "sim_time_ns"), ("time", "wall_s")):
            if case.get(attr) is not None:
                try:
                    data[key] = float(case.get(attr))
                except ValueError:
                    pass
        tests.append(TestResult(case.get("name", "?"), failure is None, message, data,
                                skipped is not None))
    return tests


def run_cocotb(sim_build, test_module, *, testcase=None, test_dir, env=None, plusargs=(),
               seed=None, waves=False, timeout_s=None):
    """Run cocotb tests from ``test_module`` against ``sim_build``.

    Parameters
    ----------
    sim_build : sim.verilator.SimBuild
        A finished build (see :func:`sim.verilator.build`).
    test_module : str
        Importable module with the ``@cocotb.test()`` functions (e.g. ``"tb.common.test_memcopy"``).
    testcase : str or list of str, optional
        Run only these tests.
    test_dir : path-like
        Folder for this run (created; its previous ``records.jsonl`` and results are removed). The
        DRAM files (``dram_in.hex``, ``dram_out.hex``), the log and waveforms go there.
    env : dict, optional
        Extra environment variables for the tests (e.g. job paths).
    plusargs : sequence of str
        Extra simulator plusargs (``"+name=value"``).
    seed : int, optional
        cocotb random seed.
    waves : bool
        Write a waveform (``dump.fst`` or ``dump.vcd``) in ``test_dir``; needs a build made with
        ``waves=True``.
    timeout_s : float, optional
        Not enforced here; tests must bound themselves with cycle limits (see
        :func:`sim.cocotb_util.wait_until`). Accepted for forward compatibility.

    Returns
    -------
    RunResult

    Raises
    ------
    ValueError
        If ``waves`` is asked from a build made without tracing.
    """
    if waves and not sim_build.waves:
        raise ValueError(f"waves=True needs a build made with waves=True; {sim_build.dir} has none")
    test_dir = Path(test_dir).resolve()
    test_dir.mkdir(parents=True, exist_ok=True)
    records = test_dir / "records.jsonl"
    results_xml = test_dir / "results.xml"
    log_path = test_dir / "sim.log"
    for stale in (records, results_xml, test_dir / "dram_out.hex"):
        if stale.exists():
            stale.unlink()
    dram_in, dram_out = test_dir / "dram_in.hex", test_dir / "dram_out.hex"

    run_env = {str(k): str(v) for k, v in (env or {}).items()}
    run_env.update({ENV_DRAM_IN: str(dram_in), ENV_DRAM_OUT: str(dram_out), ENV_RECORDS: str(records)})
    # Make the repository importable from the simulator's embedded Python.
    repo = str(Path(__file__).resolve().parent.parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)

    _ensure_path()
    runner = _runner_class()()
    runner.forced_waves = bool(waves)
    runner.build_dir = Path(sim_build.dir)
    t0 = time.monotonic()
    error = ""
    try:
        runner.test(
            test_module=test_module,
            hdl_toplevel=sim_build.top_name,
            hdl_toplevel_lang="verilog",
            testcase=testcase,
            seed=seed,
            plusargs=[f"+ACCELGEN_DRAM_IN={dram_in}", f"+ACCELGEN_DRAM_OUT={dram_out}", *plusargs],
            extra_env=run_env,
            waves=bool(waves),
            build_dir=str(sim_build.dir),
            test_dir=str(test_dir),
            results_xml=str(results_xml),
            timescale=TIMESCALE,
            log_file=str(log_path),
        )
    except SystemExit as e:            # cocotb exits on failed tests under pytest or on a crash
        if e.code not in (0, None):
            error = f"exit status {e.code}"
    except RuntimeError as e:          # the simulator process returned non-zero
        error = str(e)
    wall = time.monotonic() - t0

    tests = _parse_xml(results_xml) if results_xml.exists() else []
    # cocotb treats a failing test as an exit status of its own; only keep errors XML does not explain.
    if error and tests and not all(t.passed for t in tests) and error.startswith("exit status 1"):
        error = ""
    rec_lines = []
    if records.exists():
        for line in records.read_text().splitlines():
            if line.strip():
                rec_lines.append(json.loads(line))
    by_name = {t.name: t for t in tests}
    for rec in rec_lines:
        test = by_name.get(rec.get("test")) or by_name.get(rec.get("name"))
        if test is not None:
            test.data.update({k: v for k, v in rec.items() if k not in ("name", "test")})
    if waves and sim_build.waves_file and (test_dir / sim_build.waves_file).exists():
        for t in tests:
            t.data.setdefault("waves", str(test_dir / sim_build.waves_file))
    return RunResult(tests, results_xml, log_path, rec_lines, round(wall, 3), error)


def format_table(rows, columns):
    """Format dicts as an aligned text table.

    Parameters
    ----------
    rows : list of dict
    columns : list of str or (header, key) or (header, key, format)
        Which keys to show; ``format`` is a format spec such as ``",d"`` or ``".2f"``.

    Returns
    -------
    str
    """
    cols = []
    for c in columns:
        if isinstance(c, str):
            cols.append((c, c, ""))
        elif len(c) == 2:
            cols.append((c[0], c[1], ""))
        else:
            cols.append(tuple(c))

    def cell(row, key, spec):
        v = row.get(key, "") if isinstance(row, dict) else getattr(row, key, "")
        if v is None or v == "":
            return ""
        try:
            return format(v, spec) if spec else str(v)
        except (TypeError, ValueError):
            return str(v)

    body = [[cell(r, k, s) for _, k, s in cols] for r in rows]
    widths = [max([len(h)] + [len(b[i]) for b in body]) for i, (h, _, _) in enumerate(cols)]
    numeric = [all(_isnum(b[i]) for b in body if b[i]) for i in range(len(cols))]

    def line(vals):
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(vals, widths, numeric)).rstrip()

    out = [line([h for h, _, _ in cols]), "  ".join("-" * w for w in widths)]
    out += [line(b) for b in body]
    return "\n".join(out)


def _isnum(s):
    try:
        float(s.replace(",", ""))
        return True
    except ValueError:
        return False


def print_table(rows, columns, file=None):
    """Print :func:`format_table` of ``rows`` (to stdout by default)."""
    print(format_table(rows, columns), file=file or sys.stdout)


def summarize(res: RunResult, test_dir, config: dict, wall_s: float, *, waves=False, file=None) -> int:
    """Footer of every ``accelgen regress``: write ``test_dir/summary.json``, print where results are, return
    the exit status (0 when every test passed, 1 otherwise, including "no test ran")."""
    file = file or sys.stdout
    test_dir = Path(test_dir)
    n_pass = sum(t.passed for t in res.tests)
    n_fail = len(res.tests) - n_pass
    summary = {"config": config, "wall_s": round(wall_s, 1),
               "tests": [{"name": t.name, "passed": t.passed, **t.data} for t in res.tests]}
    (test_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"results: {res.results_xml} (JUnit XML), {test_dir / 'summary.json'}; log {res.log_path}", file=file)
    if waves:
        print(f"waveforms: {sorted(test_dir.glob('dump.*'))}", file=file)
    if res.returncode_error or not res.tests:
        print(f"simulation error: {res.returncode_error or 'no test ran'}", file=sys.stderr)
        n_fail = max(n_fail, 1)
    print(f"{n_pass} passed, {n_fail} failed", file=file)
    return 0 if n_fail == 0 else 1
