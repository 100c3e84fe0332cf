"""Whole networks on every engine, side by side: ``accelgen run`` and ``accelgen compare``.

Everything here goes through the engine contract (:mod:`sim.engines` specs, :mod:`sw.common.network`,
:func:`tb.backends.rtl_network`); no engine is named. Per engine a comparison row holds cycles per layer and in
total, MAC/cycle, utilisation, DRAM bytes, the FPGA figures of the engine config from the cached synthesis /
place-and-route reports (``synth=True`` produces them), latency per inference at that Fmax, and energy where the
engine declares an energy model. Engines run as Dask tasks (a LocalCluster, or ``scheduler``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from sw.common.contract import BadInput, RunOptions, staged_output
from sw.common.network import LoweringError

__all__ = ["load_model", "model_inputs", "run_network", "engine_row", "compare", "fpga_figures", "plot",
           "BUILTIN"]

BUILTIN = ("digits", "resnet18", "mobilenetv2", "tiny")


# ----------------------------------------------------------------------------------------------- models, inputs
def load_model(model: str, *, models_dir="build/models", log=None):
    """``(graph, onnx_path or None, label)`` for an ONNX file, a graph folder or a built-in model name.

    Raises
    ------
    BadInput
        For a missing/corrupt/unsupported model (the importer's message names the node and op).
    """
    from sw.graph.ir import GraphError
    p = Path(model)
    try:
        if model in BUILTIN and not p.exists():
            from sw.graph.models import build
            from sw.graph.onnx_import import import_onnx
            mf = build(model, out=models_dir, log=log)
            return import_onnx(mf.qdq), mf.qdq, model
        if p.is_dir():
            from sw.graph import load
            return load(p), None, p.name
        if not p.exists():
            raise BadInput(f"{p}: model not found (an .onnx file, a graph folder, or one of {', '.join(BUILTIN)})")
        from sw.graph.onnx_import import import_onnx
        return import_onnx(p), p, p.stem
    except GraphError as e:
        raise BadInput(str(e)) from None


def model_inputs(graph, model: str, x_path=None, n: int = 1):
    """``(int codes, float inputs or None)``: ``x_path`` (float -> quantised by the model's input
    QuantizeLinear; integer codes checked against the input dtype), else the digits test images for the digits
    model, else ``n`` seeded normal inputs."""
    from sw.common.contract import read_npy
    from sw.graph.ir import DTYPES
    from sw.graph.reference import quantize_input
    t = graph.tensors[graph.inputs[0]]
    if x_path is not None:
        x = read_npy(x_path, "input", kind="iuf")
        if x.shape == tuple(t.shape[1:]):
            x = x[None]
        if x.ndim != len(t.shape) or tuple(x.shape[1:]) != tuple(t.shape[1:]) or x.shape[0] < 1:
            raise BadInput(f"{x_path}: input: shape must be (N, {', '.join(map(str, t.shape[1:]))}), not {x.shape}")
        if x.dtype.kind == "f":
            if not np.isfinite(x).all():
                raise BadInput(f"{x_path}: input: values must be finite")
            return quantize_input(graph, x), x.astype(np.float32)
        lo, hi = DTYPES[t.dtype]
        if x.min() < lo or x.max() > hi:
            raise BadInput(f"{x_path}: input: integer codes must lie in {lo}..{hi} ({t.dtype}), found "
                           f"{int(x.min())}..{int(x.max())}")
        return x.astype(t.dtype), None
    if model == "digits":
        from sw.graph.models import digits_data
        xte = digits_data()[2][:n]
        return quantize_input(graph, xte), xte.astype(np.float32)
    xf = np.random.default_rng(2024).standard_normal((n,) + tuple(t.shape[1:])).astype(np.float32)
    return quantize_input(graph, xf), xf


# ----------------------------------------------------------------------------------------------- one engine
def _config(engine, config):
    from sim import engines
    mod = engines.get(engine)
    path = config or engines.default_config_path(engine)
    try:
        return mod.load_config(path), Path(path)
    except (ValueError, OSError) as e:
        raise BadInput(f"{path}: {e}") from None


def run_network(engine, graph, x, *, backend="golden", config=None, out=None, options=None, progress=None):
    """Lower ``graph`` onto ``engine`` and run it: the :class:`sw.common.network.NetworkResult`.

    Raises
    ------
    LoweringError
        When the engine has no graph lowering or cannot lower the graph.
    """
    from sim import engines
    spec = engines.spec(engine)
    if spec is None or spec.lower is None:
        raise LoweringError(f"engine {engine}: cannot lower the integer graph yet (no EngineSpec.lower)")
    cfg, _ = _config(engine, config)
    low = spec.lower(graph, cfg)
    options = options or RunOptions()
    if backend == "golden":
        return low, low.run_golden(x, options, progress)
    from tb.backends import rtl_network
    out = Path(out) if out else Path("build/networks") / f"{graph.name}-{engine}"
    return low, rtl_network(engine)(low, x, out, options, progress)


def fpga_figures(engine, cfg, *, synth=False, family="ecp5", device=None, log=None) -> dict:
    """LUT/FF/BRAM/DSP and Fmax of ``cfg`` from the cached place-and-route report (router1 or router2, with or
    without DSPs), else the cached synthesis report; ``synth=True`` runs synthesis when neither is cached.
    ``{"source": "none"}`` when nothing is known. Reports match the current RTL exactly (digest)."""
    from fpga.flow import engine_design, pnr, synth as run_synth
    quiet = log or (lambda *a, **k: None)
    rep, source = None, "none"
    harnessed = engine_design(engine, cfg, harness=True)
    for kw in ({}, {"router": "router2"}, {"dsp": False}, {"dsp": False, "router": "router2"}):
        rep = pnr(harnessed, family, device, cache_only=True, log=quiet, **kw)
        if rep is not None and rep.get("status") == "ok":
            source = "pnr"
            break
        rep = None
    if rep is None:
        design = engine_design(engine, cfg)
        rep = run_synth(design, family, device, cache_only=not synth, log=quiet)
        source = "synth" if rep is not None else "none"
    if rep is None:
        return {"source": "none"}
    res = rep.get("resources", {})
    return {"source": source, "device": rep.get("device"), "luts": res.get("luts"), "ffs": res.get("ffs"),
            "brams": res.get("brams"), "dsps": res.get("dsps"), "fmax_mhz": rep.get("fmax_mhz"),
            "fits": rep.get("fits")}


def engine_row(engine, graph, x, **kw) -> dict:
    """One row of the comparison (runs in a Dask worker). Never raises: an engine that cannot run the graph
    (or fails) gets a row that says which layer and why, and the rest of the table still fills."""
    t0 = time.monotonic()
    try:
        return _engine_row(engine, graph, x, **kw)
    except Exception as e:          # noqa: BLE001 -- one engine's failure must not cost the others their rows
        import traceback
        where = traceback.extract_tb(e.__traceback__)[-1]
        return {"engine": engine, "backend": kw.get("backend", "golden"), "status": "error",
                "message": f"{type(e).__name__}: {e} ({Path(where.filename).name}:{where.lineno})"[:300],
                "wall_s": round(time.monotonic() - t0, 1)}


def _engine_row(engine, graph, x, *, backend="golden", config=None, out=None, options=None, synth=False,
                family="ecp5", device=None) -> dict:
    from sim import engines
    t0 = time.monotonic()
    row = {"engine": engine, "backend": backend, "status": "ok", "message": ""}
    try:
        cfg, cfg_path = _config(engine, config)
        row["config"] = cfg.name if hasattr(cfg, "name") else str(cfg_path)
        low, res = run_network(engine, graph, x, backend=backend, config=config, out=out, options=options)
    except LoweringError as e:
        return {**row, "status": "cannot lower", "message": str(e), "wall_s": round(time.monotonic() - t0, 1)}
    n = max(1, int(np.asarray(x).shape[0]))
    row.update(status=res.status, message=res.message, cycles=res.cycles // n, macs=res.macs // n,
               mac_per_cycle=round(res.macs / res.cycles, 2) if res.cycles else None,
               utilization=round(res.utilization, 4) if res.cycles else None, dram_bytes=res.dram_bytes // n,
               bit_exact=res.bit_exact, unmapped=dict(low.unmapped),
               layers=[{"name": l.name, "op": l.op, "cycles": l.cycles // n, "macs": l.macs // n,
                        "where": l.where, "bit_exact": l.bit_exact} for l in res.layers],
               outputs={k: np.asarray(v).tolist() for k, v in res.outputs.items()})
    if low.unmapped:
        first = next(iter(low.unmapped.items()))
        row["message"] = (row["message"] + "; " if row["message"] else "") + \
            f"{len(low.unmapped)} layer(s) on the host, first {first[0]}: {first[1]}"
    try:
        row["fpga"] = fpga_figures(engine, cfg, synth=synth, family=family, device=device)
    except Exception as e:          # noqa: BLE001 -- a missing report must not cost the row its cycles
        row["fpga"] = {"source": "none", "error": str(e)[:200]}
    fmax = row["fpga"].get("fmax_mhz")
    row["latency_us"] = round(row["cycles"] / fmax, 2) if fmax and row.get("cycles") else None
    spec = engines.spec(engine)
    energy = getattr(spec, "energy", None)
    row["energy_uj"] = None
    if energy is not None:
        try:
            row["energy_uj"] = energy(graph, cfg)
        except Exception as e:      # noqa: BLE001
            row["energy_error"] = str(e)[:200]
    row["wall_s"] = round(time.monotonic() - t0, 1)
    return row


# ----------------------------------------------------------------------------------------------- comparison
COLUMNS = ["engine", "status", ("cycles", "cycles", ",d"), ("MAC/cyc", "mac_per_cycle", ".1f"),
           ("util", "utilization", ".3f"), ("DRAM B", "dram_bytes", ",d"), ("LUTs", "luts", ",d"),
           ("FFs", "ffs", ",d"), ("BRAMs", "brams", ",d"), ("DSPs", "dsps", ",d"), ("Fmax", "fmax_mhz", ".1f"),
           ("lat us", "latency_us", ".1f"), ("uJ", "energy_uj", ".2f"), ("bit-exact", "bit_exact"), ("= ort", "onnxruntime_agree"), "note"]


def _flat(row):
    f = row.get("fpga", {})
    note = row.get("message", "")
    if f.get("source") == "none":
        note = (note + "; " if note else "") + "no FPGA report cached (--synth)"
    return {**row, **{k: f.get(k) for k in ("luts", "ffs", "brams", "dsps", "fmax_mhz")}, "note": note[:90]}


def plot(rows, path, title):
    """Per-layer cycles by engine (left) and latency (or cycles) vs LUTs (right)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ran = [r for r in rows if r.get("layers")]
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2.2, 1]})
    if ran:
        names = [l["name"] for l in ran[0]["layers"] if l["macs"]]
        w = 0.8 / len(ran)
        for k, r in enumerate(ran):
            cyc = {l["name"]: l["cycles"] for l in r["layers"]}
            a.bar(np.arange(len(names)) + k * w, [max(cyc.get(n, 0), 1) for n in names], w, label=r["engine"])
        a.set_xticks(np.arange(len(names)) + 0.4 - w / 2, names, rotation=60, ha="right", fontsize=7)
        a.set_yscale("log")
        a.legend()
    a.set_ylabel("cycles per layer")
    a.set_title(title)
    for r in ran:
        f = r.get("fpga", {})
        if f.get("luts"):
            y = r["latency_us"] if r.get("latency_us") else r["cycles"]
            b.scatter(f["luts"], y)
            b.annotate(r["engine"], (f["luts"], y))
    b.set_xlabel("LUTs")
    b.set_ylabel("latency per inference (us; cycles where no Fmax)")
    b.set_title("latency vs area")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compare(model, engines_, *, backend="golden", x_path=None, n=1, synth=False, family="ecp5", device=None,
            scheduler=None, workers=2, out=None, configs=None, log=print) -> dict:
    """``accelgen compare``: every engine of ``engines_`` on the model, as Dask tasks; table, JSON and PNG in
    ``out`` (staged: a failed comparison keeps the previous one). Returns the summary."""
    from sim.cluster import dask_client
    from sim.runner import format_table
    t0 = time.monotonic()
    graph, onnx_path, label = load_model(model, log=log)
    x, xf = model_inputs(graph, model, x_path, n)
    out = Path(out or Path("build/compare") / label)
    log(f"compare {label}: {len(graph.nodes)} nodes, {x.shape[0]} input(s), engines {', '.join(engines_)}, "
        f"backend {backend}")
    rows = [None] * len(engines_)
    with staged_output(out, protect=[p for p in (x_path, onnx_path) if p]) as tmp:
        with dask_client(scheduler, min(workers, len(engines_)), log=log) as client:
            from dask.distributed import as_completed
            configs = configs or {}
            futs = {client.submit(engine_row, e, graph, x, backend=backend, out=tmp / f"sim-{e}", synth=synth,
                                  config=configs.get(e),
                                  family=family, device=device, pure=False): i for i, e in enumerate(engines_)}
            for fut in as_completed(futs):
                i = futs[fut]
                rows[i] = fut.result()
                r = rows[i]
                log(f"  {r['engine']}: {r['status']}" + (f", {r['cycles']:,} cycles" if r.get("cycles") else "")
                    + (f" -- {r['message']}" if r.get("message") else "") + f" ({r['wall_s']:.0f} s, "
                    f"{time.monotonic() - t0:.0f} s elapsed)")
        if xf is not None and onnx_path is not None:
            from sw.graph.agreement import ort_session
            s = ort_session(onnx_path)
            name = s.get_inputs()[0].name
            ort_cls = [int(np.argmax(s.run(None, {name: v[None]})[0].reshape(-1))) for v in xf]
            for r in rows:
                o = r.get("outputs", {}).get(graph.outputs[0])
                if o is not None:
                    cls = np.asarray(o).reshape(len(ort_cls), -1).argmax(1)
                    r["onnxruntime_agree"] = f"{int((cls == np.array(ort_cls)).sum())}/{len(ort_cls)}"
        table = format_table([_flat(r) for r in rows], COLUMNS)
        summary = {"model": label, "backend": backend, "inputs": int(x.shape[0]),
                   "rows": [{k: v for k, v in r.items() if k != "outputs"} for r in rows],
                   "wall_s": round(time.monotonic() - t0, 1)}
        (tmp / "compare.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
        (tmp / "compare.txt").write_text(table + "\n")
        plot(rows, tmp / "compare.png", f"{label} ({backend}, batch {x.shape[0]})")
        for e in engines_:
            import shutil
            shutil.rmtree(tmp / f"sim-{e}", ignore_errors=True)     # simulation scratch, not results
    print(table)
    log(f"results: {out / 'compare.json'}, {out / 'compare.txt'}, {out / 'compare.png'} "
        f"({time.monotonic() - t0:.0f} s)")
    return summary
