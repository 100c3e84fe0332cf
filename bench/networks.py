"""Whole quantized networks (built here, quantized by onnxruntime, imported into the integer graph) on VTA.

    python -m bench.networks [--models resnet18 mobilenetv2 digits] [--config FILE] [--backend rtl|golden]
                             [--inputs N] [--no-golden-check] [--out build/bench]
    make bench TARGET=networks

Per model: ``sw.graph.models.build`` (cached under build/models), ``import_onnx`` of the QOperator file,
``sw.vta.lower.lower``, then the golden model (every layer bit-exact with the graph reference) and the RTL
(``tb.vta.network.run_network_rtl``: one simulation, progress line per layer, each layer's output == the graph
reference and its final DRAM == the golden model's). Printed and written per layer: op, MACs, cycles, MAC/cycle,
utilisation, DRAM bytes, bit-exact; totals against the ResNet-18 target (<= 7.73M cycles, the published
pipelined VTA's conv layers after the first). Results: ``<out>/networks.json`` and ``<out>/networks.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sim.runner import print_table
from sw.vta.config import VTAConfig

TARGET = {"resnet18": 7_730_000}


def _rows(res):
    out = []
    for L in res.layers:
        out.append({"layer": L.name, "op": L.op, "where": L.where, "macs": L.macs, "cycles": L.cycles,
                    "mac_per_cycle": round(L.mac_per_cycle, 1),
                    "util": f"{100 * L.macs / (L.cycles * res.peak_macs_per_cycle):.1f}%" if L.cycles and L.macs
                    else "", "dram_bytes": L.dram_bytes,
                    "bit_exact": {True: "yes", False: "NO", None: "-"}[L.bit_exact]})
    return out


_COLS = ["layer", "op", ("MACs", "macs", ",d"), ("cycles", "cycles", ",d"), ("MAC/cycle", "mac_per_cycle"), "util",
         ("DRAM bytes", "dram_bytes", ",d"), ("bit-exact", "bit_exact")]


def _markdown(rows):
    head = ["layer", "op", "MACs", "cycles", "MAC/cycle", "util", "DRAM bytes", "bit-exact"]
    keys = ["layer", "op", "macs", "cycles", "mac_per_cycle", "util", "dram_bytes", "bit_exact"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[k]:,}" if isinstance(r[k], int) else str(r[k]) for k in keys) + " |")
    return "\n".join(lines)


def run_model(name, cfg, out, *, backend, n_inputs, check_golden, log=print):
    from sw.graph.models import build
    from sw.graph.onnx_import import import_onnx
    from sw.graph.reference import quantize_input
    from sw.vta.lower import lower
    t0 = time.monotonic()
    mf = build(name, log=log)
    g = import_onnx(mf.qoperator)
    low = lower(g, cfg)
    shape = g.tensors[g.inputs[0]].shape
    x = quantize_input(g, np.random.default_rng(2024).standard_normal((n_inputs,) + shape[1:]).astype(np.float32))
    t1 = time.monotonic()
    log(f"{name}: imported and lowered in {t1 - t0:.1f} s ({len(low.layers)} layers, unmapped: "
        f"{sorted(low.unmapped) or 'none'})")
    gold = low.run_golden(x)
    t2 = time.monotonic()
    log(f"{name}: golden {gold.status}, every layer bit-exact: {gold.bit_exact} ({t2 - t1:.1f} s)")
    summary = {"model": name, "config": cfg.name, "inputs": n_inputs, "unmapped": low.unmapped,
               "golden": {"status": gold.status, "bit_exact": gold.bit_exact, "wall_s": round(t2 - t1, 1)}}
    res = gold
    if backend == "rtl":
        from tb.vta.network import run_network_rtl
        res = run_network_rtl(low, x, Path(out) / f"{name}-rtl", progress=log, check_golden=check_golden)
        summary["rtl"] = {"status": res.status, "message": res.message, "bit_exact": res.bit_exact,
                          "cycles": res.cycles, "cycles_per_inference": res.cycles // n_inputs,
                          "macs": res.macs, "utilization": round(res.utilization, 4),
                          "dram_bytes": res.dram_bytes, "wall_s": round(time.monotonic() - t2, 1)}
        if name in TARGET:
            summary["rtl"]["target_cycles"] = TARGET[name]
            summary["rtl"]["meets_target"] = res.cycles // n_inputs <= TARGET[name]
        gold_out = {k: v for k, v in gold.outputs.items()}
        summary["rtl"]["outputs_equal_golden"] = all(np.array_equal(res.outputs[k], gold_out[k]) for k in gold_out)
    summary["layers"] = _rows(res)
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["resnet18", "mobilenetv2"])
    ap.add_argument("--config", default=None, help="VTA config JSON (default: 1x16x16, 64-bit bus)")
    ap.add_argument("--backend", choices=["rtl", "golden"], default="rtl")
    ap.add_argument("--inputs", type=int, default=1)
    ap.add_argument("--no-golden-check", action="store_true", help="RTL: skip the per-layer golden DRAM check")
    ap.add_argument("--out", default="build/bench")
    a = ap.parse_args(argv)
    cfg = VTAConfig.from_dict(json.loads(Path(a.config).read_text())) if a.config else VTAConfig()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    results, md = [], ["# VTA whole networks", ""]
    for name in a.models:
        s = run_model(name, cfg, out, backend=a.backend, n_inputs=a.inputs, check_golden=not a.no_golden_check)
        results.append(s)
        print_table(s["layers"], _COLS)
        head = f"## {name} ({cfg.name}, {a.backend})"
        if "rtl" in s:
            r = s["rtl"]
            line = (f"{name}: {r['cycles_per_inference']:,} cycles per inference, {r['macs'] // a.inputs:,} MACs, "
                    f"utilisation {100 * r['utilization']:.1f}%, bit-exact {r['bit_exact']}, status {r['status']}")
            if "target_cycles" in r:
                line += f"; target <= {r['target_cycles']:,}: {'met' if r['meets_target'] else 'MISSED'}"
            print(line)
            md += [head, "", line, ""]
        else:
            md += [head, ""]
        md += [_markdown(s["layers"]), ""]
        (out / "networks.json").write_text(json.dumps(results, indent=1) + "\n")
        (out / "networks.md").write_text("\n".join(md) + "\n")
    print(f"wrote {out / 'networks.json'} and {out / 'networks.md'}")
    ok = all(s.get("rtl", s["golden"])["bit_exact"] and s["golden"]["bit_exact"] for s in results)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
