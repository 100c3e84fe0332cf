"""Analytic model benchmark: the reproduction target, Observations 1 and 2, search times, engine bridges.

    python -m bench.dse [--out build/bench/dse.json] [--plot-dir build/dse]

Prints one table per study and writes JSON; plots go to build/dse/.
"""

import argparse
import json
import time
from pathlib import Path

from sim.runner import print_table
from sw.dse import Mapping, bridges, evaluate, load_arch, load_layers
from sw.dse.layer import read_json
from sw.dse.plots import plot_breakdown, plot_dataflows, plot_memory
from sw.dse.search import (best_per_pair, blocking_spread, explore_dataflows, explore_memory, search_blocking,
                           spatial_candidates)
from sw.dse.space import explore_space
from sw.data import RESNET18_LAYERS

CFG = "configs/dse"
RESNET = str(RESNET18_LAYERS)


def reproduction(plots):
    layer = load_layers(f"{CFG}/alexnet_conv3_b16.json")[0]
    arch = load_arch(f"{CFG}/eyeriss_baseline.json")
    r = evaluate(layer, arch, Mapping.from_dict(read_json(f"{CFG}/eyeriss_conv3_mapping.json"), arch))
    best = search_blocking(layer, arch, r.mapping.spatial)
    ck = search_blocking(layer, arch, "C|K")
    print(f"\n== AlexNet CONV3 batch 16, Eyeriss-style mapping {r.mapping.dataflow} (spec target)")
    print_table(r.rows(), ["level", ("IF", "IF_acc"), ("OF", "OF_acc"), ("FL", "FL_acc"),
                           ("pJ", "total_pJ", ",.2f"), ("share", "share", ".3f")])
    print(f"total {float(r.total):,.2f} pJ ({r.pj_per_mac:.3f} pJ/MAC); best blocking of the same unrolling "
          f"{float(best.result.total):,.2f} pJ ({best.seconds:.2f} s); best C|K {ck.result.pj_per_mac:.3f} pJ/MAC")
    plot_breakdown([r, best.result, ck.result], plots / "energy-conv3-b16.png",
                   title="AlexNet CONV3 b16: spec mapping, its best blocking, C|K")
    return {"total_pJ": float(r.total), "pJ_per_MAC": r.pj_per_mac,
            "energy_per_level_pJ": {n: float(r.level_total(n)) for n in r.energy},
            "best_same_unrolling_pJ": float(best.result.total), "best_ck_pJ_per_MAC": ck.result.pj_per_mac}


def observation1(plots):
    layer = load_layers(f"{CFG}/alexnet_conv3_b1.json")[0]
    arch = load_arch(f"{CFG}/eyeriss_baseline.json")
    rows, dt = explore_dataflows(layer, arch)
    per = best_per_pair(rows)
    best = per[0]["any"]["energy_pJ"]
    t0 = time.perf_counter()
    frac, n = blocking_spread(layer, arch, per[0]["any"]["dataflow"])
    ts = time.perf_counter() - t0
    table = [{"pair": e["pair"], "unrolling": e["any"]["dataflow"], "rel": e["any"]["energy_pJ"] / best,
              "util": e["any"]["utilisation"], "plain_util": e.get("plain", {}).get("utilisation", float("nan"))}
             for e in per]
    print(f"\n== Observation 1: AlexNet CONV3 batch 1, {len(rows)} unrollings searched in {dt:.2f} s")
    print_table(table, [("U|V", "pair"), ("best unrolling", "unrolling"), ("energy/best", "rel", ".4f"),
                        ("util", "util", ".3f"), ("util w/o replication", "plain_util", ".3f")])
    spread = max(t["rel"] for t in table) - 1
    print(f"{len(per)} pairs within {100 * spread:.2f}%; {100 * frac:.1f}% of {n:,} blockings of the best "
          f"unrolling within 1.25x ({ts:.2f} s)")
    plot_dataflows(per, plots / "dataflows-conv3-b1.png", title="AlexNet CONV3 b1: energy vs dataflow")
    return {"seconds": dt, "pairs": table, "pairs_within": spread, "blockings_within_1.25x": frac, "blockings": n}


