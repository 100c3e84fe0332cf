"""``accelgen synth|pnr|board|sweep``: FPGA synthesis, place-and-route, board builds and design-space sweeps.

    accelgen synth ENGINE [--config FILE] [--family ecp5|ice40|gowin|xilinx] [--device D] [--json OUT]
    accelgen pnr ENGINE [--config FILE] [--family ecp5|ice40|gowin] [--device D] [--seed N] [--freq MHZ]
    accelgen board ENGINE --board ulx3s|icebreaker|pynq_z1 [--config FILE] [--mem-bytes N]
    accelgen sweep ENGINE --space configs/sweeps/ENGINE.json [--scheduler ADDRESS] [--workers N]

Exit status: 0 when the design fits (and routes), 1 when it does not fit the device, 2 for bad input or a
tool failure. Every command is generic over the engine plugins of :mod:`sim.engines`.
"""

import json
import sys
from pathlib import Path

from sim import engines
from sw.common.contract import BadInput, check_output_path

__all__ = ["register"]


#: Option bounds that make physical sense (anything outside is a typo, refused before a tool runs).
_BOUNDS = {"freq": (0.1, 2000.0, "MHz"), "seed": (0, 2 ** 31 - 1, ""), "mem_bytes": (64, 1 << 30, "bytes"),
           "workers": (1, 256, ""), "limit": (1, 1 << 20, "")}


def _check_options(args):
    """Raise BadInput for an option outside :data:`_BOUNDS` or a --json/--out path that cannot be written."""
    for key, (lo, hi, unit) in _BOUNDS.items():
        v = getattr(args, key, None)
        if v is not None and not lo <= v <= hi:
            flag = "--" + key.replace("_", "-")
            fmt = (lambda x: f"{x:g}") if isinstance(v, float) else (lambda x: f"{int(x):,}")
            raise BadInput(f"{flag} must be {fmt(lo)}..{fmt(hi)}{' ' + unit if unit else ''}, not {fmt(v)}")
    if getattr(args, "json", None):
        check_output_path(Path(args.json).parent)
        if Path(args.json).is_dir():
            raise BadInput(f"--json {args.json}: is a folder, expected a file path")
    if getattr(args, "out", None):
        check_output_path(args.out)


def _config(args, cmd):
    from sim.cli import load_engine_config
    _check_options(args)
    return load_engine_config(args.engine, args.config, f"accelgen {cmd}")


def _emit(report, args):
    from fpga.flow import format_report
    print(format_report(report))
    if getattr(args, "json", None):
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(json.dumps(report, indent=1) + "\n")
        tmp.replace(out)
        print(f"  json: {out}")
    return 0 if report["status"] == "ok" else 1


def _flow(cmd):
    def run(args):
        from fpga.flow import FlowError, engine_design, pnr, synth
        cfg = _config(args, cmd)
        if cfg is None:
            return 2
        try:
            if cmd == "synth":
                report = synth(engine_design(args.engine, cfg), args.family, args.device, force=args.force)
            else:
                report = pnr(engine_design(args.engine, cfg, harness=True), args.family, args.device,
                             seed=args.seed, freq=args.freq, force=args.force,
                             dsp=False if args.no_dsp else None, router=args.router)
        except ValueError as e:
            print(f"accelgen {cmd}: {e}", file=sys.stderr)
            return 2
        except FlowError as e:
            print(f"accelgen {cmd}: {e}", file=sys.stderr)
            return 2
        return _emit(report, args)
    return run


def _board(args):
    from fpga.boards import BOARDS, board_design
    from fpga.flow import FlowError, pnr, synth
    cfg = _config(args, "board")
    if cfg is None:
        return 2
    try:
        design, board = board_design(args.engine, cfg, args.board, mem_bytes=args.mem_bytes)
        if board.family == "xilinx":
            report = synth(design, board.family, board.device, force=args.force)
        else:
            report = pnr(design, board.family, board.device, seed=args.seed, freq=board.clk_mhz,
                         force=args.force, bitstream=not args.no_bitstream)
    except (ValueError, TypeError) as e:
        print(f"accelgen board: {e}", file=sys.stderr)
        return 2
    except FlowError as e:
        print(f"accelgen board: {e}", file=sys.stderr)
        return 2
    status = _emit(report, args)
    if report.get("bitstream"):
        print(f"  bitstream: {report['bitstream']}")
    if report.get("fmax_mhz") is not None and report["fmax_mhz"] < board.clk_mhz:
        print(f"  WARNING: Fmax {report['fmax_mhz']:.1f} MHz is below the board clock {board.clk_mhz:g} MHz")
        status = status or 1
    print(f"  host protocol: docs/fpga.md (UART {board.baud} baud 8N1 on {board.uart_pins})")
    return status


