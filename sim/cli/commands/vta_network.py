"""``accelgen compile | plot``, and ``accelgen run DIR`` of a compiled folder (registered by
:mod:`sim.cli.commands.network`, which calls :func:`cmd_run`): whole networks on VTA.

    accelgen compile NETWORK.json|resnet18 --out DIR [--config FILE] [--plain] [--objective cycles|bytes] [--layers ...]
    accelgen run DIR [--backend rtl|golden] [--layers ...] [--timeline N] [--no-golden-check]
    accelgen plot DIR|JOB [--layers ...] [--sample N]

See docs/vta-compiler.md.
"""

import json
import sys
from pathlib import Path

DEFAULT_CONFIG = "configs/vta/default.json"


def register(sub):
    p = sub.add_parser("compile", help="compile a network (JSON layer list) into one VTA job per layer")
    p.add_argument("network", help="network JSON file, or 'resnet18' (built in: ResNet-18 after its first conv)")
    p.add_argument("--out", required=True, help="output folder (network.json + one job folder per layer)")
    p.add_argument("--config", default=DEFAULT_CONFIG, help=f"VTA config JSON (default {DEFAULT_CONFIG})")
    p.add_argument("--plain", action="store_true",
                   help="plain upstream ISA: requantise with ALU SHR/MAX/MIN instead of the fused STORE")
    p.add_argument("--objective", choices=("cycles", "bytes"), default="cycles",
                   help="TPS objective: estimated cycles (default) or DRAM bytes")
    p.add_argument("--layers", nargs="+", help="only these layers")
    p.add_argument("--seed", type=int, help="override the network's parameter seed")
    p.set_defaults(func=cmd_compile)

    # ``accelgen run DIR`` is registered by sim.cli.commands.network, which hands a compiled folder to cmd_run.

    p = sub.add_parser("plot", help="utilisation timeline and roofline PNGs of a network run or of one job")
    p.add_argument("path", help="a compiled network folder (after 'accelgen run --timeline N') or one job folder")
    p.add_argument("--layers", nargs="+", help="timelines for these layers only (network folder)")
    p.add_argument("--sample", type=int, default=0,
                   help="job folder without a timeline: run it on the RTL sampling every N cycles (default: ~400 samples)")
    p.add_argument("--out", help="folder for the PNGs (default: the path itself)")
    p.set_defaults(func=cmd_plot)


def _err(cmd, msg):
    print(f"accelgen {cmd}: {msg}", file=sys.stderr)
    return 2


def cmd_compile(args):
    """Compile into a temporary sibling folder renamed into place when every layer is done: a failed compile
    leaves no half network behind and keeps the previous one."""
    from sw.common.contract import BadInput, staged_output
    from sw.vta.compile import MapError, compile_network
    from sw.vta.config import VTAConfig
    from sw.vta.network import NetworkError, load_network, resnet18_network

    try:
        cfg = VTAConfig.load(args.config)
    except (ValueError, OSError) as e:
        return _err("compile", f"bad config {args.config}: {e}")
    try:
        src = resnet18_network() if args.network == "resnet18" else args.network
        if args.seed is not None:
            if not 0 <= args.seed < 1 << 32:
                raise BadInput(f"--seed must be 0..{(1 << 32) - 1}, not {args.seed}")
            if isinstance(src, str):
                from sw.common.contract import read_json
                src = read_json(src, "network file")
            src = dict(src, seed=args.seed)
        net = load_network(src, base=Path(args.network).parent if args.network != "resnet18" else None)
    except (ValueError, OSError) as e:
        return _err("compile", f"{args.network}: {e}" if args.network not in str(e) else e)

    def progress(n, total, rec):
        t = rec.get("tiling", {})
        extra = f", tiling {t}" if t else ""
        print(f"[{n}/{total}] {rec['name']} ({rec['type']}): {rec['insns']} instructions, "
              f"{rec['dram_bytes']['total']:,} DRAM bytes{extra}", flush=True)
        for note in rec.get("notes", []):
            print(f"    note: {note}")

    protect = [] if args.network == "resnet18" else [Path(args.network)]
    try:
        with staged_output(args.out, protect=protect) as tmp:
            m = compile_network(net, cfg, tmp, fused=not args.plain, only=args.layers, progress=progress,
                                objective=args.objective)
    except (MapError, NetworkError, BadInput) as e:
        return _err("compile", e)
    print(f"{len(m['layers'])} jobs in {args.out} (config {cfg.name}, "
          f"{'plain ISA' if args.plain else 'fused requantisation'}); run with: accelgen run {args.out}")
    return 0


