"""``accelgen dse energy|dataflows|memory|bridge``: the analytic dataflow and energy model (sw/dse, docs/dse.md)."""

import json
import sys
import time
from pathlib import Path
from sw.data import RESNET18_LAYERS

DEFAULT_OUT = Path("build/dse")


def _sizes(text):
    out = []
    for item in text.split(","):
        item = item.strip().upper()
        mult = 1024 if item.endswith("K") else 1024 * 1024 if item.endswith("M") else 1
        out.append(int(item.rstrip("KM")) * mult)
    return out


def register(subparsers):
    p = subparsers.add_parser("dse", help="analytic dataflow/energy model: energy, dataflow and memory exploration",
                              description="Interstellar-style loop-nest energy model (docs/dse.md).")
    sub = p.add_subparsers(dest="dse_cmd", required=True)

    def common(q, mapping=False):
        q.add_argument("--layer", required=True, help="layer JSON (one layer, a list, or {\"layers\": [...]})")
        q.add_argument("--name", help="only the layer of this name from a multi-layer file")
        q.add_argument("--batch", type=int, help="override the batch size")
        q.add_argument("--arch", required=True, help="architecture JSON (configs/dse/*.json)")
        q.add_argument("--energy-table", help="energy table JSON (default: the arch's, else the paper's Table 3)")
        q.add_argument("--out", help=f"JSON result file (default {DEFAULT_OUT}/<command>-<layer>.json)")
        q.add_argument("--plot-dir", default=str(DEFAULT_OUT), help="where the PNG plots go (default %(default)s)")
        q.add_argument("--no-plot", action="store_true", help="skip the plots")

    e = sub.add_parser("energy", help="energy/cycles of a mapping, or of the best blocking for a dataflow")
    common(e)
    e.add_argument("--mapping", help="mapping JSON; without it the best blocking of --dataflow is searched")
    e.add_argument("--dataflow", default="C|K", help="U|V unrolling to search when no --mapping (default %(default)s)")
    e.set_defaults(func=lambda a: _run(_energy, a))

    d = sub.add_parser("dataflows", help="best blocking of every unrolled-loop pair, with and without replication")
    common(d)
    d.add_argument("--no-replication", action="store_true", help="only plain U|V unrollings")
    d.set_defaults(func=lambda a: _run(_dataflows, a))

    m = sub.add_parser("memory", help="best blocking for every RF and SRAM size (energies from the table)")
    common(m)
    m.add_argument("--dataflow", default="C|K", help="fixed dataflow (default %(default)s)")
    m.add_argument("--rf", default="16,32,64,128,256,512", help="RF sizes in bytes (default %(default)s)")
    m.add_argument("--sram", default="32K,64K,128K,256K,512K", help="SRAM sizes (default %(default)s)")
    m.add_argument("--rf-level", default="RF", help="name of the level swept as RF (default %(default)s)")
    m.add_argument("--sram-level", default="SRAM", help="name of the level swept as SRAM (default %(default)s)")
    m.set_defaults(func=lambda a: _run(_memory, a))

    b = sub.add_parser("bridge", help="a generated engine as an architecture of the model: ResNet-18 energy and cycles")
    b.add_argument("engine", choices=["vta", "systolic"])
    b.add_argument("--config", help="engine config JSON (default configs/<engine>/default.json)")
    b.add_argument("--layers", default=str(RESNET18_LAYERS), help="layers JSON (default %(default)s)")
    b.add_argument("--bench", help="RTL bench JSON to compare cycles with (default: the engine's files under build/bench)")
    b.add_argument("--out", help=f"JSON result (default {DEFAULT_OUT}/bridge-<engine>.json)")
    b.set_defaults(func=lambda a: _run(_bridge, a))


def _load(args):
    from sw.dse import load_arch, load_layers
    layers = load_layers(args.layer)
    if args.name:
        layers = [l for l in layers if l.name == args.name]
        if not layers:
            raise SystemExit(f"error: no layer named {args.name!r} in {args.layer}")
    if args.batch:
        layers = [l.with_batch(args.batch) for l in layers]
    return layers, load_arch(args.arch, args.energy_table)


