"""Design-space sweeps on Dask: build, benchmark and synthesise every point of a space; Pareto front of area
against cycles.

A space file (``configs/sweeps/<engine>.json``)::

    {
      "engine": "vta",
      "base": "configs/vta/default.json",            # a config file or an object; points override its keys
      "axes": {                                       # the grid: the cross product of the axes
        "LOG_BLOCK": [2, 3, 4],
        "BUS_WIDTH": [64, 128],
        "buffers": [{"LOG_INP_BUFF_SIZE": 11, ...}, {...}]   # an object value sets several keys together
      },
      "points": [{...}],                              # optional extra points (overrides of base)
      "workload": {"m": 16, "k": 256, "n": 256},      # parameters of the engine's workload (fpga/workloads.py)
      "synth": {"family": "ecp5", "device": "85k", "dsp": false},
      "workers": 2
    }

Each point is one task: write the point's config, run the workload on its RTL (Verilator build cached per
config), synthesise it (cached per config and generator source), and return one row. Rows are cached in
``build/sweeps/cache/`` by a digest of (engine, config, workload, synthesis options, generator sources,
workload sources), so a rerun submits only the points whose inputs changed. Results: ``sweep.json``,
``sweep.txt`` (the table) and ``pareto.png`` in the output folder.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
import traceback
from pathlib import Path

from sw.common.contract import check_output_path, staged_output

__all__ = ["SweepError", "load_space", "expand", "evaluate_point", "pareto", "run_sweep", "plot"]

CACHE = Path("build/sweeps/cache")
_FPGA_DIR = Path(__file__).resolve().parent


class SweepError(ValueError):
    """A bad space file or a failed sweep; the message says which."""


def load_space(path) -> dict:
    """Read and check a space file; raises :class:`SweepError` naming the bad key."""
    path = Path(path)
    try:
        space = json.loads(path.read_text())
    except OSError as e:
        raise SweepError(f"cannot read space {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise SweepError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(space, dict):
        raise SweepError(f"{path}: a space must be a JSON object")
    allowed = {"engine", "base", "axes", "points", "workload", "synth", "workers", "description"}
    unknown = set(space) - allowed
    if unknown:
        raise SweepError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}")
    axes = space.get("axes", {})
    if not isinstance(axes, dict) or not all(isinstance(v, list) and v for v in axes.values()):
        raise SweepError(f"{path}: 'axes' must map each axis name to a non-empty list of values")
    if not isinstance(space.get("points", []), list):
        raise SweepError(f"{path}: 'points' must be a list of objects")
    synth = space.setdefault("synth", {})
    if set(synth) - {"family", "device", "dsp"}:
        raise SweepError(f"{path}: 'synth' takes family, device and dsp, not {sorted(set(synth))}")
    space.setdefault("workload", {})
    space["name"] = path.stem
    return space


def _base(space, engine) -> dict:
    from sim import engines
    base = space.get("base", engines.get(engine).DEFAULT_CONFIG)
    if isinstance(base, str):
        try:
            base = json.loads(Path(base).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise SweepError(f"base config {base}: {e}") from None
    if not isinstance(base, dict):
        raise SweepError("'base' must be a config file path or an object")
    return base


def expand(space: dict, engine: str) -> list[dict]:
    """The config dicts of every point (base overridden by each grid combination, then extra points),
    without duplicates, in a stable order."""
    base = _base(space, engine)
    axes = space.get("axes", {})
    overrides = []
    for combo in itertools.product(*axes.values()):
        o = {}
        for value in combo:
            if isinstance(value, dict):
                o.update(value)
        for name, value in zip(axes, combo):
            if not isinstance(value, dict):
                o[name] = value
        overrides.append(o)
    overrides += space.get("points", [])
    points, seen = [], set()
    for o in overrides:
        cfg = {**base, **o}
        key = json.dumps(cfg, sort_keys=True)
        if key not in seen:
            seen.add(key)
            points.append(cfg)
    return points


def _digest(engine, cfg_dict, space) -> str:
    """Digest of a point: config, workload and synthesis options, the engine's generator (``hw/common``,
    ``hw/<engine>``), config/ISA/runtime/job modules, testbench harness and the workloads; not the sweep's
    own report code, not other engines' sources."""
    from fpga.flow import FLOW_VERSION, _engine_sources, hw_sources, scoped_digest
    from sim.verilog import REPO_ROOT
    sw = REPO_ROOT / "sw"
    files = [*_engine_sources(engine), *hw_sources(engine), _FPGA_DIR / "workloads.py",
             *sorted((sw / engine).glob("runtime*.py")), *sorted((sw / engine).glob("job*.py")),
             *sorted((sw / "common").glob("*.py")), *sorted((REPO_ROOT / "tb" / engine).glob("harness.py"))]
    return scoped_digest({"engine": engine, "config": cfg_dict, "workload": space["workload"],
                          "synth": space["synth"], "flow": FLOW_VERSION}, files)