def _sweep(args):
    from fpga.sweep import SweepError, run_sweep
    _check_options(args)
    try:
        return run_sweep(args.engine, args.space, scheduler=args.scheduler, workers=args.workers,
                         out=args.out, force=args.force, limit=args.limit)
    except SweepError as e:
        print(f"accelgen sweep: {e}", file=sys.stderr)
        return 2


def _common(p, e):
    p.add_argument("--config", help=f"config JSON (default {engines.get(e).DEFAULT_CONFIG})")
    p.add_argument("--force", action="store_true", help="ignore cached results")
    p.add_argument("--json", help="also write the report to this file")


def register(sub):
    from fpga.devices import DEVICES, FAMILIES
    names = engines.names()
    pnr_families = [f for f, fam in FAMILIES.items() if fam.has_pnr]
    devices = ", ".join(f"{d.name} ({d.family})" for d in DEVICES.values())

    sp = sub.add_parser("synth", help="synthesise an engine config with yosys: LUTs, FFs, BRAMs, DSPs")
    ssub = sp.add_subparsers(dest="engine", required=True, metavar="ENGINE")
    pp = sub.add_parser("pnr", help="place and route an engine config with nextpnr: Fmax and utilisation")
    psub = pp.add_subparsers(dest="engine", required=True, metavar="ENGINE")
    bp = sub.add_parser("board", help="build an engine config into a board top (UART host bridge)")
    bsub = bp.add_subparsers(dest="engine", required=True, metavar="ENGINE")
    wp = sub.add_parser("sweep", help="design-space sweep: build, benchmark and synthesise every point (Dask)")
    wsub = wp.add_subparsers(dest="engine", required=True, metavar="ENGINE")
    for e in names:
        p = ssub.add_parser(e)
        _common(p, e)
        p.add_argument("--family", default="ecp5", choices=list(FAMILIES))
        p.add_argument("--device", help=f"device to size against (default: the family's); one of {devices}")
        p.set_defaults(func=_flow("synth"))

        p = psub.add_parser(e)
        _common(p, e)
        p.add_argument("--family", default="ecp5", choices=pnr_families)
        p.add_argument("--device", help=f"device (default: the family's); one of {devices}")
        p.add_argument("--seed", type=int, default=1, help="nextpnr seed (default 1)")
        p.add_argument("--freq", type=float, help="target MHz (default 100 ecp5, 48 ice40, 50 gowin)")
        p.add_argument("--no-dsp", action="store_true",
                       help="build multipliers from LUTs (no DSP blocks; relieves DSP-column congestion)")
        p.add_argument("--router", choices=["router1", "router2"],
                       help="nextpnr router (default: nextpnr's, router1)")
        p.set_defaults(func=_flow("pnr"))

        p = bsub.add_parser(e)
        _common(p, e)
        p.add_argument("--board", required=True, choices=["ulx3s", "icebreaker", "pynq_z1"])
        p.add_argument("--mem-bytes", type=int, help="on-chip DRAM size in bytes (default: the board's)")
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--no-bitstream", action="store_true", help="stop after routing")
        p.set_defaults(func=_board)

        p = wsub.add_parser(e)
        p.add_argument("--space", default=f"configs/sweeps/{e}.json", help="sweep space JSON")
        p.add_argument("--scheduler", help="address of an existing Dask scheduler (default: a LocalCluster)")
        p.add_argument("--workers", type=int, help="LocalCluster workers (default: the space's, else 2)")
        p.add_argument("--out", help="output folder (default build/sweeps/ENGINE-SPACE)")
        p.add_argument("--force", action="store_true", help="recompute every point")
        p.add_argument("--limit", type=int, help="only the first N points (quick looks)")
        p.set_defaults(func=_sweep)
