"""Where the cycles go: utilisation timelines and roofline charts (matplotlib PNGs).

* :func:`timeline_png` reads a ``timeline.json`` written by the RTL run (busy counters of the load module,
  GEMM, ALU and store sampled every N cycles by ``tb/vta/run_jobs.py``) and draws each unit's busy fraction
  per sample interval over time.
* :func:`roofline_png` places layers (or jobs) at (ops per DRAM byte, ops per cycle), with the
  configuration's compute roof (2 x MAC/cycle) and bandwidth roof (bus bytes per cycle).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["timeline_png", "roofline_png", "timeline_fractions", "UNITS"]

#: Timeline rows: (label, counter in timeline.json).
UNITS = (("load (inp/wgt)", "load_busy"), ("GEMM", "gemm_busy"), ("ALU", "alu_busy"), ("store", "store_busy"),
         ("compute LOAD uop/acc", "compute_load_busy"))


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def timeline_fractions(timeline: dict):
    """(cycle at each interval end, {counter: busy fraction per interval}) from a ``timeline.json`` dict."""
    names = timeline["counters"]
    rows = [r for r in timeline["samples"] if r[0] > 0]
    rows.append(timeline["final"])
    a = np.array(rows, dtype=np.float64)
    a = a[np.concatenate([[True], np.diff(a[:, 0]) > 0])]     # drop samples taken after FINISH
    a = np.vstack([np.zeros((1, a.shape[1])), a])
    dc = np.diff(a[:, 0])
    fr = {name: np.clip(np.diff(a[:, i]) / dc, 0, 1) for i, name in enumerate(names) if i}
    return a[1:, 0], fr


def timeline_png(timeline_json, png, title=""):
    """Draw the utilisation timeline of one RTL run; returns the average busy fraction per unit."""
    t = json.loads(Path(timeline_json).read_text())
    x, fr = timeline_fractions(t)
    plt = _plt()
    fig, axes = plt.subplots(len(UNITS), 1, figsize=(10, 1.1 * len(UNITS) + 0.8), sharex=True)
    avg = {}
    cycles = t["final"][0]
    for ax, (label, key) in zip(axes, UNITS):
        f = fr[key]
        ax.fill_between(x, f, step="pre", alpha=0.6)
        ax.set_ylim(0, 1.05)
        avg[key] = t["final"][t["counters"].index(key)] / cycles if cycles else 0.0
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.text(1.0, 0.5, f" {100 * avg[key]:.0f}%", transform=ax.transAxes, va="center", fontsize=8)
    axes[-1].set_xlabel(f"cycle (busy fraction per {t['period']}-cycle sample; {cycles:,} cycles)")
    fig.suptitle(title or "VTA utilisation timeline", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return avg


def roofline_png(points, cfg, png, title=""):
    """Roofline of ``points`` (dicts with ``name``, ``macs``, ``dram_bytes``, ``cycles``) for config ``cfg``.

    Returns the points with their ``intensity`` (ops/byte) and ``perf`` (ops/cycle) added; 1 MAC = 2 ops.
    """
    peak = 2.0 * cfg.macs_per_cycle
    bw = float(cfg.bus_bytes)
    pts = []
    for p in points:
        if p.get("macs") and p.get("cycles") and p.get("dram_bytes"):
            pts.append(dict(p, intensity=2.0 * p["macs"] / p["dram_bytes"], perf=2.0 * p["macs"] / p["cycles"]))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    xs = np.logspace(-1, 4, 200)
    ax.loglog(xs, np.minimum(peak, bw * xs), "k-", lw=1.5,
              label=f"roof: {peak:.0f} ops/cycle, {bw:.0f} B/cycle (ridge {peak / bw:.0f} ops/B)")
    for p in pts:
        ax.loglog(p["intensity"], p["perf"], "o", ms=5)
        ax.annotate(p["name"], (p["intensity"], p["perf"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("operational intensity (ops per DRAM byte)")
    ax.set_ylabel("performance (ops per cycle)")
    ax.set_title(title or f"VTA roofline ({cfg.name})", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return pts