def _one_layer(args, what):
    layers, arch = _load(args)
    if len(layers) > 1:
        raise SystemExit(f"error: {what} is per layer: pick one with --name")
    return layers[0], arch


def _write(args, cmd, tag, payload):
    out = Path(args.out) if args.out else DEFAULT_OUT / f"{cmd}-{tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=1, default=str))
    print(f"results: {out}")


def _run(fn, args):
    from sw.dse import DseError
    try:
        return fn(args)
    except DseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _energy(args):
    from sim.runner import print_table
    from sw.dse import Mapping, evaluate
    from sw.dse.layer import read_json
    from sw.dse.search import search_blocking
    layers, arch = _load(args)
    if args.mapping and len(layers) > 1:
        raise SystemExit("error: a mapping is for one layer: pick it with --name")
    results, summary = [], []
    for layer in layers:
        t0 = time.perf_counter()
        if args.mapping:
            r = evaluate(layer, arch, Mapping.from_dict(read_json(args.mapping), arch, where=args.mapping))
            how = f"mapping {args.mapping}"
        else:
            s = search_blocking(layer, arch, args.dataflow)
            r = s.result
            how = f"best blocking for {args.dataflow}: {s.candidates:,} tile pairs searched"
        dt = time.perf_counter() - t0
        results.append(r)
        print(f"\n{layer.name} on {arch.name}, dataflow {r.mapping.dataflow} ({how}, {dt:.2f} s)")
        print_table(r.rows(), ["level", ("IF acc/elem", "IF_acc"), ("OF acc/elem", "OF_acc"), ("FL acc/elem", "FL_acc"),
                               ("IF pJ", "IF_pJ", ",.0f"), ("OF pJ", "OF_pJ", ",.0f"), ("FL pJ", "FL_pJ", ",.0f"),
                               ("total pJ", "total_pJ", ",.2f"), ("share", "share", ".3f")])
        print(f"total {float(r.total):,.2f} pJ = {r.pj_per_mac:.3f} pJ/MAC over {r.macs:,} MACs; cycles {r.cycles:,.0f} "
              f"({r.bound}-bound), utilisation {r.utilisation:.3f}; MAC energy "
              f"{'included' if arch.include_mac else 'excluded'}; table {arch.table.name}")
        summary.append({"layer": layer.name, "dataflow": r.mapping.dataflow, "energy_pJ": float(r.total),
                        "pJ_per_MAC": r.pj_per_mac, "cycles": r.cycles, "utilisation": r.utilisation, "seconds": dt})
    if len(results) > 1:
        tot = sum(s["energy_pJ"] for s in summary)
        macs = sum(r.macs for r in results)
        print(f"\nnetwork: {tot:,.0f} pJ = {tot / macs:.3f} pJ/MAC, {sum(s['cycles'] for s in summary):,.0f} cycles")
    tag = layers[0].name if len(layers) == 1 else Path(args.layer).stem
    if not args.no_plot:
        from sw.dse.plots import plot_breakdown
        print(f"plot: {plot_breakdown(results, Path(args.plot_dir) / f'energy-{tag}.png')}")
    _write(args, "energy", tag, {"arch": arch.to_dict(), "results": [r.to_dict() for r in results],
                                 "summary": summary})
    return 0


