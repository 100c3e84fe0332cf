"""RBE benchmark on the RTL: cycles and MAC/cycle per precision against the array ideal and the reference's
non-overlapped schedule, memory-latency sensitivity, and the ResNet-20 (CIFAR-10) layers at mixed precision.

    python -m bench.rbe [--config configs/rbe/default.json] [--grid full|sampled] [--no-resnet]
                        [--out build/bench/rbe.json]

Every case runs on the RTL (one Verilator build, one simulation) and is compared bit-exactly with the golden
model; cycles are the engine's own counter from start to the end-of-job event, loads and stores included.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from sim.runner import print_table
from sw.rbe.config import RBEConfig
from tb.rbe.cases import precision_grid, sampled_grid
from tb.rbe.harness import DEFAULT_LATENCY, run_cases

# Mixed-precision assignment for ResNet-20 (docs/rbe.md): the 8-bit image and first layer at 8 bits, then
# weight precision falling with layer width (stage 1 4b/4b, stage 2 4b/3b, stage 3 3b/2b), 8-bit classifier.
RESNET20_PRECISION = {"conv1": (8, 8), "stage1": (4, 4), "stage2": (4, 3), "stage3": (3, 2), "fc": (3, 8)}


def _pad(c, k):
    return -(-c // k) * k


def resnet20_layers(cfg: RBEConfig):
    """ResNet-20 for CIFAR-10 (He et al. 2016, 3 stages x 3 basic blocks, 16/32/64 channels at 32/16/8 pixels,
    1x1 projection shortcuts at the stride-2 blocks) as RBE layers: channels padded to the channel tile,
    'same' 3x3 convolutions run as valid convolutions on the zero-padded input (H + 2), stride-2 3x3 convolutions
    run at stride 1 (the engine has no stride; the runtime keeps every other output), stride-2 1x1 shortcuts run
    on the subsampled input, the classifier as a 1x1 convolution of the pooled 64-vector."""
    k = cfg.k_tile
    layers = []

    def add(name, mode, cin, cout, size, stage, qao):
        qa, qw = RESNET20_PRECISION[stage]
        side = size + 2 if mode == "3x3" else size
        layers.append((name, dict(mode=mode, qa=qa, qw=qw, qao=qao, k_in=_pad(cin, k), k_out=_pad(cout, k),
                                  height=side, width=side, relu=name != "fc")))

    add("conv1", "3x3", 3, 16, 32, "conv1", RESNET20_PRECISION["stage1"][0])
    stages = [("stage1", 16, 32), ("stage2", 32, 16), ("stage3", 64, 8)]
    cin = 16
    for s, (stage, width, size) in enumerate(stages):
        nxt = RESNET20_PRECISION[stages[s + 1][0]][0] if s + 1 < len(stages) else RESNET20_PRECISION["fc"][0]
        for b in range(3):
            stride2 = b == 0 and s > 0
            # a stride-2 conv computes every output of the previous (2x larger) map, then keeps one in four
            add(f"{stage}.{b}.conv1" + ("/s2" if stride2 else ""), "3x3", cin, width,
                size * 2 if stride2 else size, stage, RESNET20_PRECISION[stage][0])
            add(f"{stage}.{b}.conv2", "3x3", width, width, size, stage, nxt if b == 2 else RESNET20_PRECISION[stage][0])
            if stride2:
                add(f"{stage}.{b}.shortcut", "1x1", cin, width, size, stage, RESNET20_PRECISION[stage][0])
            cin = width
    add("fc", "1x1", 64, 10, 1, "fc", 8)
    return layers


def reference_cycles(cfg: RBEConfig, layer: dict) -> int:
    """The reference RBE's schedule (spec section 3): per output tile of 3x3 pixels x 32 channels,
    n_kin * n_qa * (load + compute + 2 offset cycles) + ~10 + 12 * n_qao, loads not overlapped
    (20 transfers in 3x3 mode, 12 in 1x1; compute 32 * QW cycles in 3x3 mode, 32 in 1x1)."""
    fs = 3 if layer["mode"] == "3x3" else 1
    h_out, w_out = layer["height"] - fs + 1, layer["width"] - fs + 1
    tiles = -(-h_out // 3) * -(-w_out // 3) * (layer["k_out"] // 32)
    n_kin, n_qa, n_qao = layer["k_in"] // 32, -(-layer["qa"] // 4), -(-layer["qao"] // 4)
    load, compute = (20, 32 * layer["qw"]) if layer["mode"] == "3x3" else (12, 32)
    return tiles * (n_kin * n_qa * (load + compute + 2) + 10 + 12 * n_qao)


def macs_of(layer: dict) -> int:
    fs = 3 if layer["mode"] == "3x3" else 1
    return ((layer["height"] - fs + 1) * (layer["width"] - fs + 1) * layer["k_in"] * layer["k_out"] * fs * fs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/rbe/default.json")
    ap.add_argument("--grid", choices=("full", "sampled"), default="full",
                    help="all 343 (QA, QW, QAO) per mode, or 24 seeded samples")
    ap.add_argument("--no-resnet", action="store_true")
    ap.add_argument("--out", default="build/bench/rbe.json")
    args = ap.parse_args(argv)
    cfg = RBEConfig.load(args.config)
    k = cfg.k_tile
    grid = precision_grid() if args.grid == "full" else sampled_grid(24, 7)

    cases = []
    for mode, side in (("3x3", 11), ("1x1", 9)):
        for n, (qa, qw, qao) in enumerate(grid):
            cases.append({"name": f"{mode}_a{qa}w{qw}o{qao}", "group": "precision", "seed": 1000 + n,
                          "layer": dict(mode=mode, qa=qa, qw=qw, qao=qao, k_in=2 * k, k_out=2 * k, height=side,
                                        width=side, relu=bool(n % 2))})
    for lat in (1, 8, 32, 64):
        cases.append({"name": f"latency{lat}", "group": "latency", "seed": 5, "latency": lat,
                      "layer": dict(mode="3x3", qa=4, qw=4, qao=4, k_in=2 * k, k_out=2 * k, height=11, width=11,
                                    relu=True)})
    if not args.no_resnet:
        for n, (name, layer) in enumerate(resnet20_layers(cfg)):
            cases.append({"name": name, "group": "resnet20", "seed": 2000 + n, "layer": layer})

    print(f"rbe bench: {cfg.name}, {len(cases)} cases on the RTL (memory latency {DEFAULT_LATENCY} cycles "
          "unless stated)", flush=True)
    t0 = time.monotonic()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, dir=out.parent) as f:
        json.dump([{k2: v for k2, v in c.items() if k2 != "group"} for c in cases], f)
    res = run_cases(cfg, f.name, Path("build/bench") / f"rbe-{cfg.name}")
    Path(f.name).unlink()
    recs = {r["name"]: r for r in res.records if r.get("name") != r.get("test")}
    wall = time.monotonic() - t0

    rows = []
    for c in cases:
        r = recs.get(c["name"])
        if r is None:
            continue
        lay = c["layer"]
        macs = r["macs"]
        ideal = cfg.ideal_mac_per_cycle(lay["mode"], lay["qa"], lay["qw"])
        ref = reference_cycles(cfg, lay) if k == 32 and cfg.N_CORES == 9 else None
        rows.append({"group": c["group"], "case": c["name"], "mode": lay["mode"], "qa": lay["qa"], "qw": lay["qw"],
                     "qao": lay["qao"], "k_in": lay["k_in"], "k_out": lay["k_out"], "size": f"{lay['height']}x{lay['width']}",
                     "cycles": r["cycles"], "macs": macs, "mac_per_cycle": round(macs / r["cycles"], 1),
                     "ideal": round(ideal, 1), "util": round(macs / r["cycles"] / ideal, 3),
                     "ref_cycles": ref, "ref_mac_per_cycle": round(macs / ref, 1) if ref else None,
                     "speedup_vs_ref": round(ref / r["cycles"], 3) if ref else None,
                     "bin_ops_per_cycle": round(r["bin_ops"] / r["cycles"], 1),
                     "bin_ops_peak": r["counters"]["bin_ops_peak"], "exact": r["exact"],
                     "latency": c.get("latency", DEFAULT_LATENCY)})
    cols = ["case", "size", "k_in", "k_out", ("cycles", "cycles", ",d"), "mac_per_cycle", "ideal", "util",
            ("ref cycles", "ref_cycles", ",d"), ("ref MAC/c", "ref_mac_per_cycle"), ("x ref", "speedup_vs_ref"),
            ("1b-MAC/c", "bin_ops_per_cycle"), ("peak 1b", "bin_ops_peak"), "exact"]
    for group, title in (("precision", "Per precision: 64 -> 64 channels, 3x3 mode on 11x11 and 1x1 mode on 9x9"),
                         ("latency", "Memory read latency (cycles), 3x3 a4w4o4 64 -> 64 on 11x11"),
                         ("resnet20", "ResNet-20 / CIFAR-10 at mixed precision")):
        sel = [r for r in rows if r["group"] == group]
        if not sel:
            continue
        print(f"\n{title}")
        print_table(sel, (["latency"] if group == "latency" else []) + cols)
    summary = {}
    for mode in ("3x3", "1x1"):
        sel = [r for r in rows if r["group"] == "precision" and r["mode"] == mode]
        if sel:
            summary[mode] = {"cases": len(sel), "min_util": min(r["util"] for r in sel),
                             "mean_util": round(sum(r["util"] for r in sel) / len(sel), 3),
                             "mean_speedup_vs_ref": round(sum(r["speedup_vs_ref"] or 0 for r in sel) / len(sel), 3)}
    net = [r for r in rows if r["group"] == "resnet20"]
    if net:
        summary["resnet20"] = {"layers": len(net), "cycles": sum(r["cycles"] for r in net),
                               "macs": sum(r["macs"] for r in net),
                               "ref_cycles": sum(r["ref_cycles"] or 0 for r in net)}
        s = summary["resnet20"]
        print(f"\nResNet-20 total: {s['cycles']:,} cycles for {s['macs']:,} MACs "
              f"({s['macs'] / s['cycles']:.1f} MAC/cycle); reference schedule {s['ref_cycles']:,} cycles")
    all_exact = all(r["exact"] for r in rows) and len(rows) == len(cases)
    print(f"\n{summary}")
    print(f"{len(rows)} cases, all bit-exact against the golden model: {all_exact}; {wall:.0f} s")
    out.write_text(json.dumps({"config": cfg.to_dict(), "latency": DEFAULT_LATENCY, "summary": summary,
                               "all_exact": all_exact, "rows": rows, "wall_s": round(wall, 1)}, indent=1))
    _plot(rows, out.with_suffix(".png"))
    print(f"results: {out}, {out.with_suffix('.png')}")
    return 0 if all_exact else 1


def _plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, mode in zip(axes, ("3x3", "1x1")):
        sel = [r for r in rows if r["group"] == "precision" and r["mode"] == mode]
        if not sel:
            continue
        grid = [[None] * 7 for _ in range(7)]
        for r in sel:
            cell = grid[r["qa"] - 2][r["qw"] - 2]
            grid[r["qa"] - 2][r["qw"] - 2] = r["util"] if cell is None else min(cell, r["util"])
        im = ax.imshow([[v if v is not None else float("nan") for v in row] for row in grid], origin="lower",
                       vmin=0.5, vmax=1.0, extent=(1.5, 8.5, 1.5, 8.5))
        ax.set_xlabel("QW")
        ax.set_ylabel("QA")
        ax.set_title(f"{mode}: MAC/cycle / array ideal (min over QAO)")
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
