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

    def common(q, mapping=False, layer_required=True):
        q.add_argument("--layer", required=layer_required,
                       help="layer JSON (one layer, a list, or {\"layers\": [...]})")
        q.add_argument("--name", help="only the layer of this name from a multi-layer file")
        q.add_argument("--batch", type=int, help="override the batch size")
        q.add_argument("--arch", required=True, help="architecture JSON (configs/dse/*.json)")
        q.add_argument("--energy-table", help="energy table JSON (default: the arch's, else the paper's Table 3)")
        q.add_argument("--out", help=f"JSON result file (default {DEFAULT_OUT}/<command>-<layer>.json)")
        q.add_argument("--plot-dir", default=str(DEFAULT_OUT), help="where the PNG plots go (default %(default)s)")
        q.add_argument("--no-plot", action="store_true", help="skip the plots")

    e = sub.add_parser("energy", help="energy/cycles of a mapping, of the best blocking for a dataflow, or the best "
                                      "mapping of every layer of a network (--model)")
    common(e, layer_required=False)
    e.add_argument("--model", help="a network: an .onnx file, a graph folder, or 'resnet18' (the built-in table); "
                                   "best mapping per layer over the whole space (or of --dataflow) and the network total")
    e.add_argument("--mapping", help="mapping JSON; without it the best blocking of --dataflow is searched")
    e.add_argument("--dataflow", help="U|V unrolling to search when no --mapping (default C|K for --layer; "
                                      "with --model: the whole space)")
    e.add_argument("--min-util", type=float, default=0.75,
                   help="utilisation floor of the space explored with --model (default %(default)s; 0 = all)")
    e.set_defaults(func=lambda a: _run(_energy, a))

    d = sub.add_parser("dataflows", help="the best mapping over the whole spatial space (any loop or loop pair per "
                                         "array dimension), and the paper's table of unrolled-loop pairs")
    common(d)
    d.add_argument("--no-replication", action="store_true", help="only plain U|V unrollings (one loop per dimension)")
    d.add_argument("--space", choices=["full", "paper"], default="full",
                   help="full: also search the whole space (default); paper: only the paper's loop-pair table")
    d.add_argument("--min-util", type=float, default=0.75,
                   help="skip unrollings using less than this share of the PE-cycles (default %(default)s; 0 = all)")
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


def _progress(what, done, total, elapsed):
    print(f"[dse] {what}: {done}/{total}, {elapsed:.1f} s", file=sys.stderr, flush=True)


def _check(args, layers):
    """Refuse up front what makes no sense: a utilisation floor outside [0, 1], a layer whose search would
    take hours (naming the layer file)."""
    from sw.dse import DseError
    from sw.dse.search import check_searchable
    mu = getattr(args, "min_util", None)
    if mu is not None and not 0 <= mu <= 1:
        raise DseError(f"--min-util must be between 0 and 1, not {mu}")
    for l in layers:
        try:
            check_searchable(l)
        except DseError as e:
            raise DseError(f"{args.layer or getattr(args, 'model', None)}: {e}") from None


def _load(args):
    from sw.dse import DseError, load_arch, load_layers
    if args.batch is not None and args.batch < 1:
        raise DseError(f"--batch must be a positive integer, not {args.batch}")
    if not args.layer:
        raise DseError("give --layer L.json or --model (an .onnx file, a graph folder or resnet18)")
    try:
        layers = load_layers(args.layer)
    except DseError as e:
        msg = str(e)
        raise DseError(msg if msg.startswith(str(args.layer)) else f"{args.layer}: {msg}") from None
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