def observation2(plots):
    arch = load_arch(f"{CFG}/explore_16x16.json")
    out = {}
    for name in ("alexnet_conv3_b1", "alexnet_conv3_b16"):
        layer = load_layers(f"{CFG}/{name}.json")[0]
        rows, dt = explore_memory(layer, arch, "C|K", [16, 32, 64, 128, 256, 512],
                                  [32768, 65536, 131072, 262144, 524288])
        best_rf = {}
        for r in rows:
            if r["energy_pJ"] is not None and (r["rf_bytes"] not in best_rf or r["energy_pJ"] < best_rf[r["rf_bytes"]]["energy_pJ"]):
                best_rf[r["rf_bytes"]] = r
        overall = min(best_rf.values(), key=lambda r: r["energy_pJ"])
        two = search_blocking(layer, load_arch(f"{CFG}/two_level_rf.json"), "C|K").result
        table = [{"rf": rf, "sram": r["sram_bytes"] // 1024, "pj": r["pJ_per_MAC"],
                  "rel": r["energy_pJ"] / overall["energy_pJ"], "rule": "yes" if r["rule_4_16x"] else "no"}
                 for rf, r in sorted(best_rf.items())]
        print(f"\n== Observation 2: {name}, C|K, {len(rows)} hierarchies in {dt:.2f} s (best SRAM per RF size)")
        print_table(table, [("RF B", "rf"), ("best SRAM KB", "sram"), ("pJ/MAC", "pj", ".3f"),
                            ("energy/best", "rel", ".3f"), ("4-16x", "rule")])
        print(f"512 B RF / best = {best_rf[512]['energy_pJ'] / overall['energy_pJ']:.2f}x; two-level RF 16 B + 256 B "
              f"with 256 KB SRAM: {two.pj_per_mac:.3f} pJ/MAC ({overall['pJ_per_MAC'] / two.pj_per_mac:.2f}x the best "
              f"single RF)")
        plot_memory(rows, plots / f"memory-{name}.png", title=f"{name}: energy vs RF/SRAM size (C|K)")
        out[name] = {"seconds": dt, "best_per_rf": table, "two_level_rf_pJ_per_MAC": two.pj_per_mac, "rows": rows}
    return out


def search_times():
    arch = load_arch(f"{CFG}/eyeriss_baseline.json")
    table = []
    for layer in load_layers(RESNET):
        for df in ("C|K", "FY|Y"):
            s = search_blocking(layer, arch, df)
            table.append({"layer": layer.name, "dataflow": s.mapping.dataflow, "pairs": s.candidates,
                          "s": s.seconds, "pj": s.result.pj_per_mac, "util": s.result.utilisation})
    print("\n== Blocking search time per ResNet-18 layer (16x16, 512 B RF, 128 KB SRAM)")
    print_table(table, ["layer", "dataflow", ("tile pairs", "pairs", ",d"), ("search s", "s", ".3f"),
                        ("pJ/MAC", "pj", ".3f"), ("util", "util", ".3f")])
    return table


# ZigZag (zigzag-dse 3.9.1, LOMA, same 16x16 architecture): its best unrollings on these layers (issue 19).
ZIGZAG_WINNERS = {"C2": "X14|C16", "C6": "K16|K16", "C10": "C16|K16", "alexnet_conv3_b1": "C16|C16"}


def space_study():
    """The whole spatial space on every ResNet-18 layer and AlexNet CONV3 b1: time, size, best, the gain over
    the paper's loop pairs and, where ZigZag was measured, its winning unrolling with our best blocking."""
    arch = load_arch(f"{CFG}/eyeriss_baseline.json")
    table = []
    for layer in load_layers(RESNET) + load_layers(f"{CFG}/alexnet_conv3_b1.json"):
        t0 = time.perf_counter()
        rows, _ = explore_dataflows(layer, arch)
        t_paper = time.perf_counter() - t0
        x = explore_space(layer, arch, seeds=spatial_candidates(layer, arch))
        st, b = x["stats"], x["best"]
        row = {"layer": layer.name, "complete": st["complete"], "explored": st["explored"], "searched": st["searched"],
               "s": st["seconds"], "paper_s": t_paper, "best": b["dataflow"], "pj": b["pJ_per_MAC"],
               "util": b["utilisation"], "old": rows[0]["dataflow"], "old_pj": rows[0]["pJ_per_MAC"],
               "gain": 1 - b["energy_pJ"] / rows[0]["energy_pJ"], "zz": "", "zz_pj": float("nan"),
               "vs_zz": float("nan")}
        if layer.name in ZIGZAG_WINNERS:
            z = search_blocking(layer, arch, ZIGZAG_WINNERS[layer.name]).result
            row.update(zz=ZIGZAG_WINNERS[layer.name], zz_pj=z.pj_per_mac, vs_zz=b["energy_pJ"] / float(z.total))
        table.append(row)
    print("\n== Whole spatial space (any loop or loop pair per dimension, ceil factors), 16x16, 512 B RF, 128 KB SRAM")
    print_table(table, ["layer", ("space", "complete", ",d"), ("explored", "explored", ",d"), ("exact", "searched"),
                        ("s", "s", ".2f"), ("best", "best"), ("pJ/MAC", "pj", ".4f"), ("util", "util", ".3f"),
                        ("old best", "old"), ("old pJ/MAC", "old_pj", ".4f"), ("gain", "gain", ".3%"),
                        ("ZigZag winner", "zz"), ("its pJ/MAC", "zz_pj", ".4f"), ("ours/its", "vs_zz", ".4f")])
    return table


