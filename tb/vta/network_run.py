"""Run a compiled network (``accelgen compile`` output) layer by layer on the golden model or the RTL.

Every layer's output is checked bit-exactly against the numpy reference (``expected.npy``); on the RTL the
whole final DRAM image is also compared with the golden model's. All RTL layers run in one simulation (one
build per configuration, one simulator start) with a progress line per finished layer.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from sw.common.job import load_job, read_result, write_result
from sw.vta import golden
from sw.vta.compile import LAYER_FILE, MANIFEST_FILE, check_output
from sw.vta.config import VTAConfig

__all__ = ["run_network", "Progress"]


class Progress:
    """A one-line progress bar on a terminal (one line per update otherwise)."""

    def __init__(self, total, label="", stream=None):
        self.total, self.label, self.t0 = total, label, time.monotonic()
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()

    def update(self, done, text):
        width = 24
        fill = int(width * done / max(1, self.total))
        line = (f"{self.label}[{'#' * fill}{'.' * (width - fill)}] {done}/{self.total} {text} "
                f"({time.monotonic() - self.t0:.0f} s)")
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150) + ("\n" if done == self.total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _golden(job_dir, out_dir):
    r = golden.run_job(load_job(job_dir))
    write_result(out_dir, r.status, 0, r.counters, r.message, r.dram)
    return r


def run_network(net_dir, *, backend="rtl", layers=None, sample=0, latency=None, check_golden=True, show=True):
    """Run the jobs of a compiled network folder; returns one row (dict) per layer.

    Parameters
    ----------
    net_dir : path
        Folder written by :func:`sw.vta.compile.compile_network` (``network.json`` + one job per layer).
    backend : "rtl" or "golden"
    layers : list of str, optional
        Only these layer names.
    sample : int
        RTL only: sample the busy counters every ``sample`` cycles (``timeline.json`` per layer).
    check_golden : bool
        RTL only: also run the golden model and require the RTL's final DRAM to equal it byte for byte.
    """
    net_dir = Path(net_dir)
    manifest = json.loads((net_dir / MANIFEST_FILE).read_text())
    cfg = VTAConfig.from_dict(manifest["config"])
    recs = [r for r in manifest["layers"] if layers is None or r["name"] in layers]
    if layers is not None:
        missing = set(layers) - {r["name"] for r in recs}
        if missing:
            raise ValueError(f"no layer(s) {sorted(missing)} in {net_dir / MANIFEST_FILE}")
    rows = []
    prog = Progress(len(recs), f"{backend} {cfg.name} ") if show else None
    out_name = f"out-{backend}"
    if backend == "golden":
        for n, rec in enumerate(recs):
            job = net_dir / rec["job"]
            r = _golden(job, job / out_name)
            ok, msg = check_output(job, r.dram) if r.status == "ok" else (False, r.message)
            rows.append(_row(rec, job, cfg, r.status, 0, r.counters, ok, msg))
            if prog:
                prog.update(n + 1, f"{rec['name']} {'ok' if ok else 'MISMATCH'}")
        return rows

    from tb.vta.harness import run_jobs_rtl
    pairs = [(net_dir / r["job"], net_dir / r["job"] / out_name) for r in recs]

    def on_progress(line):
        if prog:
            prog.update(line["n"] + 1, f"{recs[line['n']]['name']}: {line['status']}, {line['cycles']:,} cycles")

    res = run_jobs_rtl(pairs, net_dir / f"sim-{backend}", cfg=cfg, sample=sample, latency=latency,
                       progress=on_progress)
    for rec, (job, out) in zip(recs, pairs):
        if not (out / "result.json").exists():
            rows.append(_row(rec, job, cfg, "error", 0, {}, False,
                             f"no result: {res.returncode_error or 'simulation failed'} (log {res.log_path})"))
            continue
        r = read_result(out)
        ok, msg = check_output(job, r["dram"]) if r["status"] == "ok" else (False, r["message"])
        if ok and check_golden:
            g = _golden(job, job / "out-golden")
            diff = np.flatnonzero(g.dram != r["dram"])
            if g.status != r["status"] or diff.size:
                ok, msg = False, (f"RTL and golden DRAM differ in {diff.size} bytes" if diff.size
                                  else f"RTL {r['status']} but golden {g.status}")
            else:
                msg += "; DRAM equals the golden model's"
        rows.append(_row(rec, job, cfg, r["status"], r["cycles"], r["counters"], ok, msg))
    return rows


def _row(rec, job, cfg, status, cycles, counters, ok, msg):
    layer = json.loads((job / LAYER_FILE).read_text())
    macs = rec["macs"]
    return {"name": rec["name"], "type": rec["type"], "job": str(job), "status": status, "match": ok,
            "message": msg, "macs": macs, "cycles": cycles,
            "utilisation": macs / (cfg.macs_per_cycle * cycles) if cycles else 0.0,
            "dram_bytes": layer["dram_bytes"]["total"], "naive_bytes": layer.get("naive_bytes"),
            "tiling": layer.get("tiling"), "counters": counters}
