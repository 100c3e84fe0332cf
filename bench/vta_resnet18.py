"""ResNet-18 (after its first convolution) and MobileNet D1-D9 on the VTA RTL, layer by layer.

    python -m bench.vta_resnet18 [--configs FILE ...] [--no-plain] [--no-mobilenet] [--out build/bench/vta_resnet18.json]
    make bench TARGET=vta-resnet18

For each configuration the network is compiled (sw/vta/compile.py, fused requantisation), every layer runs
on the RTL in one simulation (progress line per layer), and each layer's final DRAM must equal the golden
model's and its output the numpy reference. Printed per layer: MACs, cycles, utilisation
(MACs / (MAC/cycle x cycles)), DRAM bytes, TPS reduction against the no-reuse schedule; then the total of the
convolution layers (every instance: C2..C11 of the VTA benchmark) against the 7.0M target, the published
pipelined VTA (7,729,601) and the GEMM bound (6,623,232). The default configuration is also run with the
plain upstream ISA (requantisation on the ALU) for comparison. Results: build/bench/vta_resnet18.json.
"""

import argparse
import json
import time
from pathlib import Path

from sim.runner import print_table
from sw.vta.compile import compile_network
from sw.vta.config import VTAConfig
from sw.vta.network import load_network, mobilenet_group_layers, resnet18_network
from tb.vta.network_run import run_network
from sw.data import MOBILENET_GROUP_LAYERS

CONFIGS = ["configs/vta/default.json", "configs/vta/default_bus128.json", "configs/vta/default_bus256.json",
           "configs/vta/default_bus512.json"]
MOBILENET = str(MOBILENET_GROUP_LAYERS)
PUBLISHED = 7_729_601
GEMM_BOUND = 6_623_232
TARGET = 7_000_000


def _table(rows, cfg):
    out = []
    for r in rows:
        out.append({"layer": r["name"], "type": r["type"], "macs": r["macs"], "cycles": r["cycles"],
                    "util": f"{100 * r['utilisation']:.1f}%" if r["macs"] else "",
                    "dram": r["dram_bytes"],
                    "tps": f"{r['naive_bytes'] / r['dram_bytes']:.0f}x" if r.get("naive_bytes") else "",
                    "gemm": r["counters"].get("gemm_busy", 0), "alu": r["counters"].get("alu_busy", 0),
                    "check": "ok" if r["match"] else "FAIL: " + r["message"][:60]})
    print_table(out, ["layer", "type", ("MACs", "macs", ",d"), ("cycles", "cycles", ",d"), "util",
                      ("DRAM bytes", "dram", ",d"), ("vs naive", "tps"), ("GEMM busy", "gemm", ",d"),
                      ("ALU busy", "alu", ",d"), "check"])


def run_one(net_dict, cfg, work, *, fused, label):
    t0 = time.monotonic()
    net = load_network(net_dict)
    compile_network(net, cfg, work, fused=fused)
    t_compile = time.monotonic() - t0
    rows = run_network(work, backend="rtl")
    wall = time.monotonic() - t0
    conv = [r for r in rows if r["type"] == "conv2d"]
    summary = {"label": label, "config": cfg.name, "fused_requant": fused, "layers": len(rows),
               "conv_cycles": sum(r["cycles"] for r in conv), "conv_macs": sum(r["macs"] for r in conv),
               "total_cycles": sum(r["cycles"] for r in rows), "all_match": all(r["match"] for r in rows),
               "compile_s": round(t_compile, 1), "wall_s": round(wall, 1)}
    if conv:
        summary["conv_utilisation"] = summary["conv_macs"] / (cfg.macs_per_cycle * summary["conv_cycles"])
    return rows, summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", nargs="+", default=CONFIGS)
    ap.add_argument("--no-plain", action="store_true", help="skip the plain-ISA run of the first config")
    ap.add_argument("--no-mobilenet", action="store_true", help="skip MobileNet D1-D9")
    ap.add_argument("--mobilenet-data", default=MOBILENET)
    ap.add_argument("--work", default="build/bench/vta_resnet18")
    ap.add_argument("--out", default="build/bench/vta_resnet18.json")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    work = Path(args.work)
    results = {"runs": []}
    runs = [(p, True, "resnet18") for p in args.configs]
    if not args.no_plain:
        runs.insert(1, (args.configs[0], False, "resnet18"))
    if not args.no_mobilenet:
        runs.append((args.configs[0], True, "mobilenet"))
    for path, fused, what in runs:
        cfg = VTAConfig.load(path)
        label = f"{what} {cfg.name} {'fused requant (accelgen ISA)' if fused else 'plain ISA'}"
        print(f"\n=== {label} ===", flush=True)
        if what == "resnet18":
            net = resnet18_network()
        else:
            # MobileNet layers have different input shapes: compile each as its own one-layer network.
            rows = []
            for n in mobilenet_group_layers(args.mobilenet_data):
                rows += run_one(n, cfg, work / f"{cfg.name}-mobilenet" / n["name"], fused=fused, label=n["name"])[0]
            summary = {"label": label, "config": cfg.name, "fused_requant": fused, "layers": len(rows),
                       "total_cycles": sum(r["cycles"] for r in rows), "total_macs": sum(r["macs"] for r in rows),
                       "all_match": all(r["match"] for r in rows)}
            _table(rows, cfg)
            results["runs"].append({"summary": summary, "rows": rows})
            print(f"MobileNet D1-D9: {summary['total_cycles']:,} cycles, "
                  f"{100 * summary['total_macs'] / (cfg.macs_per_cycle * summary['total_cycles']):.1f}% utilisation, "
                  f"all layers match: {summary['all_match']}")
            continue
        rows, summary = run_one(net, cfg, work / f"{cfg.name}-{'fused' if fused else 'plain'}", fused=fused,
                                label=label)
        _table(rows, cfg)
        c = summary["conv_cycles"]
        print(f"conv layers (all instances): {c:,} cycles = {100 * summary['conv_utilisation']:.1f}% of "
              f"{cfg.macs_per_cycle} MAC/cycle; target {TARGET:,} ({'met' if c <= TARGET else 'MISSED'}), "
              f"published pipelined VTA {PUBLISHED:,}, GEMM bound {GEMM_BOUND:,}")
        print(f"whole network: {summary['total_cycles']:,} cycles; every layer matches golden and reference: "
              f"{summary['all_match']}; compile {summary['compile_s']} s, total {summary['wall_s']} s")
        results["runs"].append({"summary": summary, "rows": rows})
    results["wall_s"] = round(time.monotonic() - t0, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(f"\n{'run':<70} {'conv cycles':>12} {'all cycles':>12} match")
    for r in results["runs"]:
        s = r["summary"]
        print(f"{s['label']:<70} {s.get('conv_cycles', 0):>12,} {s['total_cycles']:>12,} {s['all_match']}")
    print(f"results: {out} ({results['wall_s']} s)")
    return 0 if all(r["summary"]["all_match"] for r in results["runs"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
