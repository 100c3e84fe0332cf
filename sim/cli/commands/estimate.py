"""``accelgen estimate cap``: BF-IMNA-style latency/energy/EDP of networks on the limited-resources CAP system.

    accelgen estimate cap --network resnet50 [--bits 2,4,8,16] [--costs auto|rtl|formula] [--json OUT]
    accelgen estimate cap --network resnet18 [--hawq sw/data/hawq_v3_resnet18.json]
    accelgen estimate cap --network all --segmentation

Every input is checked before anything is printed: a bad network, precision, bench JSON or HAWQ file (bit
widths outside 1..16, a file for another network, energies that are not positive numbers) or an output path
that cannot be written ends with exit status 2 and one line naming the file and field.
"""

import json
import sys
from pathlib import Path

from sw.data import HAWQ_V3_RESNET18

DEFAULT_HAWQ = str(HAWQ_V3_RESNET18)


def register(subparsers):
    p = subparsers.add_parser("estimate", help="network latency/energy estimates (engines: cap)")
    esub = p.add_subparsers(dest="engine", required=True, metavar="ENGINE")
    c = esub.add_parser("cap", help="BF-IMNA limited-resources system of 2D CAPs")
    c.add_argument("--network", default="all", help="alexnet, vgg16, resnet18, resnet50 or all (default)")
    c.add_argument("--bits", default="2,4,8,16", help="uniform precisions to sweep, 1..16 (default 2,4,8,16)")
    c.add_argument("--hawq", help=f"HAWQ-V3 per-layer precisions for resnet18 (e.g. {DEFAULT_HAWQ})")
    c.add_argument("--costs", choices=("auto", "rtl", "formula"), default="auto",
                   help="per-op costs: RTL bench JSON (auto: if present) or the paper's formulas")
    c.add_argument("--bench", default="build/bench/cap.json", help="bench JSON with RTL-measured costs")
    c.add_argument("--segmentation", action="store_true",
                   help="model segmented CAPs (all row pairs of a tree level in parallel; not in the RTL)")
    c.add_argument("--json", help="write the estimates as JSON here")
    c.set_defaults(func=run)


def _fmt(r, ref):
    return {"latency ms": r["latency_s"] * 1e3, "energy uJ": r["energy_j"] * 1e6, "EDP J*s": r["edp"],
            "lat/8b": r["latency_s"] / ref["latency_s"], "energy/8b": r["energy_j"] / ref["energy_j"],
            "EDP/8b": r["edp"] / ref["edp"], "energy adv.": ref["energy_j"] / r["energy_j"]}


def _bits(text):
    from sw.common.contract import BadInput
    from sw.cap.config import MAX_BITS
    out = []
    for part in text.split(","):
        try:
            b = int(part.strip())
        except ValueError:
            raise BadInput(f"--bits must be comma-separated integers 1..{MAX_BITS}, not {text!r}") from None
        if not 1 <= b <= MAX_BITS:
            raise BadInput(f"--bits must be 1..{MAX_BITS} (the CAP's precisions), not {b} in {text!r}")
        out.append(b)
    return out


def _json_target(path):
    from sw.common.contract import BadInput, check_output_path
    p = Path(path)
    if p.is_dir():
        raise BadInput(f"{p}: --json must name a file, not a folder")
    try:        # the folder exists or can be made, and is writable
        check_output_path(p.parent / f".{p.name}.check")
    except BadInput as e:
        raise BadInput(f"{p}: --json cannot be written: {str(e).split(': ', 1)[-1]}") from None
    return p


