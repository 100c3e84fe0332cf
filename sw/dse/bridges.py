"""The generated engines as architectures of the model: VTA (sw/vta) and the systolic array (sw/systolic).

Each bridge maps an engine config onto an :class:`~sw.dse.arch.Arch` (PE array, buffers, word sizes, DRAM
bus), fixes the engine's spatial unrolling, searches the best blocking of every ResNet-18 layer, and reports
energy and a cycle estimate: max(compute cycles, DRAM bytes / bus bytes per cycle), compute and transfers
overlapping as in both engines' decoupled load/compute/store. The estimate is compared with the RTL cycles of
the engine's benchmark JSON under build/bench when it holds per-layer numbers.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from .arch import Arch
from .energy import PAPER_TABLE
from .layer import LOOPS, DseError, Layer, load_layers, read_json
from .search import search_blocking
from sw.data import RESNET18_LAYERS

__all__ = ["vta_arch", "vta_spatial", "systolic_arch", "systolic_spatial", "pad_to", "estimate", "report",
           "find_rtl_cycles"]

_I = {n: i for i, n in enumerate(LOOPS)}
BENCH_DIR = Path("build/bench")
RESNET18 = str(RESNET18_LAYERS)


def pad_to(layer: Layer, **multiples) -> Layer:
    """``layer`` with the named bounds rounded up to multiples (what an engine computes when a channel count
    does not fill its array: the padded MACs are spent, and counted)."""
    kw = {n: -(-getattr(layer, n) // m) * m for n, m in multiples.items()}
    return dataclasses.replace(layer, **kw) if any(kw[n] != getattr(layer, n) for n in kw) else layer


# ---------------------------------------------------------------------------------------------- VTA ----
def vta_arch(cfg, table=PAPER_TABLE) -> Arch:
    """VTA as the model sees it: a BATCH x BLOCK_OUT x BLOCK_IN GEMM array fed straight from the inp, wgt and
    acc scratchpads (no per-PE storage), double-buffered by virtual threads, under DRAM on a BUS_WIDTH bus.
    inp/wgt are ``inp_bits``/``wgt_bits`` wide, the accumulator ``acc_bits``."""
    return Arch.from_dict({
        "name": f"vta_{cfg.name}",
        "array": [cfg.batch, cfg.block_out, cfg.block_in],
        "levels": [
            {"name": "SRAM", "kind": "sram", "per_pe": False, "double_buffered": True,
             "partitions": {"IF": 1 << cfg.LOG_INP_BUFF_SIZE, "FL": 1 << cfg.LOG_WGT_BUFF_SIZE,
                            "OF": 1 << cfg.LOG_ACC_BUFF_SIZE}},
            {"name": "DRAM", "kind": "dram", "bandwidth_bytes_per_cycle": cfg.bus_bytes}],
        "bits": {"IF": cfg.inp_bits, "FL": cfg.wgt_bits, "OF": cfg.acc_bits},
        "include_mac": True}, table=table, where=f"vta {cfg.name}")


def vta_spatial(cfg):
    """One GEMM instruction: BATCH images x BLOCK_OUT output channels x BLOCK_IN input channels per cycle."""
    return [((_I["B"], cfg.batch),), ((_I["K"], cfg.block_out),), ((_I["C"], cfg.block_in),)]


def _vta_layer(cfg, layer):
    return pad_to(layer, B=cfg.batch, K=cfg.block_out, C=cfg.block_in)


# ----------------------------------------------------------------------------------------- systolic ----
def systolic_arch(cfg, table=PAPER_TABLE) -> Arch:
    """The weight-stationary array: each PE holds its weight (two, double-buffered) and passes one input and
    one partial sum on; the vector memories (one per row, int8 inputs in 32-bit elements), per-row weight
    banks and per-column int32 accumulators form the shared level; DRAM on the DMA bus."""
    from sw.systolic.config import ACC_BITS, IN_BITS
    return Arch.from_dict({
        "name": f"systolic_{cfg.name}",
        "array": [cfg.R, cfg.C],
        "levels": [
            {"name": "PE", "kind": "rf", "per_pe": True,
             "partitions": {"IF": IN_BITS // 8, "FL": 2 * IN_BITS // 8, "OF": ACC_BITS // 8}},
            {"name": "SRAM", "kind": "sram", "per_pe": False,
             "partitions": {"IF": cfg.n_mems * cfg.MEM_DEPTH * cfg.W * IN_BITS // 8,
                            "FL": cfg.R * cfg.WGT_DEPTH * cfg.C * IN_BITS // 8,
                            "OF": cfg.C * cfg.ACC_DEPTH * ACC_BITS // 8}},
            {"name": "DRAM", "kind": "dram", "bandwidth_bytes_per_cycle": cfg.bus_width // 8}],
        "bits": {"IF": IN_BITS, "FL": IN_BITS, "OF": ACC_BITS},
        "include_mac": True}, table=table, where=f"systolic {cfg.name}")


def systolic_spatial(cfg, layer):
    """Rows reduce over input channels, columns over output channels. With C_I <= R/2 the multi-tile rule
    packs t = min(R // C_I, FX, MAX_TILES) filter columns on the idle rows (FX padded to a multiple of t, as
    the engine does). Returns (layer as computed, spatial unrolling)."""
    from .search import resolve_dataflow
    dims = type("ArrayDims", (), {"array": (cfg.R, cfg.C)})
    if layer.C * 2 <= cfg.R and layer.FX > 1:
        t = max(1, min(cfg.R // layer.C, layer.FX, cfg.MAX_TILES))
        layer = pad_to(layer, FX=t)
        return layer, resolve_dataflow(layer, dims, f"C{layer.C},FX{t}|K")
    return layer, resolve_dataflow(layer, dims, "C|K")


# ----------------------------------------------------------------------------------------- report ------
def estimate(arch, layer, spatial):
    """Best blocking of ``layer`` for the engine's fixed unrolling -> the model's Result."""
    return search_blocking(layer, arch, spatial, name=f"{arch.name}-{layer.name}")


def _spec_names() -> dict:
    """(C_in, H, W, C_out, kernel, stride) -> name of the layer in the ResNet-18 table (C1..C11)."""
    out = {}
    for l in read_json(RESNET18).get("layers", []):
        out[(l["in_channels"], l["height"], l["width"], l["out_channels"], l["kernel"], l["stride"])] = l["name"]
    return out


def _vta_network_rows(d) -> dict:
    """Per-table-layer RTL cycles from bench/vta_resnet18.py's JSON: the first (default-config) ResNet-18 run;
    the conv layers are named after the network (s1b0_conv1...), so they are matched to C2..C11 by shape,
    and instances of one shape are averaged (the model's figure is per instance)."""
    from sw.vta.network import load_network, resnet18_network
    runs = [r for r in d.get("runs", []) if "resnet18" in str(r.get("summary", {}).get("label", ""))]
    if not runs:
        return {}
    net = load_network(resnet18_network())
    shape = {l.name: (l.in_shape[0], l.in_shape[1], l.in_shape[2], l.out_shape[0], l.kernel, l.stride)
             for l in net.layers}
    names, per = _spec_names(), {}
    for row in runs[0].get("rows", []):
        spec = names.get(shape.get(row.get("name")))
        if row.get("type") == "conv2d" and spec and isinstance(row.get("cycles"), (int, float)):
            per.setdefault(spec, []).append(row["cycles"])
    return {k: sum(v) / len(v) for k, v in per.items()}


def find_rtl_cycles(engine, bench=None) -> tuple:
    """Per-layer RTL cycles from a bench JSON: {layer name: cycles} and the file, or ({}, None) when absent.

    Understood formats: a JSON list (or ``{"layers": [...]}``) of objects with a layer name (``layer`` or
    ``name``) and ``rtl_cycles``/``cycles``/``total_cycles``; the systolic bench (``{"groups": {"resnet18":
    {"rows": [...]}}}``); the VTA network bench (``{"runs": [{"summary", "rows"}]}``, matched by shape).
    """
    files = [Path(bench)] if bench else sorted(BENCH_DIR.glob(f"{engine}*.json"))
    for f in files:
        try:
            d = json.loads(f.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(d, dict) and "runs" in d:
            found = _vta_network_rows(d)
            if found:
                return found, f
            continue
        if isinstance(d, dict) and isinstance(d.get("groups"), dict):
            d = d["groups"].get("resnet18", {}).get("rows", [])
        items = d.get("layers", []) if isinstance(d, dict) else d
        found = {}
        for it in items if isinstance(items, list) else []:
            if not isinstance(it, dict) or it.get("source", "rtl") != "rtl":
                continue
            name = it.get("layer") if isinstance(it.get("layer"), str) else it.get("name")
            cyc = next((it[k] for k in ("rtl_cycles", "cycles", "total_cycles") if isinstance(it.get(k), (int, float))), None)
            if isinstance(name, str) and cyc is not None:
                found[name] = cyc
        if found:
            return found, f
    return {}, None


def _microbench(engine, cfg_name):
    """The engine's micro-benchmark rows for a config (VTA: GEMM II, load bandwidth), or []."""
    f = BENCH_DIR / f"{engine}.json"
    try:
        d = json.loads(f.read_text())
    except (OSError, json.JSONDecodeError):
        return []
    return [r for r in d if isinstance(r, dict) and r.get("config") == cfg_name] if isinstance(d, list) else []


def report(engine, *, config=None, layers=None, bench=None, table=PAPER_TABLE) -> dict:
    """Energy and cycles of every layer on ``engine`` (vta or systolic) with the RTL comparison."""
    layers_path = layers or RESNET18
    layers = load_layers(layers_path)
    raw = read_json(config or f"configs/{engine}/default.json")
    try:
        if engine == "vta":
            from sw.vta.config import VTAConfig
            cfg = VTAConfig.from_dict(raw)
            arch = vta_arch(cfg, table)
        elif engine == "systolic":
            from sw.systolic.config import SystolicConfig
            cfg = SystolicConfig.from_dict(raw)
            arch = systolic_arch(cfg, table)
        else:
            raise DseError(f"engine must be vta or systolic, not {engine!r}")
    except ValueError as e:
        if isinstance(e, DseError):
            raise
        raise DseError(f"{config or engine}: {e}") from None
    listed = read_json(layers_path)
    listed = listed.get("layers", []) if isinstance(listed, dict) else listed
    counts = {l.get("name"): l.get("instances_in_resnet18", 1) for l in listed if isinstance(l, dict)}
    rtl, rtl_file = find_rtl_cycles(engine, bench)
    rows, notes = [], []
    for layer in layers:
        if engine == "vta":
            work = _vta_layer(cfg, layer)
            spatial = vta_spatial(cfg)
        else:
            work, spatial = systolic_spatial(cfg, layer)
        s = estimate(arch, work, spatial)
        r = s.result
        row = {"layer": layer.name, "instances": counts.get(layer.name, 1), "macs": layer.macs,
               "padded_macs": work.macs, "dataflow": r.mapping.dataflow, "energy_uJ": float(r.total) / 1e6,
               "pJ_per_MAC": float(r.total) / layer.macs, "compute_cycles": r.compute_cycles,
               "dram_cycles": r.traffic_cycles.get("DRAM", 0.0), "cycles": r.cycles, "bound": r.bound,
               "utilisation": layer.macs / (r.cycles * arch.pes), "search_s": s.seconds,
               "energy_per_level_uJ": {n: float(r.level_total(n)) / 1e6 for n in r.energy},
               "mapping": r.mapping.to_dict(arch)}
        if engine == "systolic":
            row.update(_systolic_reference(cfg, layer))
        if layer.name in rtl:
            row["rtl_cycles"] = rtl[layer.name]
            row["model_over_rtl"] = r.cycles / rtl[layer.name]
        rows.append(row)
    cols = ["layer", ("x", "instances"), ("MACs", "macs", ",d"), ("unrolling", "dataflow"),
            ("energy uJ", "energy_uJ", ",.1f"), ("pJ/MAC", "pJ_per_MAC", ".3f"), ("compute cyc", "compute_cycles", ",.0f"),
            ("DRAM cyc", "dram_cycles", ",.0f"), ("model cyc", "cycles", ",.0f"), ("bound", "bound"),
            ("util", "utilisation", ".3f")]
    if engine == "systolic" and any("engine_model_cycles" in r for r in rows):
        cols.append(("engine model cyc", "engine_model_cycles", ",.0f"))
    if rtl:
        cols += [("RTL cyc", "rtl_cycles", ",.0f"), ("model/RTL", "model_over_rtl", ".3f")]
        notes.append(f"RTL cycles from {rtl_file}")
    else:
        notes.append(f"no per-layer RTL cycles for {engine}: nothing under {BENCH_DIR} matches {engine}*.json with "
                     f"layer/cycles entries (pass --bench FILE when a network benchmark exists)")
    net = [r for r in rows if r["layer"] != "C1"]
    tot_cycles = sum(r["cycles"] * r["instances"] for r in net)
    tot_energy = sum(r["energy_uJ"] * r["instances"] for r in net)
    tot_macs = sum(r["macs"] * r["instances"] for r in net)
    notes.append(f"ResNet-18 conv layers after C1 (with instance counts): {tot_macs:,} MACs, model "
                 f"{tot_cycles:,.0f} cycles, {tot_energy:,.1f} uJ ({tot_energy * 1e6 / tot_macs:.3f} pJ/MAC); "
                 f"energy table {table.name}, MAC energy included")
    summary = {"network_cycles": tot_cycles, "network_energy_uJ": tot_energy, "network_macs": tot_macs}
    if engine == "vta":
        summary.update(_vta_notes(cfg, notes, tot_cycles))
    elif any("engine_model_cycles" in r for r in rows):
        both = [r for r in net if "engine_model_cycles" in r]
        eng = sum(r["engine_model_cycles"] * r["instances"] for r in both)
        mod = sum(r["cycles"] * r["instances"] for r in both)
        notes.append(f"the systolic engine's own schedule model (sw/systolic/schedule.py, fill/drain and fold "
                     f"periods included) on the {len(both)} layers it plans: {eng:,.0f} cycles vs this model's "
                     f"{mod:,.0f} ({mod / eng:.3f}x)")
    return {"title": f"{engine} {cfg.name} as an architecture of the model ({arch.name}): best blocking per layer",
            "engine": engine, "config": cfg.to_dict(), "arch": arch.to_dict(), "rows": rows, "columns": cols,
            "notes": notes, "summary": summary, "rtl_file": str(rtl_file) if rtl_file else None}


def _vta_notes(cfg, notes, tot_cycles):
    out = {}
    data = read_json(RESNET18)
    pub = data.get("published_vta_tsim_cycles_resnet18_v1", {}).get("after_gemm_pipelining")
    ideal = data.get("ideal_cycles_at_256_macs_per_cycle")
    if pub and cfg.macs_per_cycle == 256 and cfg.BUS_WIDTH == 64:
        notes.append(f"published tsim ResNet-18 (v1, GEMM pipelined, 1x16x16, 64-bit bus): {pub:,} cycles; "
                     f"model {tot_cycles:,.0f} ({tot_cycles / pub:.3f}x); ideal at 256 MAC/cycle {ideal:,.0f}")
        out["published_tsim_cycles"] = pub
    for r in _microbench("vta", cfg.name):
        if r.get("bench") == "gemm_ii":
            notes.append(f"RTL GEMM: {r['iterations_per_cycle']:.4f} uops/cycle measured (build/bench/vta.json); "
                         f"the model assumes 1 ({cfg.macs_per_cycle} MACs/cycle)")
            out["rtl_gemm_uops_per_cycle"] = r["iterations_per_cycle"]
        if r.get("bench", "").startswith("load_") and "bytes_per_cycle" in r:
            notes.append(f"RTL {r['bench']}: {r['bytes_per_cycle']:.2f} B/cycle measured; the model assumes "
                         f"{cfg.bus_bytes} B/cycle")
            out[f"rtl_{r['bench']}_bytes_per_cycle"] = r["bytes_per_cycle"]
    return out


def _systolic_reference(cfg, layer):
    """The systolic engine's own analytic cycle counts for the layer (its schedule), when it can plan it."""
    try:
        from sw.systolic.layer import ConvLayer
        from sw.systolic import schedule
        pad = (layer.FX - 1) // 2 if layer.FX > 1 else 0
        h = (layer.Y - 1) * layer.stride_y + layer.FY - 2 * pad
        conv = ConvLayer(batch=layer.B, height=h, width=h, in_channels=layer.C, out_channels=layer.K,
                         kernel_h=layer.FY, kernel_w=layer.FX, stride=layer.stride_y, pad=pad)
        out = {"engine_ideal_ws_cycles": schedule.ideal_ws_cycles(cfg, conv),
               "scalesim_ws_cycles": schedule.scalesim_ws_cycles(cfg, conv)}
        out["engine_model_cycles"] = schedule.plan(cfg, conv).model_cycles()
        return out
    except Exception as e:  # noqa: BLE001 - another engineer's module in progress: report, never fail
        return {"engine_reference_error": f"{type(e).__name__}: {e}"}
