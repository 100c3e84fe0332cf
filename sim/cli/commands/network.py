"""``accelgen run | compare``: a quantized network (ONNX, graph folder or built-in model) on the engines.

    accelgen run MODEL --engine ENGINE [--backend golden|rtl] [--config FILE] [--input X.npy] [--images N] [--out DIR]
    accelgen run DIR [--backend rtl|golden] ...         (a network compiled by 'accelgen compile': VTA layer jobs)
    accelgen compare MODEL [--engines vta,systolic,...] [--backend golden|rtl] [--input X.npy] [--synth]
                     [--family ecp5] [--device 85k] [--scheduler ADDRESS] [--out DIR]

MODEL is a quantized .onnx file (QDQ or QOperator), a graph folder written by ``accelgen import``, or a built-in
model (digits, resnet18, mobilenetv2, tiny). See docs/networks.md.
"""

import json
import sys
import time
from pathlib import Path

from sim import engines

__all__ = ["register"]

BUILTIN = ("digits", "resnet18", "mobilenetv2", "tiny")


def _is_compiled_vta_network(path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / "network.json").is_file() and not (p / "graph.json").is_file()


def register(sub):
    p = sub.add_parser("run", help="run a quantized network (ONNX, graph folder, built-in) on an engine, checking "
                                   "every layer against the graph reference; or a network folder compiled by "
                                   "'accelgen compile'")
    p.add_argument("model", help=f"an .onnx file, a graph folder, one of {', '.join(BUILTIN)}, or a folder "
                                 "written by 'accelgen compile'")
    p.add_argument("--engine", choices=engines.names(), help="engine to run the model on (models; default vta)")
    p.add_argument("--backend", choices=("rtl", "golden"), default=None,
                   help="rtl (default) or golden")
    p.add_argument("--config", help="engine config JSON (default: the engine's default config)")
    p.add_argument("--input", help="inputs .npy (N, C, H, W): float (quantized by the model's input "
                                   "QuantizeLinear) or integer codes")
    p.add_argument("--images", type=int, default=1, help="inputs when --input is not given (default 1; digits: "
                                                         "its first N test images)")
    p.add_argument("--out", help="output folder (default build/networks/MODEL-ENGINE-BACKEND)")
    p.add_argument("--latency", type=int, help="memory read latency in cycles (engine default if omitted)")
    p.add_argument("--cycle-limit", type=int, dest="cycle_limit", help="per-layer cycle limit")
    # options of the compiled-VTA-network form
    p.add_argument("--layers", nargs="+", help="compiled network: only these layers")
    p.add_argument("--timeline", type=int, default=0, metavar="N",
                   help="compiled network, RTL: sample the busy counters every N cycles (for 'accelgen plot')")
    p.add_argument("--no-golden-check", action="store_true",
                   help="compiled network, RTL: skip comparing each final DRAM image with the golden model's")
    p.set_defaults(func=cmd_run)

    c = sub.add_parser("compare", help="the same network on several engines: cycles, MAC/cycle, utilisation, DRAM "
                                       "bytes, LUTs/Fmax, latency and energy side by side (Dask tasks)")
    c.add_argument("model", help=f"an .onnx file, a graph folder, or one of {', '.join(BUILTIN)}")
    c.add_argument("--engines", default=",".join(engines.names()),
                   help="comma-separated engines (default: every engine; those that cannot lower the graph say why)")
    c.add_argument("--backend", choices=("rtl", "golden"), default="rtl")
    c.add_argument("--input", help="inputs .npy (float or integer codes), as for 'accelgen run'")
    c.add_argument("--images", type=int, default=1, help="inputs when --input is not given (default 1)")
    c.add_argument("--config", action="append", default=[], metavar="ENGINE=FILE",
                   help="config of one engine (repeatable; default: each engine's default config)")
    c.add_argument("--synth", action="store_true", help="synthesise engine configs without a cached FPGA report")
    c.add_argument("--family", default="ecp5", help="FPGA family of the reports (default ecp5)")
    c.add_argument("--device", help="FPGA device of the reports (default: any cached)")
    c.add_argument("--scheduler", help="address of an existing Dask scheduler (default: a LocalCluster)")
    c.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    c.add_argument("--out", help="output folder (default build/compare/MODEL)")
    c.set_defaults(func=cmd_compare)


def _check_counts(args):
    from sw.common.contract import BadInput
    if not 1 <= args.images <= 100_000:
        raise BadInput(f"--images must be 1..100,000, not {args.images}")
    if not 1 <= getattr(args, "workers", 1) <= 256:
        raise BadInput(f"--workers must be 1..256, not {args.workers}")


