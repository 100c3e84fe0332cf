"""Matplotlib figures (Agg backend): energy per level, energy vs dataflow, energy vs RF/SRAM size."""

from __future__ import annotations

from pathlib import Path

__all__ = ["plot_breakdown", "plot_dataflows", "plot_memory"]

_COLORS = {"RF": "#4c72b0", "array hops": "#dd8452", "SRAM": "#55a868", "DRAM": "#c44e52", "MAC": "#8172b3"}


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def plot_breakdown(results, path, title="Energy per memory level"):
    """Stacked bars (one per result) of energy per level, in pJ/MAC, with each level's share written in."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(results) + 3), 4.2))
    levels = []
    for r in results:
        levels += [n for n in r.energy if n not in levels]
    for i, r in enumerate(results):
        bottom = 0.0
        tot = float(r.total)
        for n in levels:
            v = float(r.level_total(n)) / r.macs if n in r.energy else 0.0
            ax.bar(i, v, bottom=bottom, color=_COLORS.get(n, None), label=n if i == 0 else None, width=0.6)
            if tot and v * r.macs / tot > 0.06:
                ax.text(i, bottom + v / 2, f"{n}\n{100 * v * r.macs / tot:.0f}%", ha="center", va="center", fontsize=7)
            bottom += v
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([f"{r.layer.name}\n{r.mapping.dataflow}" for r in results], fontsize=7)
    ax.set_ylabel("pJ / MAC")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    return _save(fig, path)


def plot_dataflows(per_pair, path, title="Energy vs dataflow (best blocking each)"):
    """Bars: energy of each unrolled-loop pair relative to the best, without and with replication;
    dots: utilisation of the lowest-energy variant."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(per_pair) + 2), 4.2))
    best = min(e["any"]["energy_pJ"] for e in per_pair)
    xs = range(len(per_pair))
    plain = [e["plain"]["energy_pJ"] / best if "plain" in e else 0 for e in per_pair]
    rep = [e["replicated"]["energy_pJ"] / best if "replicated" in e else 0 for e in per_pair]
    ax.bar([x - 0.2 for x in xs], plain, width=0.4, label="no replication", color="#4c72b0")
    ax.bar([x + 0.2 for x in xs], rep, width=0.4, label="with replication", color="#55a868")
    ax.set_ylim(min(v for v in plain + rep if v) * 0.97, max(plain + rep) * 1.02)
    ax.set_ylabel("energy / best")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([e["pair"] for e in per_pair], rotation=45, fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(list(xs), [e["any"]["utilisation"] for e in per_pair], "o", color="#c44e52", label="utilisation")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("utilisation (lowest-energy variant)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def plot_memory(rows, path, title="Energy vs RF and SRAM size"):
    """Left: pJ/MAC vs RF size, one line per SRAM size (hollow markers break the 4-16x rule).
    Right: per-level breakdown of the best SRAM size for each RF size."""
    plt = _plt()
    ok = [r for r in rows if r.get("energy_pJ") is not None]
    srams = sorted({r["sram_bytes"] for r in ok})
    rfs = sorted({r["rf_bytes"] for r in ok})
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for s in srams:
        pts = sorted((r["rf_bytes"], r["pJ_per_MAC"], r["rule_4_16x"]) for r in ok if r["sram_bytes"] == s)
        line, = a1.plot([p[0] for p in pts], [p[1] for p in pts], "-", label=f"SRAM {s // 1024} KB")
        a1.scatter([p[0] for p in pts], [p[1] for p in pts], facecolors=[line.get_color() if p[2] else "none" for p in pts],
                   edgecolors=line.get_color(), zorder=3)
    a1.set_xscale("log", base=2)
    a1.set_xticks(rfs)
    a1.set_xticklabels([str(r) for r in rfs])
    a1.set_xlabel("RF bytes per PE")
    a1.set_ylabel("pJ / MAC")
    a1.legend(fontsize=7)
    a1.set_title("filled: adjacent levels 4-16x apart", fontsize=8)
    levels = []
    for r in ok:
        levels += [n for n in r["energy_per_level_pJ"] if n not in levels]
    best = [min((r for r in ok if r["rf_bytes"] == rf), key=lambda r: r["energy_pJ"]) for rf in rfs]
    for i, r in enumerate(best):
        bottom = 0.0
        macs = r["energy_pJ"] / r["pJ_per_MAC"]
        for n in levels:
            v = r["energy_per_level_pJ"].get(n, 0.0) / macs
            a2.bar(i, v, bottom=bottom, color=_COLORS.get(n), label=n if i == 0 else None)
            bottom += v
    a2.set_xticks(range(len(best)))
    a2.set_xticklabels([f"{r['rf_bytes']} B\n{r['sram_bytes'] // 1024} KB" for r in best], fontsize=7)
    a2.set_ylabel("pJ / MAC")
    a2.set_title("per-level energy, best SRAM for each RF", fontsize=8)
    a2.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)