def evaluate_point(engine: str, cfg_dict: dict, space: dict, root: str) -> dict:
    """Build, benchmark and synthesise one point (runs on a Dask worker; the working directory must be the
    project root). Returns a row; failures are returned as a row with ``status`` "error" and the reason."""
    import os
    os.chdir(root)
    if root not in sys.path:
        sys.path.insert(0, root)
    from sim import engines
    from fpga.flow import engine_design, synth
    from fpga.workloads import benchmark
    mod = engines.get(engine)
    digest = _digest(engine, cfg_dict, space)
    work = Path("build/sweeps/points") / f"{engine}-{digest}"
    work.mkdir(parents=True, exist_ok=True)
    cfg_path = work / "config.json"
    cfg_path.write_text(json.dumps(cfg_dict, indent=1) + "\n")
    row = {"engine": engine, "digest": digest, "config": cfg_dict}
    t0 = time.monotonic()
    try:
        cfg = mod.load_config(cfg_path)
        row["name"] = cfg.name
        bench = benchmark(engine, cfg, work / "bench", space["workload"])
        row.update(bench)
        row["bench_s"] = round(time.monotonic() - t0, 1)
        t1 = time.monotonic()
        s = space["synth"]
        rep = synth(engine_design(engine, cfg), s.get("family", "ecp5"), s.get("device"),
                    dsp=s.get("dsp"), log=lambda *a, **k: None)
        row.update({r: rep["resources"][r] for r in ("luts", "ffs", "brams", "dsps")},
                   family=rep["family"], part=rep["part"], fits=rep["fits"], fit_message=rep["message"],
                   utilisation=rep["utilisation"], synth_report=str(Path(rep["folder"]) / "report.json"),
                   synth_s=round(time.monotonic() - t1, 1), status="ok")
    except Exception as e:      # one bad point must not stop the sweep: record why it failed
        row.update(status="error", error=f"{type(e).__name__}: {e}",
                   traceback=traceback.format_exc(limit=4))
    row["wall_s"] = round(time.monotonic() - t0, 1)
    return row


def pareto(rows, x="luts", y="cycles") -> list[dict]:
    """Rows not dominated in (``x``, ``y``), both minimised, sorted by ``x``; sets ``row["pareto"]``."""
    ok = [r for r in rows if r.get("status") == "ok"]
    front = []
    for r in ok:
        r["pareto"] = not any(o is not r and o[x] <= r[x] and o[y] <= r[y] and (o[x] < r[x] or o[y] < r[y])
                              for o in ok)
        if r["pareto"]:
            front.append(r)
    return sorted(front, key=lambda r: r[x])