def cmd_run(args):
    if _is_compiled_vta_network(args.model) and args.engine in (None, "vta"):
        from sim.cli.commands.vta_network import cmd_run as run_compiled
        args.dir = args.model
        args.backend = args.backend or "rtl"
        return run_compiled(args)
    from bench.compare import load_model, model_inputs, run_network
    from sw.common.contract import RunOptions, staged_output
    from sw.common.network import LoweringError
    import numpy as np
    _check_counts(args)
    engine = args.engine or "vta"
    backend = args.backend or "rtl"
    options = RunOptions(latency=args.latency, cycle_limit=args.cycle_limit)
    t0 = time.monotonic()
    graph, onnx_path, label = load_model(args.model, log=lambda s: print(s, flush=True))
    x, xf = model_inputs(graph, args.model, args.input, args.images)
    out = Path(args.out or Path("build/networks") / f"{label}-{engine}-{backend}")
    protect = [p for p in (args.input, onnx_path, args.model if Path(args.model).is_dir() else None) if p]
    print(f"{engine} {backend}: {label}, {len(graph.nodes)} nodes, {x.shape[0]} input(s)", flush=True)
    with staged_output(out, protect=protect) as tmp:
        try:
            low, res = run_network(engine, graph, x, backend=backend, config=args.config, out=tmp / "sim",
                                   options=options, progress=lambda s: print(f"  {s}", flush=True))
        except LoweringError as e:
            print(f"accelgen run: {e}", file=sys.stderr)
            return 2
        summary = res.summary()
        summary["model"], summary["unmapped"] = label, low.unmapped
        for name, v in res.outputs.items():
            fname = name.replace("/", "_").replace(":", "_")
            np.save(tmp / f"{fname}.npy", v)
            try:
                from sw.graph.reference import dequantize
                np.save(tmp / f"{fname}.float.npy", dequantize(graph, name, v).astype(np.float32))
            except KeyError:
                pass
        if xf is not None and onnx_path is not None:
            from sw.graph.agreement import ort_session
            s = ort_session(onnx_path)
            iname = s.get_inputs()[0].name
            ort = np.array([int(np.argmax(s.run(None, {iname: v[None]})[0].reshape(-1))) for v in xf])
            ours = np.asarray(res.outputs[graph.outputs[0]]).reshape(len(ort), -1).argmax(1)
            summary["onnxruntime"] = {"predictions_agree": int((ours == ort).sum()), "inputs": len(ort),
                                      "ours": ours.tolist(), "onnxruntime": ort.tolist()}
        (tmp / "result.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
        import shutil
        shutil.rmtree(tmp / "sim", ignore_errors=True)
    from sim.runner import print_table
    print_table(summary["layers"], ["name", "op", "where", ("cycles", "cycles", ",d"), ("MACs", "macs", ",d"),
                                    ("MAC/cyc", "mac_per_cycle", ".1f"), ("DRAM B", "dram_bytes", ",d"),
                                    "bit_exact"])
    n = x.shape[0]
    print(f"{engine} {backend}: status {res.status}, {res.cycles // n:,} cycles per inference, "
          f"{res.macs // n:,} MACs, utilisation {100 * res.utilization:.1f}%, bit-exact {res.bit_exact}"
          + (f", onnxruntime predictions agree {summary['onnxruntime']['predictions_agree']}/{n}"
             if "onnxruntime" in summary else "") + f" ({time.monotonic() - t0:.0f} s)")
    if res.message:
        print(f"  {res.message}")
    print(f"results: {out / 'result.json'}")
    return 0 if res.status == "ok" else 1


def cmd_compare(args):
    from bench.compare import compare
    from sw.common.contract import BadInput
    _check_counts(args)
    names = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in names if e not in engines.names()]
    if bad or not names:
        raise BadInput(f"--engines: unknown engine {bad[0] if bad else '(none)'}; engines: {', '.join(engines.names())}")
    configs = {}
    for item in args.config:
        eng, sep, path = item.partition("=")
        if not sep or eng not in names or not path:
            raise BadInput(f"--config {item!r}: must be ENGINE=FILE with ENGINE one of {', '.join(names)}")
        configs[eng] = path
    s = compare(args.model, names, backend=args.backend, x_path=args.input, n=args.images, synth=args.synth,
                configs=configs,
                family=args.family, device=args.device, scheduler=args.scheduler, workers=args.workers,
                out=args.out, log=lambda m: print(m, flush=True))
    ran = [r for r in s["rows"] if r["status"] not in ("cannot lower",)]
    return 0 if ran and all(r["status"] == "ok" for r in ran) else 1