def _dataflows(args):
    from sim.runner import print_table
    from sw.dse.search import best_per_pair, blocking_spread, explore_dataflows
    layer, arch = _one_layer(args, "dataflow exploration")
    rows, dt = explore_dataflows(layer, arch, replication=not args.no_replication)
    per = best_per_pair(rows)
    if not per:
        raise SystemExit("error: no dataflow has a valid blocking")
    best = per[0]["any"]["energy_pJ"]
    table = []
    for e in per:
        row = {"pair": e["pair"], "best": e["any"]["dataflow"], "rel": e["any"]["energy_pJ"] / best,
               "pj": e["any"]["pJ_per_MAC"], "util": e["any"]["utilisation"],
               "plain_rel": e["plain"]["energy_pJ"] / best if "plain" in e else float("nan"),
               "plain_util": e["plain"]["utilisation"] if "plain" in e else float("nan")}
        table.append(row)
    print(f"{layer.name} on {arch.name}: {len(rows)} unrollings searched in {dt:.2f} s")
    print_table(table, [("U|V", "pair"), ("best unrolling", "best"), ("energy/best", "rel", ".4f"),
                        ("pJ/MAC", "pj", ".3f"), ("util", "util", ".3f"),
                        ("no-repl energy/best", "plain_rel", ".4f"), ("no-repl util", "plain_util", ".3f")])
    spread_within = max(e["any"]["energy_pJ"] for e in per) / best - 1
    frac, n = (None, None)
    if len(arch.levels) == 3:
        frac, n = blocking_spread(layer, arch, per[0]["any"]["mapping"]["dataflow"].replace(" ", ""))
        print(f"blockings of {per[0]['any']['dataflow']}: {100 * frac:.1f}% of {n:,} within 1.25x of the best")
    print(f"{len(per)} loop pairs within {100 * spread_within:.2f}% of the best energy")
    tag = layer.name
    if not args.no_plot:
        from sw.dse.plots import plot_dataflows
        print(f"plot: {plot_dataflows(per, Path(args.plot_dir) / f'dataflows-{tag}.png', title=f'{layer.name} on {arch.name}: energy vs dataflow')}")
    _write(args, "dataflows", tag, {"layer": layer.to_dict(), "arch": arch.to_dict(), "seconds": dt,
                                    "pairs": table, "pairs_within": spread_within,
                                    "blockings_within_1.25x": frac, "blockings": n, "unrollings": rows})
    return 0


def _memory(args):
    from sim.runner import print_table
    from sw.dse.search import explore_memory
    layer, arch = _one_layer(args, "memory exploration")
    rows, dt = explore_memory(layer, arch, args.dataflow, _sizes(args.rf), _sizes(args.sram),
                              rf_level=args.rf_level, sram_level=args.sram_level)
    ok = [r for r in rows if r.get("energy_pJ") is not None]
    if not ok:
        raise SystemExit("error: no memory configuration has a valid blocking")
    best = min(ok, key=lambda r: r["energy_pJ"])
    table = [dict(r, kb=r["sram_bytes"] // 1024, rel=r["energy_pJ"] / best["energy_pJ"] if r.get("energy_pJ") else float("nan"),
                  rule="yes" if r["rule_4_16x"] else "no") for r in rows]
    print(f"{layer.name} on {arch.name}, dataflow {args.dataflow}: {len(rows)} hierarchies searched in {dt:.2f} s "
          f"(energies from {arch.table.name})")
    print_table(table, [("RF B", "rf_bytes"), ("SRAM KB", "kb"), ("pJ/MAC", "pJ_per_MAC", ".3f"),
                        ("energy/best", "rel", ".3f"), ("4-16x", "rule")])
    worst_rf = max(ok, key=lambda r: r["energy_pJ"])
    print(f"best {best['rf_bytes']} B RF + {best['sram_bytes'] // 1024} KB SRAM: {best['pJ_per_MAC']:.3f} pJ/MAC; "
          f"worst ({worst_rf['rf_bytes']} B + {worst_rf['sram_bytes'] // 1024} KB) is {worst_rf['energy_pJ'] / best['energy_pJ']:.2f}x")
    tag = layer.name
    if not args.no_plot:
        from sw.dse.plots import plot_memory
        print(f"plot: {plot_memory(rows, Path(args.plot_dir) / f'memory-{tag}.png', title=f'{layer.name} on {arch.name}, {args.dataflow}')}")
    _write(args, "memory", tag, {"layer": layer.to_dict(), "arch": arch.to_dict(), "dataflow": args.dataflow,
                                 "seconds": dt, "rows": rows})
    return 0


def _bridge(args):
    from sim.runner import print_table
    from sw.dse import bridges
    rep = bridges.report(args.engine, config=args.config, layers=args.layers, bench=args.bench)
    print(rep["title"])
    print_table(rep["rows"], rep["columns"])
    for line in rep["notes"]:
        print(line)
    _write(args, "bridge", args.engine, rep)
    return 0