def _network(args):
    """accelgen dse energy --model: best mapping of every layer (identical shapes once) and the network total."""
    from sim.runner import print_table
    from sw.dse import DseError, load_arch
    from sw.dse.onnx_layers import network_layers
    from sw.dse.search import search_blocking
    from sw.dse.space import explore_space
    from sw.dse.search import spatial_candidates
    if args.batch is not None and args.batch < 1:
        raise DseError(f"--batch must be a positive integer, not {args.batch}")
    arch = load_arch(args.arch, args.energy_table)
    try:
        items = network_layers(args.model, batch=args.batch or 1)
    except DseError as e:
        msg = str(e)
        raise DseError(msg if msg.startswith(str(args.model)) else f"{args.model}: {msg}") from None
    if args.name:
        items = [(l, n) for l, n in items if l.name == args.name]
        if not items:
            raise DseError(f"{args.model}: no layer named {args.name!r}")
    _check(args, [l for l, _ in items])
    t0 = time.perf_counter()
    rows, results = [], []
    how = f"best blocking of {args.dataflow}" if args.dataflow else f"best over the whole space (min util {args.min_util})"
    print(f"{args.model} on {arch.name}: {len(items)} distinct conv/dense layers, {sum(n for _, n in items)} in the "
          f"network; {how}")
    for i, (layer, n) in enumerate(items):
        t1 = time.perf_counter()
        if args.dataflow:
            r = search_blocking(layer, arch, args.dataflow).result
            extra = {}
        else:
            x = explore_space(layer, arch, min_util=args.min_util, progress=_progress,
                              seeds=spatial_candidates(layer, arch))
            r = x["best"]["result"]
            extra = {k: v for k, v in x["stats"].items()}
        dt = time.perf_counter() - t1
        results.append(r)
        rows.append({"layer": layer.name, "instances": n, "shape": f"K{layer.K} C{layer.C} {layer.Y}x{layer.X} "
                     f"{layer.FY}x{layer.FX}/{layer.stride_x}", "dataflow": r.mapping.dataflow,
                     "energy_pJ": float(r.total), "pJ_per_MAC": r.pj_per_mac, "macs": r.macs, "cycles": r.cycles,
                     "utilisation": r.utilisation, "bound": r.bound, "seconds": dt,
                     "mapping": r.mapping.to_dict(arch), "search": extra})
        if time.perf_counter() - t0 > 2:
            _progress(f"{args.model}: layers", i + 1, len(items), time.perf_counter() - t0)
    print_table(rows, ["layer", ("n", "instances"), "shape", ("best unrolling", "dataflow"), ("pJ/MAC", "pJ_per_MAC", ".3f"),
                       ("energy pJ", "energy_pJ", ",.0f"), ("cycles", "cycles", ",.0f"), ("util", "utilisation", ".3f"),
                       ("search s", "seconds", ".2f")])
    tot = sum(r["energy_pJ"] * r["instances"] for r in rows)
    macs = sum(r["macs"] * r["instances"] for r in rows)
    cyc = sum(r["cycles"] * r["instances"] for r in rows)
    wall = time.perf_counter() - t0
    print(f"network: {tot:,.0f} pJ = {tot / macs:.3f} pJ/MAC over {macs:,} MACs, {cyc:,.0f} cycles "
          f"(layers run one after another); searched in {wall:.1f} s")
    tag = Path(str(args.model)).stem or "model"
    if not args.no_plot:
        from sw.dse.plots import plot_breakdown
        print(f"plot: {plot_breakdown(results, Path(args.plot_dir) / f'energy-{tag}.png')}")
    _write(args, "energy", tag, {"arch": arch.to_dict(), "model": str(args.model), "layers": rows,
                                 "network": {"energy_pJ": tot, "macs": macs, "pJ_per_MAC": tot / macs,
                                             "cycles": cyc, "seconds": wall}})
    return 0