def cmd_run(args):
    from sim.runner import print_table
    from sw.common.contract import BadInput
    from tb.vta.network_run import run_network

    if not (Path(args.dir) / "network.json").exists():
        return _err("run", f"{args.dir} has no network.json (write it with 'accelgen compile')")
    if args.timeline < 0:
        return _err("run", f"--timeline must be >= 0, not {args.timeline}")
    try:
        rows = run_network(args.dir, backend=args.backend, layers=args.layers, sample=args.timeline,
                           check_golden=not args.no_golden_check)
    except (ValueError, BadInput) as e:
        return _err("run", e)
    table = [{"layer": r["name"], "status": r["status"], "macs": r["macs"], "cycles": r["cycles"],
              "util": f"{100 * r['utilisation']:.1f}%" if r["macs"] and r["cycles"] else "",
              "dram": r["dram_bytes"], "check": "ok" if r["match"] else "FAIL"} for r in rows]
    print_table(table, ["layer", "status", ("MACs", "macs", ",d"), ("cycles", "cycles", ",d"), "util",
                        ("DRAM bytes", "dram", ",d"), "check"])
    bad = [r for r in rows if not r["match"]]
    for r in bad:
        print(f"  {r['name']}: {r['message']}")
    total = sum(r["cycles"] for r in rows)
    print(f"{len(rows) - len(bad)}/{len(rows)} layers match" + (f"; {total:,} cycles" if total else ""))
    return 0 if not bad else 1


def cmd_plot(args):
    from sw.common.contract import BadInput
    from sw.vta.config import VTAConfig
    from sw.vta.job import read_result
    from sw.vta.plots import roofline_png, timeline_png

    path = Path(args.path)
    out = Path(args.out) if args.out else path
    if args.sample < 0:
        return _err("plot", f"--sample must be >= 0, not {args.sample}")
    if not path.is_dir():
        return _err("plot", f"{path}: no such folder (a compiled network folder or a job folder)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        return _plot(args, path, out, VTAConfig, read_result, roofline_png, timeline_png)
    except BadInput as e:
        return _err("plot", e)
    except OSError as e:
        return _err("plot", f"{e.filename or out}: {e.strerror or e}")


def _plot(args, path, out, VTAConfig, read_result, roofline_png, timeline_png):
    made = []
    if (path / "network.json").exists():
        m = json.loads((path / "network.json").read_text())
        cfg = VTAConfig.from_dict(m["config"])
        points = []
        for L in m["layers"]:
            res = path / L["job"] / "out-rtl"
            if not (res / "result.json").exists():
                continue
            r = read_result(res)
            points.append({"name": L["name"], "macs": L["macs"], "dram_bytes": L["dram_bytes"]["total"],
                           "cycles": r["cycles"]})
            tl = res / "timeline.json"
            if tl.exists() and (args.layers is None or L["name"] in args.layers):
                png = out / f"timeline_{L['name']}.png"
                timeline_png(tl, png, f"{L['name']} on {cfg.name}")
                made.append(png)
        if not points:
            return _err("plot", f"no RTL results under {path} (run 'accelgen run {path} --timeline 2000' first)")
        png = out / "roofline.png"
        roofline_png(points, cfg, png, f"{m['network'].get('name', 'network')} on {cfg.name}")
        made.append(png)
    elif (path / "job.json").exists():
        from sw.vta.job import load_job
        from tb.vta.harness import run_jobs_rtl

        cfg = load_job(path).cfg
        res = path / "out-rtl"
        if not (res / "timeline.json").exists():
            sample = args.sample
            if not sample:
                from sw.vta import golden
                g = golden.run_job(load_job(path))
                est = g.counters["gemm_uops"] + g.counters["alu_uops"] + \
                    (g.counters["load_bytes"] + g.counters["store_bytes"]) // cfg.bus_bytes
                sample = max(50, est // 400)
            print(f"running {path} on the RTL, sampling every {sample} cycles", flush=True)
            run_jobs_rtl([(path, res)], path / "sim-plot", cfg=cfg, sample=sample)
        r = read_result(res)
        layer = path / "layer.json"
        macs = json.loads(layer.read_text())["macs"] if layer.exists() else \
            r["counters"].get("gemm_uops", 0) * cfg.macs_per_cycle
        nbytes = (r["counters"].get("dram_read_beats", 0) + r["counters"].get("dram_write_beats", 0)) * cfg.bus_bytes
        png = out / "timeline.png"
        timeline_png(res / "timeline.json", png, f"{path.name} on {cfg.name}")
        made.append(png)
        png = out / "roofline.png"
        roofline_png([{"name": path.name, "macs": macs, "dram_bytes": nbytes, "cycles": r["cycles"]}], cfg, png)
        made.append(png)
    else:
        return _err("plot", f"{path} is neither a compiled network folder nor a job folder")
    for p in made:
        print(f"wrote {p}")
    return 0
