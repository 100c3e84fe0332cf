"""Host side of the xpulpnn testbench: build the RTL of a config once (cached) and run programs on it.

:func:`run_rtl` runs any number of programs in one simulator process (:mod:`tb.xpulpnn.run_programs`) and
returns one :class:`sw.xpulpnn.iss.RunResult` per program, with the commit trace when asked.
:func:`run_both` also runs the ISS and reports every disagreement.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.runner import run_cocotb
from sim.verilator import build
from sim.verilog import generate
from sw.xpulpnn.config import XpulpNNConfig
from sw.xpulpnn.iss import ERROR_MESSAGES, ISS, RunResult
from sw.xpulpnn.program import Program, image, status_of_tohost
from sw.xpulpnn.trace import first_divergence, format_divergence
from tb.xpulpnn.run_programs import ENV_MANIFEST, ENV_RESULTS

__all__ = ["xpulpnn_verilog", "xpulpnn_build", "run_rtl", "run_iss", "run_both", "compare", "SimError",
           "DEFAULT_MAX_CYCLES"]

_HERE = Path(__file__).resolve().parent
_SW = _HERE.parent.parent / "sw" / "xpulpnn"   # the RTL imports the config and ISA constants from here
DEFAULT_MAX_CYCLES = 1_000_000


class SimError(RuntimeError):
    """The simulator itself failed (build error, crash, missing results)."""


def xpulpnn_verilog(cfg: XpulpNNConfig, *, out_root="build/verilog"):
    """Verilog of :class:`tb.xpulpnn.simtop.XpulpNNSim` for ``cfg`` (cached by config and sources)."""
    from tb.xpulpnn.simtop import SIM_MODELS, XpulpNNSim
    key = {"engine": "xpulpnn", "config": cfg.to_dict()}
    return generate("xpulpnn", lambda: XpulpNNSim(cfg), key, out_root, models=[SIM_MODELS],
                    extra_files=[_HERE / "simtop.py", *(_SW / f for f in ("config.py", "isa.py", "regs.py"))])


def xpulpnn_build(cfg: XpulpNNConfig, *, waves=False):
    """Verilator build for ``cfg`` (one per configuration, reused by every run)."""
    return build(xpulpnn_verilog(cfg), waves=waves)


def _hex(program: Program, cfg) -> str:
    buf = image(program, cfg)
    return "".join(f"{int.from_bytes(buf[i:i + 4], 'little'):08x}\n" for i in range(0, len(buf), 4))


def run_rtl(cfg: XpulpNNConfig, programs, work_dir, *, trace=False, max_cycles=DEFAULT_MAX_CYCLES,
            dump_bytes=0, waves=False, options=None):
    """Run ``programs`` on the RTL in one simulator process.

    Parameters
    ----------
    cfg : XpulpNNConfig
    programs : list of Program
    work_dir : path-like
        Holds the hex images, manifest, results, trace, log and waveform.
    trace : bool
        Record commit traces (``RunResult.trace``).
    max_cycles : int or list of int
        Cycle limit per program (status "timeout" beyond it).
    dump_bytes : int
        Also dump this many bytes of RAM (from ``RAM_BASE``) after each program into ``RunResult.ram``.
    options : sw.common.contract.RunOptions, optional
        Passed to the cocotb test (:meth:`RunOptions.from_env`); the per-program limits above take precedence.

    Returns
    -------
    list of RunResult

    Raises
    ------
    SimError
        If the simulator did not produce a result for every program.
    """
    work = Path(work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    limits = max_cycles if isinstance(max_cycles, (list, tuple)) else [max_cycles] * len(programs)
    entries = []
    for i, (p, limit) in enumerate(zip(programs, limits)):
        hex_path = work / f"prog{i}.hex"
        hex_path.write_text(_hex(p, cfg))
        e = {"name": p.name, "hex": str(hex_path), "entry": p.entry, "tohost": p.tohost, "max_cycles": int(limit)}
        if dump_bytes:
            e["dump_words"] = -(-dump_bytes // 4)
            e["dump"] = str(work / f"prog{i}.dump.hex")
        entries.append(e)
    (work / "manifest.json").write_text(json.dumps({"trace": trace, "programs": entries}, indent=1))
    results = work / "results.jsonl"
    if results.exists():
        results.unlink()
    trace_path = work / "trace.log"
    from sw.common.contract import RunOptions
    options = options or RunOptions(trace=trace, waves=waves)
    run = run_cocotb(xpulpnn_build(cfg, waves=waves), "tb.xpulpnn.run_programs", test_dir=work,
                     env={ENV_MANIFEST: work / "manifest.json", ENV_RESULTS: results, **options.to_env()},
                     plusargs=[f"+XPULPNN_TRACE={trace_path}"], waves=waves)
    recs = [json.loads(ln) for ln in results.read_text().splitlines()] if results.exists() else []
    if len(recs) != len(programs):
        raise SimError(f"the simulation returned {len(recs)} of {len(programs)} results: "
                       f"{run.returncode_error or run.summary()} (log {run.log_path})")
    traces = _split_trace(trace_path, len(programs)) if trace else [[] for _ in programs]
    out = []
    for p, rec, tr, limit, e in zip(programs, recs, traces, limits, entries):
        if not rec["halted"]:
            status, msg = "timeout", (f"no write to tohost (0x{p.tohost:08x}) within {limit:,} cycles; "
                                      f"pc 0x{rec['pc']:08x}")
        elif rec["error"]:
            status = "error"
            msg = f"{ERROR_MESSAGES.get(rec['error'], 'error ' + str(rec['error']))} at pc 0x{rec['pc']:08x}"
        else:
            status, msg = status_of_tohost(rec["tohost"])
        r = RunResult(status, rec["tohost"] if status in ("pass", "fail") else 0, rec["cycles"], rec["instret"],
                      rec["pc"], msg, tr)
        if dump_bytes:
            r.ram = _read_dump(Path(e["dump"]), dump_bytes)
        out.append(r)
    return out


def _read_dump(path, nbytes):
    words = [int(ln, 16) for ln in path.read_text().split() if ln and not ln.startswith(("@", "//"))]
    return b"".join(w.to_bytes(4, "little") for w in words)[:nbytes]


def _split_trace(path, n):
    groups = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("# program"):
            groups.append([])
        elif groups and line.strip():
            groups[-1].append(line.strip())
    groups += [[] for _ in range(n - len(groups))]
    return groups[:n]


def run_iss(cfg, program, *, trace=False, max_cycles=DEFAULT_MAX_CYCLES):
    """Run one program on the ISS."""
    return ISS(cfg, program, trace=trace).run(max_cycles)


def compare(program: Program, iss: RunResult, rtl: RunResult, *, traces=True):
    """Disagreements between an ISS and an RTL run of ``program`` (empty list when they agree).

    Status, tohost, retired instructions and stop pc must match (a timeout compares status only: the ISS counts
    instructions and the RTL cycles); with ``traces`` the commit traces must match line by line.
    """
    problems = []
    if iss.status != rtl.status:
        problems.append(f"status: iss {iss.status} ({iss.message}) vs rtl {rtl.status} ({rtl.message})")
    elif iss.status != "timeout":
        for k in ("tohost", "instret", "pc"):
            if getattr(iss, k) != getattr(rtl, k):
                problems.append(f"{k}: iss {getattr(iss, k):#x} vs rtl {getattr(rtl, k):#x}")
    if traces and iss.status != "timeout":
        d = first_divergence(iss.trace, rtl.trace)
        if d is not None:
            problems.append(format_divergence(d))
    return problems


def run_both(cfg, programs, work_dir, *, max_cycles=DEFAULT_MAX_CYCLES, traces=True):
    """Run ``programs`` on the ISS and the RTL; returns ``[(program, iss, rtl, problems)]``."""
    iss = [run_iss(cfg, p, trace=traces, max_cycles=max_cycles) for p in programs]
    rtl = run_rtl(cfg, programs, work_dir, trace=traces, max_cycles=max_cycles)
    return [(p, a, b, compare(p, a, b, traces=traces)) for p, a, b in zip(programs, iss, rtl)]


def regression_programs(cfg, *, n_random=500, seed=1, testcase=None):
    """The ISA test programs (built with the toolchain) and ``n_random`` random streams from ``seed``."""
    from sw.xpulpnn.isatests import build_all
    from sw.xpulpnn.program import load_elf
    from sw.xpulpnn.randstream import random_stream
    progs = []
    for name, elf in build_all().items():
        p = load_elf(elf, cfg)
        p.name = name
        progs.append(p)
    if not cfg.xpulpv2:
        progs = [p for p in progs if p.name.startswith(("rv32", "csr"))]
    progs += [random_stream(seed + i, cfg) for i in range(n_random)]
    if testcase:
        wanted = set(testcase)
        unknown = sorted(wanted - {p.name for p in progs})
        if unknown:
            from sw.common.contract import BadInput
            shown = ", ".join(p.name for p in progs if not p.name.startswith("random-"))
            raise BadInput(f"--testcase: no test {unknown[0]!r}; tests: {shown}, random-<seed> "
                           f"(seeds {seed}..{seed + n_random - 1})")
        progs = [p for p in progs if p.name in wanted]
    return progs


def run_regression(cfg, test_dir, *, n_random=500, seed=1, testcase=None, waves=False, max_cycles=200_000):
    """Every ISA test and ``n_random`` random streams on the ISS and (in one simulator run) on the RTL.

    A program passes when the ISS and the RTL agree (status, tohost, instret, stop pc, commit trace) and, for
    the ISA tests, the status is "pass". Returns a :class:`sim.runner.RunResult` with one test per program
    (data: status, instret, rtl cycles) so that :func:`sim.runner.summarize` reports it like any regression.
    """
    import time
    from sim.runner import RunResult as Regression
    from sim.runner import TestResult
    t0 = time.monotonic()
    progs = regression_programs(cfg, n_random=n_random, seed=seed, testcase=testcase)
    iss = [run_iss(cfg, p, trace=True, max_cycles=max_cycles) for p in progs]
    test_dir = Path(test_dir)
    try:
        rtl = run_rtl(cfg, progs, test_dir, trace=True, max_cycles=max_cycles, waves=waves)
    except SimError as e:
        return Regression([], test_dir / "results.xml", test_dir / "sim.log", returncode_error=str(e))
    tests = []
    for p, a, b in zip(progs, iss, rtl):
        problems = compare(p, a, b)
        if not p.name.startswith("random-") and a.status != "pass":
            problems.insert(0, f"ISS status {a.status}: {a.message}")
        tests.append(TestResult(p.name, not problems, "\n".join(problems),
                                {"status": b.status, "instret": b.instret, "cycles": b.cycles}))
    return Regression(tests, test_dir / "results.xml", test_dir / "sim.log", wall_s=round(time.monotonic() - t0, 2))