def _energy(args):
    from sim.runner import print_table
    from sw.dse import DseError, Mapping, evaluate
    from sw.dse.layer import read_json
    from sw.dse.search import search_blocking
    if args.model:
        if args.layer or args.mapping:
            raise DseError("--model replaces --layer/--mapping: give one or the other")
        return _network(args)
    args.dataflow = args.dataflow or "C|K"
    layers, arch = _load(args)
    if not args.mapping:
        _check(args, layers)
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
        stall = f", {r.cycles - r.compute_cycles:,.0f} stall cycles" if r.cycles > r.compute_cycles else ""
        print(f"total {float(r.total):,.2f} pJ = {r.pj_per_mac:.3f} pJ/MAC over {r.macs:,} MACs; cycles {r.cycles:,.0f} "
              f"({r.bound}-bound{stall}), utilisation {r.utilisation:.3f}; MAC energy "
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


def _spatial(row):
    from sw.dse.layer import loop_index
    return [[(loop_index(j), f) for j, f in dim] for dim in row["mapping"]["spatial"]]


def _dataflows(args):
    from sim.runner import print_table
    from sw.dse.search import best_per_pair, blocking_spread, explore_dataflows
    layer, arch = _one_layer(args, "dataflow exploration")
    _check(args, [layer])
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
    print(f"{layer.name} on {arch.name}: the paper's loop pairs, {len(rows)} unrollings searched in {dt:.2f} s")
    print_table(table, [("U|V", "pair"), ("best unrolling", "best"), ("energy/best", "rel", ".4f"),
                        ("pJ/MAC", "pj", ".3f"), ("util", "util", ".3f"),
                        ("no-repl energy/best", "plain_rel", ".4f"), ("no-repl util", "plain_util", ".3f")])
    spread_within = max(e["any"]["energy_pJ"] for e in per) / best - 1
    frac, n = (None, None)
    if len(arch.levels) == 3 and not any(len(lv.holds) < 3 for lv in arch.levels):
        frac, n = blocking_spread(layer, arch, per[0]["any"]["mapping"]["dataflow"].replace(" ", ""))
        print(f"blockings of {per[0]['any']['dataflow']}: {100 * frac:.1f}% of {n:,} within 1.25x of the best")
    print(f"{len(per)} loop pairs within {100 * spread_within:.2f}% of the best energy")
    space = None
    if args.space == "full":
        from sw.dse.space import explore_space
        x = explore_space(layer, arch, min_util=args.min_util, pairs=not args.no_replication, progress=_progress,
                          seeds=[_spatial(r) for r in rows if r["energy_pJ"] is not None])
        st, b = x["stats"], x["best"]
        gain = 1 - b["energy_pJ"] / best
        print(f"\nwhole space: {st['complete']:,} unrollings ({st['after_exact']:,} after exact reductions, "
              f"{st['explored']:,} at utilisation >= {st['min_util']}) in {st['seconds']:.2f} s: "
              f"{st['searched']} searched exactly, the rest pruned by a lower bound"
              f"{'' if st['exact'] else ' (capped: not guaranteed exact)'}")
        top = [dict(r, rel=r["energy_pJ"] / b["energy_pJ"], brel=r["bound_pJ"] / r["energy_model_pJ"])
               for r in x["rows"][:8]]
        print_table(top, [("unrolling", "dataflow"), ("pJ/MAC", "pJ_per_MAC", ".4f"), ("energy/best", "rel", ".4f"),
                          ("bound/energy", "brel", ".4f"), ("util", "utilisation", ".3f"),
                          ("search s", "search_s", ".2f")])
        print(f"best {b['dataflow']}: {b['energy_pJ']:,.0f} pJ = {b['pJ_per_MAC']:.4f} pJ/MAC, utilisation "
              f"{b['utilisation']:.3f}; gain over the best loop pair ({per[0]['any']['dataflow']}): {100 * gain:.3f}%")
        space = {"stats": st, "best": {k: v for k, v in b.items() if k not in ("result", "spatial")},
                 "paper_best": {"dataflow": per[0]["any"]["dataflow"], "energy_pJ": best}, "gain": gain,
                 "searched": [{k: v for k, v in r.items() if k not in ("result", "spatial", "mapping")}
                              for r in x["rows"]]}
    tag = layer.name
    if not args.no_plot:
        from sw.dse.plots import plot_dataflows
        print(f"plot: {plot_dataflows(per, Path(args.plot_dir) / f'dataflows-{tag}.png', title=f'{layer.name} on {arch.name}: energy vs dataflow')}")
    _write(args, "dataflows", tag, {"layer": layer.to_dict(), "arch": arch.to_dict(), "seconds": dt,
                                    "pairs": table, "pairs_within": spread_within,
                                    "blockings_within_1.25x": frac, "blockings": n, "unrollings": rows,
                                    "space": space})
    return 0


def _memory(args):
    from sim.runner import print_table
    from sw.dse.search import explore_memory
    layer, arch = _one_layer(args, "memory exploration")
    _check(args, [layer])
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
