"""Systolic-array benchmark on the RTL: ResNet-18 layers on 16x16, the spec's GEMM/conv shapes, stride and
multi-tile studies. Per case: RTL cycles, the physical bound MACs/(R*C), the SCALE-Sim v2 WS count,
folds x T + 2R + C - 2, utilisation MACs/(R*C*cycles), and whether the output matched numpy.

    python -m bench.systolic [--model-only] [--only resnet18|spec|stride|multitile ...] [--out build/bench/systolic.json]

``make bench TARGET=systolic`` runs everything (RTL, a few minutes). ``--model-only`` prints the same table from
the schedule model (``sw.systolic.schedule``, equal to the RTL cycle for cycle on every regression case)
without simulating. JSON: ``{"groups": {group: {"config": {...}, "rows": [...]}}}``; each row has name, layer,
cycles, model_cycles, scalesim_ws_cycles, ideal_cycles, physical_bound, utilization, folds, tiles, runs,
cycles_per_pixel, exact (null without RTL) and the engine counters (dma_cycles apart from cycles).
"""

import argparse
import json
import time
from pathlib import Path

from sim.runner import print_table
from sw.systolic import schedule as S
from sw.systolic.config import SystolicConfig
from sw.systolic.layer import ConvLayer, gemm_layer
from sw.data import RESNET18_LAYERS

ROOT = Path(__file__).resolve().parent.parent
RESNET = Path(str(RESNET18_LAYERS))
DEFAULT = ROOT / "configs" / "systolic" / "default.json"
CFG8 = ROOT / "configs" / "systolic" / "r8c8_w4.json"


def _conv(n, h, w, ci, co, k, s=1, p=0):
    return ConvLayer(batch=n, height=h, width=w, in_channels=ci, out_channels=co, kernel_h=k, kernel_w=k,
                     stride=s, pad=p)


def resnet18_layers(path=RESNET):
    layers = []
    for d in json.loads(Path(path).read_text())["layers"]:
        layers.append((d["name"], _conv(d["batch"], d["height"], d["width"], d["in_channels"], d["out_channels"],
                                        d["kernel"], d["stride"], d["pad"])))
    return layers


def groups():
    """{group: (config path, [(name, layer)])}."""
    c2 = dict(resnet18_layers())["C2"] if RESNET.exists() else _conv(1, 56, 56, 64, 64, 3, 1, 1)
    return {
        "resnet18": (DEFAULT, resnet18_layers() if RESNET.exists() else []),
        "spec": (DEFAULT, [("gemm_64x64x64", gemm_layer(64, 64, 64)), ("gemm_128x64x256", gemm_layer(128, 64, 256))]),
        "spec8": (CFG8, [("gemm_100x50x30", gemm_layer(100, 50, 30)), ("conv_10x10x4_8", _conv(1, 10, 10, 4, 8, 3))]),
        "stride": (DEFAULT, [(f"C2_stride{s}", _conv(1, 56, 56, 64, 64, 3, s, 1)) for s in (1, 2, 3)]),
        "multitile": (CFG8, [("34x34x3_16_tiles", _conv(1, 34, 34, 3, 16, 3))]),
        "multitile_off": (CFG8, [("34x34x3_16_no_tiles", _conv(1, 34, 34, 3, 16, 3))]),
    }


def _row(cfg, name, layer, cycles=None, exact=None, counters=None):
    ref = S.reference(cfg, layer)
    cyc = ref["model_cycles"] if cycles is None else cycles
    return {"name": name, "layer": layer.to_dict(), "cycles": cyc, **ref, "utilization": round(layer.macs / (cfg.R * cfg.C * cyc), 4),
            "cycles_per_pixel": round(cyc / layer.positions, 3), "macs": layer.macs, "exact": exact,
            "source": "model" if cycles is None else "rtl", **(counters or {})}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-only", action="store_true", help="schedule model only, no RTL simulation")
    ap.add_argument("--only", nargs="+", help="groups to run (default: all)")
    ap.add_argument("--out", default="build/bench/systolic.json")
    args = ap.parse_args(argv)
    result = {"groups": {}}
    failures = 0
    for gname, (cfg_path, layers) in groups().items():
        if args.only and gname not in args.only:
            continue
        cfg = SystolicConfig.load(cfg_path)
        if gname == "multitile_off":
            cfg = SystolicConfig.from_dict({**cfg.to_dict(), "MAX_TILES": 1})
        t0 = time.monotonic()
        if args.model_only:
            rows = [_row(cfg, n, layer) for n, layer in layers]
        else:
            from tb.systolic.harness import run_layers_rtl
            specs = [{"name": n, **layer.to_dict()} for n, layer in layers]
            res = run_layers_rtl(cfg, specs, ROOT / "build" / "bench" / f"systolic-{gname}")
            recs = {r["name"]: r for r in res.records}
            rows = []
            for n, layer in layers:
                r = recs.get(n)
                if r is None or r.get("status") != "ok":
                    failures += 1
                    print(f"{gname}/{n}: no RTL result ({(r or {}).get('message') or res.summary()})")
                    continue
                counters = {k: v for k, v in r.items() if k not in ("name", "test", "status", "message", "exact", "cycles")}
                rows.append(_row(cfg, n, layer, r["cycles"], r["exact"], counters))
                failures += not r["exact"]
        print(f"\n{gname}: {cfg.R}x{cfg.C}, W={cfg.W} ({cfg_path.name}{', MAX_TILES=1' if gname == 'multitile_off' else ''}), "
              f"{time.monotonic() - t0:.0f} s")
        print_table(rows, ["name", ("cycles", "cycles", ",d"), ("MACs/(R*C)", "physical_bound", ",.0f"),
                           ("SCALE-Sim WS", "scalesim_ws_cycles", ",d"), ("folds*T+2R+C-2", "ideal_cycles", ",d"),
                           ("util", "utilization", ".4f"), "folds", "tiles", "runs", ("cyc/pixel", "cycles_per_pixel", ".3f"),
                           ("dma cycles", "dma_cycles", ",d"), "exact"])
        result["groups"][gname] = {"config": cfg.to_dict(), "rows": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result["source"] = "model" if args.model_only else "rtl"
    out.write_text(json.dumps(result, indent=1))
    print(f"\nwrote {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
