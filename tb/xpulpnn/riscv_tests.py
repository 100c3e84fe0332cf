"""Build and run a riscv-tests checkout (rv32ui, rv32um) on the xpulpnn RTL and ISS and print a pass/fail table.

    python -m tb.xpulpnn.riscv_tests --src ~/riscv-tests [--env real minimal] [--suite rv32ui rv32um]
                                     [--backend rtl iss] [--only add sub] [--cli] [--config CFG] [--out DIR]

``--src`` is the root of a riscv-tests checkout with its ``env`` submodule (``isa/rv32ui/*.S``,
``isa/macros/scalar/test_macros.h``, ``env/p/riscv_test.h``, ``env/p/link.ld``, ``env/encoding.h``). Every test
is built with the project's toolchain (:mod:`sw.xpulpnn.toolchain`, clang from ziglang, RV32IM) twice:

* ``real``: with the checkout's ``env/p`` header and linker script (reset vector with CSR set-up, ``mret`` to
  the test, RVTEST_PASS / RVTEST_FAIL as ``ecall`` through the trap handler, which writes ``tohost``);
* ``minimal``: with the project's own ``sw/xpulpnn/env/riscv_test.h`` (RVTEST_PASS / RVTEST_FAIL store to
  ``tohost`` directly) and ``sw/xpulpnn/env/link.ld``; the test bodies and ``test_macros.h`` are the checkout's.

Each program then runs on the ISS and on the RTL. By default all RTL runs share one simulator process
(:func:`tb.xpulpnn.harness.run_rtl`) and RTL and ISS commit traces are compared; ``--cli`` instead runs each
program through ``accelgen sim xpulpnn --elf X --backend B`` (the acceptance command; slower: one simulator
start per program; the job is a folder whose job.json names the ELF and the config). A test passes when it reports pass on every backend (and, without ``--cli``, RTL and ISS
agree on status, tohost, retired instructions, stop pc and the whole commit trace). The sources are never
copied into the project: the ELFs go under ``--out`` (default ``build/xpulpnn/riscv-tests``).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

SUITES = ("rv32ui", "rv32um")
ENVS = ("real", "minimal")
BACKENDS = ("rtl", "iss")
DEFAULT_OUT = Path("build/xpulpnn/riscv-tests")
DEFAULT_MAX_CYCLES = 200_000
# Tests this core does not run, with the reason (none at the moment: ma_data and fence_i pass).
UNSUPPORTED: dict = {}

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+\.S)"', re.M)


class CheckoutError(ValueError):
    """``--src`` is not a usable riscv-tests checkout."""


def find_tests(src, suites=SUITES, only=()):
    """``[(suite, name, path)]`` of the ``.S`` tests of ``suites`` in the checkout ``src`` (sorted).

    Raises
    ------
    CheckoutError
        If a suite folder, ``test_macros.h`` or the ``env/p`` files are missing.
    """
    src = Path(src)
    need = [src / "isa" / "macros" / "scalar" / "test_macros.h", src / "env" / "p" / "riscv_test.h",
            src / "env" / "p" / "link.ld"]
    missing = [str(p) for p in need if not p.exists()]
    if missing:
        raise CheckoutError(f"{src} is not a riscv-tests checkout with its env submodule: missing {missing} "
                            "(git clone --recursive, or git submodule update --init)")
    tests = []
    for suite in suites:
        d = src / "isa" / suite
        if not d.is_dir():
            raise CheckoutError(f"no folder {d} (suites: {', '.join(SUITES)})")
        tests += [(suite, p.stem, p) for p in sorted(d.glob("*.S"))]
    if only:
        wanted = set(only)
        unknown = wanted - {n for _, n, _ in tests}
        if unknown:
            raise CheckoutError(f"--only: no test named {sorted(unknown)} in {', '.join(suites)}")
        tests = [t for t in tests if t[1] in wanted]
    return tests


def _depends(path: Path):
    """The ``.S`` files ``path`` includes (rv32ui tests include ../rv64ui/X.S), transitively."""
    out, todo = [], [path]
    while todo:
        p = todo.pop()
        for inc in _INCLUDE.findall(p.read_text(errors="replace")):
            q = (p.parent / inc).resolve()
            if q.exists() and q not in out:
                out.append(q)
                todo.append(q)
    return out


def build_test(src, suite, name, path, env, out_dir):
    """Build one test with the ``real`` env/p header or the project's ``minimal`` one; returns the ELF path."""
    from sw.xpulpnn.toolchain import LINK_LD, compile_program
    src = Path(src).resolve()
    macros = src / "isa" / "macros" / "scalar"
    deps = [*_depends(Path(path)), *(src / "env").glob("*.h")]
    if env == "real":
        incs, ld = [src / "env" / "p", macros], src / "env" / "p" / "link.ld"
    elif env == "minimal":
        incs, ld = [macros], LINK_LD       # test_macros.h from the checkout, riscv_test.h from sw/xpulpnn/env
    else:
        raise ValueError(f"env must be one of {ENVS}, not {env!r}")
    tag = "p" if env == "real" else "min"
    elf = Path(out_dir) / "elf" / f"{suite}-{tag}-{name}.elf"
    return compile_program([path], elf, c_runtime=False, include_dirs=incs, linker_script=ld, depends=deps,
                           build_dir=Path(out_dir))


