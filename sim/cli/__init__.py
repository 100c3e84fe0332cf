"""``accelgen``: the command line of the generator and co-simulation stack.

    accelgen sim ENGINE ...             run one job (or program) on the RTL or the golden model
    accelgen regress ENGINE [--config FILE] [--random N] [--seed S] [--testcase NAME ...] [--waves]
    accelgen verilog ENGINE [--config FILE] [--out DIR]
    accelgen trace diff ENGINE ...      first divergence between the RTL and the golden model (engines that trace)

Engines are the plugins in :mod:`sim.engines`; further command groups (``compile``, ``dse``, ``synth``...) are the
modules of :mod:`sim.cli.commands`. ``accelgen sim ENGINE --help`` lists an engine's options.

Exit status: 0 when the job ran with status "ok" (or every regression test passed), 1 when it ran with
another status (or a test failed), 2 for bad input (config, job, arguments).
"""

import argparse
import json
import sys
import time
from pathlib import Path

from sim import engines as registry  # noqa: F401
from sim.cli import commands, driver, engines
from sw.common.contract import BadInput, staged_output

__all__ = ["main", "load_engine_config"]


def load_engine_config(engine: str, path, cmd: str = "accelgen"):
    """Engine config from ``path`` (default config if None), or None after printing why it is bad."""
    mod = engines.get(engine)
    path = path or registry.default_config_path(engine)
    try:
        return mod.load_config(path)
    except (ValueError, OSError) as e:
        msg = str(e) if str(e).startswith(str(path)) else f"{path}: {e}"
        print(f"{cmd}: bad config {msg}", file=sys.stderr)
        return None


def cmd_regress(args):
    cfg = load_engine_config(args.engine, args.config, "accelgen regress")
    if cfg is None:
        return 2
    args.config = args.config or engines.get(args.engine).DEFAULT_CONFIG
    return engines.get(args.engine).regress(args, cfg)


def write_engine_verilog(engine: str, cfg, out: Path) -> dict:
    """Write ``out/<engine>.v``, ``out/config.json`` and ``out/manifest.json`` for one config; return the
    manifest (ports with direction and width, clock and reset, engine-specific entries)."""
    from amaranth import __version__ as amaranth_version
    from sim.verilog import _ports_of, write_verilog
    mod = engines.get(engine)
    component = mod.top(cfg)
    path = write_verilog(component, out / f"{engine}.v", name=engine)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n")
    manifest = {"engine": engine, "top": engine, "verilog": path.name, "config_digest": cfg.digest(),
                "amaranth": amaranth_version, "clock": "clk (rising edge)", "reset": "rst (synchronous, active high)",
                "ports": _ports_of(component), **mod.manifest(cfg)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def cmd_verilog(args):
    cfg = load_engine_config(args.engine, args.config, "accelgen verilog")
    if cfg is None:
        return 2
    out = Path(args.out) if args.out else Path("build/verilog") / f"{args.engine}-{cfg.name}"
    t0 = time.monotonic()
    with staged_output(out, protect=[args.config] if args.config else ()) as tmp:
        write_engine_verilog(args.engine, cfg, tmp)
    v = out / f"{args.engine}.v"
    print(f"wrote {v} ({v.stat().st_size:,} bytes), {out / 'config.json'}, {out / 'manifest.json'} "
          f"in {time.monotonic() - t0:.1f} s")
    return 0


def _engine_parsers(sub, name, help_, add_args, func, engine_names):
    p = sub.add_parser(name, help=help_, description=f"{help_}. Engines: {', '.join(engine_names)}.")
    esub = p.add_subparsers(dest="engine", required=True, metavar="ENGINE",
                            help=f"one of: {', '.join(engine_names)}")
    for e in engine_names:
        ep = esub.add_parser(e, help=f"{name} the {e} engine")
        add_args(e, ep)
        ep.set_defaults(func=func(e))
    return p


def _regress_args(e, p):
    p.add_argument("--config", help=f"config JSON (default {engines.get(e).DEFAULT_CONFIG})")
    p.add_argument("--random", type=int, help="number of random differential tests (engine default if omitted)")
    p.add_argument("--seed", type=int, help="first random seed")
    p.add_argument("--testcase", action="append", help="run only this test (repeatable)")
    p.add_argument("--waves", action="store_true", help="record a waveform")
    engines.get(e).add_regress_args(p)


def _verilog_args(e, p):
    p.add_argument("--config", help=f"config JSON (default {engines.get(e).DEFAULT_CONFIG})")
    p.add_argument("--out", help="output folder (default build/verilog/ENGINE-NAME)")


def _sim_args(e, p):
    spec = registry.spec(e)
    if spec is not None:
        driver.add_sim_args(p, spec)
    else:
        engines.get(e).add_sim_args(p)


def _sim_func(e):
    return driver.cmd_sim if registry.spec(e) is not None else engines.get(e).sim


def build_parser():
    ap = _Parser(prog="accelgen", description="DNN accelerator generator and co-simulation")
    sub = ap.add_subparsers(dest="cmd", required=True)
    names = engines.names()
    _engine_parsers(sub, "sim", "run one job on the RTL or the golden model", _sim_args, _sim_func, names)
    _engine_parsers(sub, "regress", "build the RTL for a config and run the cocotb regression",
                    _regress_args, lambda e: cmd_regress, names)
    _engine_parsers(sub, "verilog", "write the Verilog, config and manifest of a config under build/verilog",
                    _verilog_args, lambda e: cmd_verilog, names)
    tracing = [e for e in names if hasattr(engines.get(e), "trace_diff")]
    if tracing:
        tp = sub.add_parser("trace", help="record and compare execution traces")
        tsub = tp.add_subparsers(dest="trace_cmd", required=True)
        _engine_parsers(tsub, "diff", "first divergence between the RTL and the golden model",
                        lambda e, p: engines.get(e).add_trace_args(p), lambda e: engines.get(e).trace_diff,
                        tracing)
    for mod in commands.modules():
        mod.register(sub)
    return ap


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line naming the option (exit 2), not a usage block."""

    def error(self, message):
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def main(argv=None):
    """Run one ``accelgen`` command; returns its exit status.

    Bad input anywhere below (:class:`BadInput`, or a path the operating system refuses) ends as one line on
    stderr and exit status 2, never a traceback.
    """
    args = build_parser().parse_args(argv)
    cmd = f"accelgen {args.cmd}" + (f" {args.engine}" if getattr(args, "engine", None) else "")
    try:
        return args.func(args)
    except BadInput as e:
        print(f"{cmd}: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"{cmd}: {where}{e.strerror or e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