def _prepare(args):
    """(cost model, networks, bits, hawq configs, json path); BadInput naming the file/field otherwise."""
    from sw.cap.estimator import CostModel, check_bench, hawq_configs
    from sw.cap.networks import NETWORKS
    from sw.common.contract import BadInput, read_json
    nets = list(NETWORKS) if args.network == "all" else [args.network]
    for n in nets:
        if n not in NETWORKS:
            raise BadInput(f"--network must be one of {', '.join(NETWORKS)} or all, not {n!r}")
    bits = _bits(args.bits)
    hawq = None
    if args.hawq:
        hawq = hawq_configs(args.hawq, "resnet18" if args.network in ("resnet18", "all") else args.network)
    if args.costs == "formula" or (args.costs == "auto" and not Path(args.bench).is_file()):
        cost = CostModel("formula", segmented=args.segmentation)
    else:
        if not Path(args.bench).is_file():
            raise BadInput(f"--costs rtl: no bench JSON at {args.bench} (run 'make bench TARGET=cap')")
        bench = read_json(args.bench, "bench JSON")
        check_bench(bench, args.bench)
        try:
            cost = CostModel("rtl", bench, args.segmentation)
        except (ValueError, KeyError, TypeError) as e:
            raise BadInput(f"{args.bench}: {e}") from None
        need = set(bits) | {8} | {b for _, per_layer, _ in (hawq or ()) for b in per_layer.values()}
        for op in ("add", "relu"):
            missing = sorted(m for m in need if (op, m) not in cost.elementwise)
            if missing:
                have = sorted(m for o, m in cost.elementwise if o == op)
                raise BadInput(f"{args.bench}: no {op} measured at {', '.join(map(str, missing))} bits (measured: "
                               f"{', '.join(map(str, have)) or 'none'}); choose --bits among them or rerun "
                               f"'make bench TARGET=cap' without --quick")
    out = _json_target(args.json) if args.json else None
    return cost, nets, bits, hawq, out


def run(args):
    from sim.runner import print_table
    from sw.cap.estimator import estimate_network
    from sw.common.contract import BadInput

    try:
        cost, nets, bits, configs, json_out = _prepare(args)
    except BadInput as e:
        print(f"accelgen estimate cap: {e}", file=sys.stderr)
        return 2
    print(f"costs: {cost.describe()}")
    report = {"costs": cost.describe(), "uniform": [], "hawq": []}
    cols = ["network", "bits", ("latency ms", "latency ms", ".3f"), ("energy uJ", "energy uJ", ".2f"),
            ("EDP J*s", "EDP J*s", ".3g"), ("lat/8b", "lat/8b", ".3f"), ("energy/8b", "energy/8b", ".3f"),
            ("EDP/8b", "EDP/8b", ".3f")]
    rows = []
    for n in nets:
        ref = estimate_network(n, 8, cost)
        for b in bits:
            r = estimate_network(n, b, cost)
            rows.append({"network": n, "bits": b, **_fmt(r, ref)})
            report["uniform"].append({k: v for k, v in r.items() if k != "layers"} | {"bits": b})
    print_table(rows, cols)
    if configs is not None:
        res = {name: estimate_network("resnet18", b, cost) for name, b, _ in configs}
        ref = res.get("int8") or estimate_network("resnet18", 8, cost)
        hrows = []
        for name, b, entry in configs:
            r = res[name]
            avg = sum(b.values()) / len(b)
            hrows.append({"config": name, "avg bits": avg, **_fmt(r, ref),
                          "paper EDP": entry.get("edp_js"), "paper energy adv.": entry.get("energy_vs_int8")})
            report["hawq"].append({"config": name, "avg_bits": avg, "latency_s": r["latency_s"],
                                   "energy_j": r["energy_j"], "edp": r["edp"]})
        print("\nResNet-18 with HAWQ-V3 per-layer precisions (conv1 and fc at 8 bits):")
        print_table(hrows, ["config", ("avg bits", "avg bits", ".2f"), ("lat/8b", "lat/8b", ".4f"),
                            ("energy/8b", "energy/8b", ".3f"), ("EDP/8b", "EDP/8b", ".3f"),
                            ("energy adv.", "energy adv.", ".2f"), ("paper energy adv.", "paper energy adv.", ".2f"),
                            ("paper EDP", "paper EDP", ".2f")])
        order = ["int4", "low", "medium", "high", "int8"]
        edp = [res[o]["edp"] for o in order if o in res]
        ok = all(a < b for a, b in zip(edp, edp[1:]))
        print(f"EDP ordering int4 < low < medium < high < int8: {'yes' if ok else 'NO'}")
        report["hawq_edp_order_ok"] = ok
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        tmp = json_out.with_name(f".{json_out.name}.tmp")
        tmp.write_text(json.dumps(report, indent=1) + "\n")
        tmp.replace(json_out)
        print(f"wrote {json_out}")
    return 0