def plot(rows, path, title, x="luts", y="cycles"):
    """Pareto PNG: every point (area against cycles, log-log), the front joined, points that do not fit the
    device crossed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = [r for r in rows if r.get("status") == "ok"]
    front = pareto(rows, x, y)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    brams = [r["brams"] for r in ok]
    sc = ax.scatter([r[x] for r in ok if r["fits"]], [r[y] for r in ok if r["fits"]],
                    c=[r["brams"] for r in ok if r["fits"]], cmap="viridis", s=40, zorder=3,
                    vmin=min(brams, default=0), vmax=max(brams, default=1), label="fits the device")
    bad = [r for r in ok if not r["fits"]]
    if bad:
        ax.scatter([r[x] for r in bad], [r[y] for r in bad], marker="x", c="red", s=50, zorder=3,
                   label="does not fit the device")
    ax.plot([r[x] for r in front], [r[y] for r in front], "k--", lw=1, zorder=2, label="Pareto front")
    for r in front:
        ax.annotate(r.get("name", ""), (r[x], r[y]), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"{'LUTs' if x == 'luts' else x} ({ok[0]['family'] if ok else ''} synthesis)")
    ax.set_ylabel(f"{y} ({ok[0].get('workload', '') if ok else ''}, RTL)")
    ax.set_title(title)
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=8)
    fig.colorbar(sc, ax=ax, label="block RAMs")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


_COLUMNS = ["name", ("status", "status"), ("cycles", "cycles", ",d"), ("MAC/cyc", "macs_per_cycle", ".1f"),
            ("peak", "peak_macs_per_cycle", "d"), ("LUTs", "luts", ",d"), ("FFs", "ffs", ",d"),
            ("BRAMs", "brams", ",d"), ("DSPs", "dsps", ",d"), ("fits", "fits"), ("pareto", "pareto"),
            ("wall s", "wall_s", ".0f")]


def run_sweep(engine: str, space_path, *, scheduler=None, workers=None, out=None, force=False, limit=None,
              log=print) -> int:
    """``accelgen sweep``: evaluate every point (cached ones from the cache), write table, JSON and PNG.

    Returns the exit status: 0 when every point ran, 1 when some failed (their rows say why).
    """
    from sim import engines
    from sim.runner import format_table
    if engine not in engines.names():
        raise SweepError(f"unknown engine {engine!r}; engines: {', '.join(engines.names())}")
    space = load_space(space_path)
    if space.get("engine", engine) != engine:
        raise SweepError(f"{space_path} is a space for {space['engine']!r}, not {engine!r}")
    points = expand(space, engine)[:limit] if limit else expand(space, engine)
    out = Path(out or Path("build/sweeps") / f"{engine}-{space['name']}")
    check_output_path(out)
    CACHE.mkdir(parents=True, exist_ok=True)
    root = str(Path.cwd().resolve())

    rows, todo = [None] * len(points), []
    for i, cfg in enumerate(points):
        path = CACHE / f"{engine}-{_digest(engine, cfg, space)}.json"
        if path.exists() and not force:
            rows[i] = {**json.loads(path.read_text()), "cached": True}
        else:
            todo.append(i)
    log(f"{engine} sweep {space_path}: {len(points)} points, {len(points) - len(todo)} cached, "
        f"{len(todo)} to run", flush=True)
    t0 = time.monotonic()
    if todo:
        from dask.distributed import as_completed
        from sim.cluster import dask_client
        n_workers = workers or space.get("workers", 2)
        with dask_client(scheduler, n_workers, log=lambda s: log(s, flush=True)) as client:
            futures = {client.submit(evaluate_point, engine, points[i], space, root, pure=False,
                                     key=f"{engine}-point-{i}-{time.time_ns()}"): i for i in todo}
            for done, fut in enumerate(as_completed(futures), 1):
                i = futures[fut]
                row = fut.result()
                rows[i] = row
                if row["status"] == "ok":
                    (CACHE / f"{engine}-{row['digest']}.json").write_text(json.dumps(row, indent=1))
                msg = (f"{row.get('cycles', 0):,} cycles, {row.get('luts', 0):,} LUTs" if row["status"] == "ok"
                       else row["error"])
                log(f"  [{done}/{len(todo)}] {row.get('name', i)}: {msg} ({row['wall_s']:.0f} s)", flush=True)
    front = pareto(rows)
    table = format_table(rows, _COLUMNS)
    result = {"engine": engine, "space": str(space_path), "workload": space["workload"], "synth": space["synth"],
              "points": rows, "pareto": [r["name"] for r in front], "wall_s": round(time.monotonic() - t0, 1)}
    with staged_output(out) as tmp:        # the previous sweep's files stay until this one is complete
        (tmp / "sweep.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
        (tmp / "sweep.txt").write_text(table + "\n")
        if any(r.get("status") == "ok" for r in rows):
            plot(rows, tmp / "pareto.png", f"{engine}: {space['name']} ({len(points)} points)")
    print(table)
    failed = [r for r in rows if r.get("status") != "ok"]
    for r in failed:
        print(f"FAILED {r.get('name', r['config'])}: {r['error']}", file=sys.stderr)
    log(f"results: {out / 'sweep.json'}, {out / 'sweep.txt'}, {out / 'pareto.png'} "
        f"({len(front)} points on the Pareto front)")
    return 1 if failed else 0