def _cli_run(elf, backend, cfg, max_cycles, out_dir):
    """One ``accelgen sim xpulpnn --job`` run (a job folder naming the ELF and ``cfg``); returns its result.json
    as a dict whose ``status`` is the program's verdict (pass, fail, timeout, error)."""
    from sw.xpulpnn.job import write_job
    exe = Path(sys.executable).with_name("accelgen")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c",
                                            "import sys; from sim.cli import main; sys.exit(main(sys.argv[1:]))"]
    job = write_job(Path(out_dir) / "jobs" / Path(elf).stem, Path(elf).resolve(), cfg, cycle_limit=max_cycles)
    out = Path(out_dir) / "runs" / f"{Path(elf).stem}-{backend}"
    cmd += ["sim", "xpulpnn", "--job", str(job), "--backend", backend, "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    res = out / "result.json"
    if not res.exists():
        return {"status": "error", "message": f"no result.json: {(r.stderr or r.stdout)[-300:]}", "cycles": 0}
    d = json.loads(res.read_text())
    return {**d, "status": d.get("verdict", d["status"])}


def run(src, *, suites=SUITES, envs=ENVS, backends=BACKENDS, only=(), config=None, cli=False,
        out_dir=DEFAULT_OUT, max_cycles=DEFAULT_MAX_CYCLES, log=print):
    """Build and run every selected test; returns a list of row dicts (one per test and env)."""
    from sim.engines.xpulpnn import DEFAULT_CONFIG, load_config
    from sw.xpulpnn.program import load_elf
    from sw.xpulpnn.toolchain import ToolchainError
    from tb.xpulpnn.harness import compare, run_iss, run_rtl
    try:
        cfg = load_config(config or DEFAULT_CONFIG)
    except (ValueError, OSError) as e:
        raise CheckoutError(f"bad config {config or DEFAULT_CONFIG}: {e}") from None
    out_dir = Path(out_dir)
    tests = find_tests(src, suites, only)
    rows, progs = [], []
    t0 = time.monotonic()
    for env in envs:
        for suite, name, path in tests:
            row = {"test": f"{suite}-{'p' if env == 'real' else 'min'}-{name}", "env": env, "name": name,
                   "suite": suite}
            rows.append(row)
            if name in UNSUPPORTED:
                row.update(result="UNSUPPORTED", note=UNSUPPORTED[name])
                continue
            try:
                row["elf"] = build_test(src, suite, name, path, env, out_dir)
            except ToolchainError as e:
                row.update(result="BUILD FAIL", note=str(e).splitlines()[-1][:100])
                continue
            if not cli:
                p = load_elf(row["elf"], cfg)
                p.name = row["test"]
                progs.append((row, p))
    log(f"built {sum('elf' in r for r in rows)} programs in {time.monotonic() - t0:.1f} s")
    if cli:
        for row in rows:
            if "elf" not in row:
                continue
            for b in backends:
                res = _cli_run(row["elf"], b, cfg, max_cycles, out_dir)
                row[b] = res["status"]
                row[f"{b}_cycles"] = res.get("cycles", 0)
                if res["status"] != "pass":
                    row.setdefault("note", res.get("message", "")[:100])
    else:
        iss = {id(r): run_iss(cfg, p, trace="rtl" in backends, max_cycles=max_cycles) for r, p in progs} \
            if "iss" in backends else {}
        rtl = {}
        if "rtl" in backends and progs:
            t1 = time.monotonic()
            res = run_rtl(cfg, [p for _, p in progs], out_dir / "sim", trace="iss" in backends,
                          max_cycles=max_cycles)
            rtl = {id(r): x for (r, _), x in zip(progs, res)}
            log(f"RTL: {len(progs)} programs in one simulator run, {time.monotonic() - t1:.1f} s")
        for row, p in progs:
            for b, d in (("iss", iss), ("rtl", rtl)):
                if id(row) in d:
                    row[b] = d[id(row)].status
                    row[f"{b}_cycles"] = d[id(row)].cycles
                    if d[id(row)].status != "pass":
                        row.setdefault("note", f"{b}: {d[id(row)].message}"[:100])
            if id(row) in iss and id(row) in rtl:
                problems = compare(p, iss[id(row)], rtl[id(row)])
                if problems:
                    row["note"] = ("RTL/ISS differ: " + problems[0].splitlines()[0])[:100]
                    row["mismatch"] = True
    for row in rows:
        if "result" not in row:
            ok = all(row.get(b) == "pass" for b in backends) and not row.get("mismatch")
            row["result"] = "PASS" if ok else "FAIL"
    return rows


def print_report(rows, backends=BACKENDS, file=None):
    """The pass/fail table and the closing ``N passed, N failed, N skipped`` line; returns the failure count."""
    from sim.runner import print_table
    file = file or sys.stdout
    cols = ["test", "result"]
    for b in backends:
        cols += [b, (f"{b} cycles" if b == "rtl" else "iss insns", f"{b}_cycles", ",d")]
    cols.append("note")
    print_table([{k: v for k, v in r.items() if k != "elf"} for r in rows], cols, file=file)
    n_pass = sum(r["result"] == "PASS" for r in rows)
    n_skip = sum(r["result"] == "UNSUPPORTED" for r in rows)
    n_fail = len(rows) - n_pass - n_skip
    print(f"riscv-tests: {n_pass} passed, {n_fail} failed, {n_skip} skipped", file=file)
    return n_fail


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tb.xpulpnn.riscv_tests", description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", required=True, help="root of a riscv-tests checkout (with the env submodule)")
    ap.add_argument("--suite", nargs="+", choices=SUITES, default=list(SUITES))
    ap.add_argument("--env", nargs="+", choices=ENVS, default=list(ENVS),
                    help="real: the checkout's env/p; minimal: sw/xpulpnn/env/riscv_test.h (default both)")
    ap.add_argument("--backend", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    ap.add_argument("--only", nargs="+", default=(), metavar="TEST", help="test names, e.g. add mulh fence_i")
    ap.add_argument("--config", help="xpulpnn config JSON (default configs/xpulpnn/default.json)")
    ap.add_argument("--cli", action="store_true",
                    help="run every program through 'accelgen sim xpulpnn --elf' (one simulator start each)")
    ap.add_argument("--max-cycles", type=int, default=DEFAULT_MAX_CYCLES)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"build/run folder (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    try:
        rows = run(args.src, suites=args.suite, envs=args.env, backends=args.backend, only=args.only,
                   config=args.config, cli=args.cli, out_dir=args.out, max_cycles=args.max_cycles)
    except CheckoutError as e:
        print(f"riscv_tests: {e}", file=sys.stderr)
        return 2
    n_fail = print_report(rows, args.backend)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(
        [{k: (str(v) if k == "elf" else v) for k, v in r.items()} for r in rows], indent=1))
    print(f"results: {args.out / 'results.json'}")
    return 0 if n_fail == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
