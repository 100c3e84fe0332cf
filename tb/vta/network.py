"""A lowered integer graph (:func:`sw.vta.lower.lower`) on the VTA RTL: the network half of the engine contract.

    result = run_network_rtl(lowered, x_int, out_dir, RunOptions(), progress=print)

Every layer of every batch item becomes a job folder (``out/jobs/<item>_<index>_<layer>/``, the compiled
program with the graph reference's input tensors of that layer); all jobs run in one simulation (one Verilator
build per config, one simulator start), a progress line per finished layer. Each layer's output is compared
bit-exactly with the graph reference and, with ``check_golden``, the whole final DRAM image with the golden
model's. Layers the lowering left to the host (``Lowered.unmapped``) carry the reference values, no cycles.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np

from sim.runner import run_cocotb
from sw.common.contract import RunOptions
from sw.common.job import DRAM_FILE, RESULT_FILE, write_job
from sw.common.network import LayerResult, NetworkResult
from sw.graph.reference import run as graph_run
from sw.vta import golden
from sw.vta.lower import batch_items
from tb.vta.harness import ENV_LATENCY, vta_build

__all__ = ["run_network_rtl"]


def _read_result(o):
    """``result.json`` (status, cycles, message, ... whatever schema version wrote it) plus ``dram``."""
    r = json.loads((o / RESULT_FILE).read_text())
    df = o / DRAM_FILE
    r["dram"] = np.frombuffer(df.read_bytes(), np.uint8).copy() if df.is_file() else None
    return r


def _cycle_limit(L, options):
    if options.cycle_limit:
        return options.cycle_limit
    meta = L._compiled[0].meta
    return 4 * (meta["gemm_iterations"] + meta["alu_iterations"] + L.dram_bytes()) + 200_000


def run_network_rtl(lowered, inputs, out, options: RunOptions | None = None, progress=None, *,
                    check_golden: bool = True, poll_s: float = 0.5) -> NetworkResult:
    """Run ``lowered`` (engine ``vta``) on the RTL; returns a :class:`NetworkResult` with cycles per layer."""
    options = options or RunOptions()
    cfg, graph = lowered.cfg, lowered.graph
    out = Path(out).resolve()
    items = batch_items(graph, inputs)
    t0 = time.monotonic()
    say = progress or (lambda line: None)
    refs, jobs = [], []          # jobs: (item, layer, job_dir, out_dir)
    for i, x in enumerate(items):
        ref = graph_run(graph, {graph.inputs[0]: x})
        refs.append(ref)
        for k, L in enumerate(lowered.layers):
            if L.layer is None:
                continue
            dram, addr, count = L.image(cfg, L.prepare(ref, 0))
            job = out / "jobs" / f"{i:03d}_{k:02d}_{L.name.replace('/', '_').replace(':', '_')}"
            write_job(job, "vta", cfg.to_dict(), dram, addr, count, cycle_limit=_cycle_limit(L, options))
            jobs.append((i, L, job, job / "out-rtl"))
    say(f"vta rtl: {len(jobs)} layer jobs for {len(items)} input(s) written ({time.monotonic() - t0:.1f} s)")
    sim_dir = out / "sim"
    sim_dir.mkdir(parents=True, exist_ok=True)
    spec = sim_dir / "jobs.json"
    spec.write_text(json.dumps({"jobs": [[str(j), str(o)] for _, _, j, o in jobs], "sample": 0}))
    prog = sim_dir / "progress.jsonl"
    prog.unlink(missing_ok=True)
    env = {"VTA_JOBS": str(spec), "VTA_PROGRESS": str(prog), **options.to_env()}
    if options.latency is not None:
        env[ENV_LATENCY] = str(options.latency)
    build = vta_build(cfg, waves=options.waves)
    say(f"vta rtl: simulating ({time.monotonic() - t0:.1f} s)")
    box = {}
    th = threading.Thread(target=lambda: box.setdefault("res", run_cocotb(
        build, "tb.vta.run_jobs", test_dir=sim_dir / "run", env=env, waves=options.waves)))
    th.start()
    seen = 0
    while True:
        alive = th.is_alive()
        if prog.exists():
            lines = prog.read_text().split("\n")[:-1]
            for line in lines[seen:]:
                rec = json.loads(line)
                i, L, _, _ = jobs[rec["n"]]
                say(f"vta rtl [{rec['n'] + 1}/{len(jobs)}] item {i} {L.name}: {rec['status']}, "
                    f"{rec['cycles']:,} cycles ({time.monotonic() - t0:.1f} s)")
            seen = max(seen, len(lines))
        if not alive:
            break
        time.sleep(poll_s)
    th.join()
    res = box.get("res")

    rows = {L.name: LayerResult(L.name, L.op, macs=L.macs * len(items), where=L.where,
                                bit_exact=True if (L.layer is None and L.where == "engine") else None,
                                message="; ".join(L.notes)) for L in lowered.layers}
    vals = [dict(r) for r in refs]
    status, msg = "ok", ""
    for i, L, job, o in jobs:
        row = rows[L.name]
        ref = refs[i]
        if not (o / RESULT_FILE).exists():
            row.bit_exact = False
            why = getattr(res, "returncode_error", "") or "simulation failed"
            status, msg = "error", f"layer {L.name}: no result ({why}; log {getattr(res, 'log_path', sim_dir)})"
            continue
        r = _read_result(o)
        row.cycles += int(r["cycles"])
        row.dram_bytes += L.dram_bytes()
        if r["status"] != "ok":
            row.bit_exact = False
            row.message = r["message"]
            if status == "ok":
                status, msg = r["status"] if r["status"] in ("timeout", "error") else "error", \
                    f"layer {L.name}: {r['message']}"
            continue
        got = L.finish(L.read(cfg, r["dram"]))
        exp = ref[L.output]
        bad = int(np.count_nonzero(got != exp))
        note = ""
        if check_golden:
            from sw.common.job import load_job
            jb = load_job(job)
            g = golden.run(cfg, jb.dram, jb.insn_addr, jb.insn_count)
            diff = int(np.count_nonzero(g.dram != r["dram"]))
            if diff:
                bad = max(bad, 1)
                note = f"RTL and golden DRAM differ in {diff} bytes"
        row.mismatches += bad
        row.bit_exact = (row.bit_exact is not False) and bad == 0
        if note:
            row.message = note
        if bad and status == "ok":
            status, msg = "mismatch", note or f"layer {L.name}: {bad} of {exp.size} elements differ from the graph"
        vals[i][L.output] = got
    outputs = {n: np.concatenate([v[n] for v in vals]) for n in graph.outputs}
    say(f"vta rtl: done, {sum(r.cycles for r in rows.values()):,} cycles ({time.monotonic() - t0:.1f} s)")
    return NetworkResult("vta", "rtl", [rows[L.name] for L in lowered.layers], outputs,
                         lowered.peak_macs_per_cycle, status, msg)
