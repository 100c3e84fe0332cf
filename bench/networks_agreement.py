"""Agreement of the integer graph reference with onnxruntime on the built-in ResNet-18 (and MobileNet-V2).

    python -m bench.networks_agreement [--models resnet18,mobilenetv2] [--formats qdq,qoperator] [--n 100]
                                       [--out build/bench/networks_agreement.json]

For each model and quantisation format, on ``--n`` seeded synthetic 224x224 inputs (smooth random fields, models.synthetic_images): per-layer agreement (every
graph node fed onnxruntime's values of its inputs: elements equal, max |diff|), end-to-end agreement (the graph
on its own values), and the predicted class of the graph against onnxruntime with its exact integer kernels
(``session.x64quantprecision=1``) and with its default x64 kernels. Models are built and cached first
(``accelgen models``). Slow (minutes): kept out of the test suite.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from sim.runner import print_table
from sw.graph import agreement as A
from sw.graph import models
from sw.graph.onnx_import import import_onnx
from sw.graph.reference import dequantize, quantize_input, run


def measure(name, fmt, n, seed=0, log=print):
    f = models.build(name, log=log)
    path = getattr(f, fmt)
    g = import_onnx(path)
    ort = A.OrtIntermediates(g, path)
    plain = A.ort_session(path, precise=True)
    default = A.ort_session(path, precise=False)
    inp = plain.get_inputs()[0].name
    rng = np.random.default_rng(seed)
    iso, e2e = [], []
    agree = agree_default = ort_self = 0
    classes, margins = set(), []
    t0 = time.monotonic()
    for i in range(n):
        x = models.synthetic_images(rng, 1)
        iso.append(A.layer_agreement(g, path, x, isolated=True, ort=ort))
        vals = run(g, quantize_input(g, x))
        _, ov = ort.run(x)
        rows = []
        for t, v in ov.items():
            d = np.abs(vals[t].astype(np.int64) - np.asarray(v, np.int64).reshape(vals[t].shape))
            rows.append({"tensor": t, "elements": int(d.size), "mismatches": int((d != 0).sum()),
                         "max_abs_diff": int(d.max(initial=0))})
        e2e.append(rows)
        ours = int(np.argmax(dequantize(g, g.outputs[0], vals[g.outputs[0]]).reshape(-1)))
        classes.add(ours)
        ref = plain.run(None, {inp: x})[0].reshape(-1)
        top = np.sort(np.unique(ref))[::-1]
        theirs, theirs_default = int(np.argmax(ref)), int(np.argmax(default.run(None, {inp: x})[0]))
        agree += ours == theirs
        agree_default += ours == theirs_default
        ort_self += theirs == theirs_default
        out_t = g.tensors[g.outputs[0]]
        lsb = float(np.min(out_t.scale_array()))
        margin = round(float(top[0] - top[1]) / lsb) if len(top) > 1 else 0  # onnxruntime's top-2 gap, in LSBs
        margins.append((margin, bool(ours == theirs)))
        if (i + 1) % 10 == 0:
            log(f"{name} {fmt}: {i + 1}/{n} inputs, {time.monotonic() - t0:.0f} s")
    per_layer = A.summarize(iso)
    worst = max(iso[0], key=lambda r: sum(rows[k]["mismatches"] for rows in iso
                                          for k in range(len(rows)) if rows[k]["tensor"] == r["tensor"]))
    return {"model": name, "format": fmt, "inputs": n, "nodes": len(g.nodes),
            "layers_compared": len(iso[0]), "per_layer": per_layer, "end_to_end": A.summarize(e2e),
            "prediction_agree": agree / n, "prediction_agree_default_kernels": agree_default / n,
            "ort_precise_vs_default": ort_self / n,
            "margin_lsb_median": float(np.median([m for m, _ in margins])),
            "margin_lsb_of_disagreements": sorted(m for m, ok in margins if not ok),
            "distinct_classes": len(classes), "ort_precise_kernels": bool(getattr(plain, "precise", False)), "worst_layer": worst["tensor"],
            "seconds": round(time.monotonic() - t0, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18", help="comma-separated: resnet18, mobilenetv2")
    ap.add_argument("--formats", default="qdq,qoperator")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--out", default="build/bench/networks_agreement.json")
    args = ap.parse_args(argv)
    results = []
    with threadpool_limits(1):  # single-threaded BLAS: faster on a shared machine
        for name in args.models.split(","):
            for fmt in args.formats.split(","):
                results.append(measure(name, fmt, args.n, log=lambda s: print(s, flush=True)))
    rows = [{"model": r["model"], "format": r["format"], "n": r["inputs"],
             "layer": f"{r['per_layer']['agree_fraction']:.7f}",
             "worst layer": f"{r['per_layer']['worst_layer_agree_fraction']:.6f}",
             "layer max": r["per_layer"]["max_abs_diff"],
             "e2e": f"{r['end_to_end']['agree_fraction']:.4f}", "e2e max": r["end_to_end"]["max_abs_diff"],
             "class": f"{r['prediction_agree']:.2f}", "class (default ORT)": f"{r['prediction_agree_default_kernels']:.2f}",
             "ORT self": f"{r['ort_precise_vs_default']:.2f}", "margin": r["margin_lsb_median"],
             "classes": r["distinct_classes"], "s": r["seconds"]} for r in results]
    print_table(rows, ["model", "format", "n", ("per-layer equal", "layer"), ("worst layer", "worst layer"),
                       ("max|d|", "layer max"), ("e2e equal", "e2e"), ("e2e max|d|", "e2e max"),
                       ("class agree", "class"), "class (default ORT)",
                       ("ORT exact vs default", "ORT self"), ("median top-2 gap (LSB)", "margin"),
                       ("distinct classes", "classes"), "s"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