def network_study():
    """accelgen dse energy --model on the whole ResNet-18 graph (ONNX built by sw.graph.models, 12 distinct conv/FC
    shapes) and on the built-in table."""
    import subprocess
    import sys
    import tempfile

    def cli(argv):       # the user-facing command, run as a user runs it (bench sits below the CLI layer)
        subprocess.run([sys.executable, "-m", "sim.cli", *argv], check=True)
    out = {}
    with tempfile.TemporaryDirectory() as d:
        try:
            import onnx
            from sw.graph.models import resnet18_float
            onnx.save(resnet18_float(), f"{d}/resnet18.onnx")
            specs = [("onnx", f"{d}/resnet18.onnx"), ("table", "resnet18")]
        except ImportError:
            specs = [("table", "resnet18")]
        for tag, spec in specs:
            t0 = time.perf_counter()
            cli(["dse", "energy", "--model", spec, "--arch", f"{CFG}/eyeriss_baseline.json", "--no-plot",
                 "--out", f"{d}/{tag}.json"])
            res = json.loads(Path(f"{d}/{tag}.json").read_text())
            out[tag] = {"wall_s": time.perf_counter() - t0, "network": res["network"],
                        "layers": [{k: r[k] for k in ("layer", "instances", "dataflow", "pJ_per_MAC", "seconds")}
                                   for r in res["layers"]]}
    return out


def bypass_and_bandwidth():
    """Weights bypassing the SRAM and a 2 B/cycle DRAM port, on ResNet-18 C2 (configs/dse/bypass_bw_16x16.json)."""
    layer = [l for l in load_layers(RESNET) if l.name == "C2"][0]
    base = load_arch(f"{CFG}/explore_16x16.json")
    byp = load_arch(f"{CFG}/bypass_bw_16x16.json")
    table = []
    for name, arch in (("all tensors in SRAM", base), ("FL bypasses SRAM, DRAM 2 B/cycle", byp)):
        s = search_blocking(layer, arch, "C|K")
        r = s.result
        table.append({"arch": name, "pj": r.pj_per_mac, "dram": float(r.level_total("DRAM")) / r.macs,
                      "cycles": r.cycles, "stall": r.cycles - r.compute_cycles, "bound": r.bound, "s": s.seconds})
    print("\n== Per-operand bypass and port bandwidth (C2, C|K)")
    print_table(table, ["arch", ("pJ/MAC", "pj", ".3f"), ("DRAM pJ/MAC", "dram", ".3f"), ("cycles", "cycles", ",.0f"),
                        ("stall cycles", "stall", ",.0f"), ("bound", "bound"), ("search s", "s", ".2f")])
    return table


def bridge(engine, config):
    if not Path(config).exists():
        print(f"\n== {engine} bridge: {config} absent, skipped")
        return None
    rep = bridges.report(engine, config=config, layers=RESNET)
    print(f"\n== {rep['title']}")
    print_table(rep["rows"], rep["columns"])
    for line in rep["notes"]:
        print(line)
    return rep


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="build/bench/dse.json")
    ap.add_argument("--plot-dir", default="build/dse")
    args = ap.parse_args(argv)
    plots = Path(args.plot_dir)
    t0 = time.perf_counter()
    res = {"reproduction": reproduction(plots), "observation1": observation1(plots),
           "observation2": observation2(plots), "search_times": search_times(),
           "space": space_study(), "bypass_bandwidth": bypass_and_bandwidth(), "network": network_study(),
           "vta": bridge("vta", "configs/vta/default.json"),
           "systolic": bridge("systolic", "configs/systolic/default.json")}
    res["wall_s"] = time.perf_counter() - t0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=str))
    print(f"\nresults: {out}; plots under {plots}; {res['wall_s']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
