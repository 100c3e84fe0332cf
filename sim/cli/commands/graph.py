"""``accelgen import`` and ``accelgen models``: quantised ONNX networks into the integer graph (docs/networks.md).

    accelgen import model.onnx --out G/                     # graph.json + weights.npz, then a layer table
    accelgen import --builtin digits [--format qoperator] --out G/
    accelgen models [--out build/models] [--only digits,resnet18]

Bad input (not ONNX, a float model, an unsupported op, a dynamic shape...) exits with status 2 and one line
``accelgen import: <file>: <node/field>: <reason>``.
"""

import sys
import time
from pathlib import Path

BUILTIN = ("digits", "resnet18", "mobilenetv2", "tiny")


def register(subparsers):
    p = subparsers.add_parser("import", help="import a quantised ONNX model into the integer graph")
    p.add_argument("model", nargs="?", help="quantised ONNX file (QDQ or QOperator, from onnxruntime quantize_static)")
    p.add_argument("--builtin", choices=BUILTIN, help="import a built-in model instead (built and cached first)")
    p.add_argument("--format", choices=("qdq", "qoperator"), default="qdq", help="--builtin variant (default qdq)")
    p.add_argument("--models", default="build/models", help="built-in model cache (default %(default)s)")
    p.add_argument("--out", required=True, help="output graph folder (graph.json, weights.npz)")
    p.set_defaults(func=run_import)
    m = subparsers.add_parser("models", help="build and cache the built-in ONNX models (float, QDQ, QOperator)")
    m.add_argument("--out", default="build/models", help="cache folder (default %(default)s)")
    m.add_argument("--only", help=f"comma-separated subset of {','.join(BUILTIN)}")
    m.set_defaults(func=run_models)


def _fail(cmd, msg):
    print(f"accelgen {cmd}: " + " ".join(str(msg).split()), file=sys.stderr)
    return 2


def run_import(args):
    from sim.runner import print_table
    from sw.graph import GraphError, save
    from sw.graph.onnx_import import import_onnx

    t0 = time.monotonic()
    if bool(args.model) == bool(args.builtin):
        return _fail("import", "give either an ONNX file or --builtin NAME")
    if args.builtin:
        from sw.graph.models import build
        f = build(args.builtin, args.models, log=lambda s: print(f"[{time.monotonic() - t0:6.1f} s] {s}"))
        src = f.qdq if args.format == "qdq" else f.qoperator
    else:
        src = Path(args.model)
    out = Path(args.out)
    try:
        if out.resolve() == src.resolve() or (out.exists() and not out.is_dir()):
            return _fail("import", f"{out}: --out must be a folder (the input file is never overwritten)")
        graph = import_onnx(src)
        save(graph, out)
    except GraphError as e:
        msg = str(e)
        return _fail("import", msg if msg.startswith(str(src)) else f"{src}: {msg}")
    except OSError as e:
        return _fail("import", f"{out}: {e.strerror or e}")
    rows = graph.layer_table()
    print_table(rows, [("layer", "name"), "op", ("in -> out", "shape"), ("MACs", "macs", ",d"), "bits",
                       ("per-channel", "per_channel")])
    macs = sum(r["macs"] for r in rows)
    print(f"{src}: {len(graph.nodes)} nodes, {macs:,} MACs -> {out}/graph.json, {out}/weights.npz "
          f"in {time.monotonic() - t0:.1f} s")
    return 0


def run_models(args):
    from sw.graph.models import build
    names = BUILTIN if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    bad = [n for n in names if n not in BUILTIN]
    if bad:
        return _fail("models", f"--only: unknown model {bad[0]!r}; built-in models: {', '.join(BUILTIN)}")
    t0 = time.monotonic()
    from sw.graph.models import MODELS
    for n in names:
        print(f"[{time.monotonic() - t0:6.1f} s] {n}: {MODELS[n]['why']}")
        f = build(n, args.out, log=lambda s: print(f"[{time.monotonic() - t0:6.1f} s] {s}", flush=True))
        acc = {k: v for k, v in f.info.items() if k.endswith("accuracy")}
        print(f"[{time.monotonic() - t0:6.1f} s] {n}: {f.folder} (float.onnx, qdq.onnx, qoperator.onnx)"
              + (f" accuracies {acc}" if acc else ""))
    return 0
