"""CAP benchmark on the RTL: cycles of every op and precision against the BF-IMNA formulas, plus the
measurements the network estimator fits its GEMM/pool costs to; then the network estimates.

    python -m bench.cap [--config configs/cap/default.json] [--out build/bench/cap.json] [--quick]

Every case is also checked bit-exactly against numpy. Prints tables and writes JSON (records + summary).
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from sim.runner import print_table
from sw.cap import formulas
from sw.cap.config import CAPConfig
from tb.cap.cases import formula_cases, make_inputs
from tb.cap.harness import run_bench_rtl
from sw.data import HAWQ_V3_RESNET18


def fit_cases(cfg, bits, seed=4):
    """GEMM and pooling shapes spanning (M, groups, group size) for the estimator's exact cost fit."""
    rng = np.random.default_rng(seed)
    out = []
    for m in bits:
        for J in (2, 4, 8, 16, 32, 64):
            if J > cfg.rows:
                continue
            for G in sorted({cfg.rows // J, max(1, cfg.rows // J // 2)}):
                out.append({"name": f"fit_matmul_m{m}_G{G}_J{J}", "op": "matmul", "bits": m, "signed": False,
                            "window": None, "G": G, "J": J,
                            "inputs": make_inputs(rng, "matmul", m, False, (G, J, 1))})
        for op in ("maxpool", "avgpool"):
            for S in (2, 4, 8, 16, 32):
                for G in sorted({cfg.rows // (S // 2), max(1, cfg.rows // S)}):
                    out.append({"name": f"fit_{op}_m{m}_G{G}_J{S}", "op": op, "bits": m, "signed": False,
                                "window": S, "G": G, "J": S,
                                "inputs": make_inputs(rng, op, m, False, (G * S,))})
    return out


def _formula(c, segmented=False):
    f = c.get("f")
    if f is None:
        if c["op"] == "matmul":
            f = {"i": c["G"], "j": c["J"], "u": 1}
        else:
            f = {"S": c["J"], "K": c["G"]}
    if c["op"] in ("reduce", "matmul", "maxpool", "avgpool"):
        f = {**f, "segmented": segmented}
    return formulas.formula(c["op"], c["bits"], **f)


def _plot(fr, path):
    """RTL cycles (solid) and formula (dashed) against M, one colour per op."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for op in ("add", "mul", "relu", "reduce", "matmul", "maxpool", "avgpool"):
        rs = sorted((r for r in fr if r["op"] == op), key=lambda r: r["bits"])
        line, = ax.plot([r["bits"] for r in rs], [r["cycles"] for r in rs], "-o", ms=3, label=op)
        ax.plot([r["bits"] for r in rs], [r["formula"] for r in rs], "--", color=line.get_color())
    ax.set_xlabel("precision M (bits)")
    ax.set_ylabel("cycles per run (solid: RTL, dashed: BF-IMNA 2D formula)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def measure(cfg, cases, out):
    """Run ``cases`` on the RTL of ``cfg``; returns the records with the (segmented, if so) 2D formula."""
    cases_file = out.with_suffix(".cases.json")
    cases_file.write_text(json.dumps([{**c, "inputs": {k: np.asarray(v).tolist() for k, v in c["inputs"].items()}}
                                      for c in cases]))
    raw = out.with_suffix(".raw.json")
    res = run_bench_rtl(cfg, cases_file, raw, Path("build/tests") / f"cap-bench-{cfg.name}")
    if not res.passed or not raw.exists():
        raise RuntimeError(res.summary())
    records = json.loads(raw.read_text())
    for r in records:
        r["formula"] = _formula(r, cfg.segmentation)
        r["vs_formula"] = r["cycles"] / r["formula"]
    return records


TABLE = ["op", "bits", ("RTL cycles", "cycles", ",d"), ("formula", "formula", ",.0f"),
         ("RTL/formula", "vs_formula", ".3f"), ("C", "compares", ",d"), ("W", "writes", ",d"),
         ("R", "reads", ",d"), ("vertical", "vertical", ",d"), "ok"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/cap/default.json")
    ap.add_argument("--segmented-config", default="configs/cap/segmented.json",
                    help="also measure the formula cases on this segmented config ('' to skip)")
    ap.add_argument("--out", default="build/bench/cap.json")
    ap.add_argument("--quick", action="store_true", help="precisions 2, 4, 8 only")
    args = ap.parse_args(argv)
    cfg = CAPConfig.load(args.config)
    bits = (2, 4, 8) if args.quick else tuple(range(1, 17))
    cases = formula_cases(cfg, bits=bits) + fit_cases(cfg, (2, 4, 8, 12, 16) if not args.quick else (2, 4, 8))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    try:
        records = measure(cfg, cases, out)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    wall = time.monotonic() - t0
    fr = [r for r in records if r["name"].startswith("f_")]
    print(f"CAP {cfg.name}: {len(records)} cases on the RTL in {wall:.0f} s, bit-exact: "
          f"{sum(r['ok'] for r in records)}/{len(records)}")
    print_table(fr, TABLE)
    exact = {op: all(r["cycles"] == r["formula"] for r in fr if r["op"] == op) for op in ("add", "mul", "relu")}
    print("RTL cycles equal the formula: " + ", ".join(f"{op} {'yes' if v else 'NO'}" for op, v in exact.items()))
    seg_records = []
    if args.segmented_config:
        scfg = CAPConfig.load(args.segmented_config)
        try:
            seg_records = measure(scfg, formula_cases(scfg, bits=(1, 2, 4, 8, 16)), out.with_name("cap_segmented.json"))
        except RuntimeError as e:
            print(e, file=sys.stderr)
            return 1
        print(f"\nSegmented CAP {scfg.name}: trees against the segmented 2D formulas "
              f"(bit-exact {sum(r['ok'] for r in seg_records)}/{len(seg_records)})")
        print_table([r for r in seg_records if r["op"] in ("reduce", "matmul", "maxpool", "avgpool")], TABLE)
    summary = {"config": cfg.to_dict(), "wall_s": round(time.monotonic() - t0, 1), "exact": exact,
               "all_bit_exact": all(r["ok"] for r in records + seg_records)}
    out.write_text(json.dumps({"summary": summary, "records": records, "segmented_records": seg_records},
                              indent=1) + "\n")
    print(f"wrote {out}, {_plot(fr, out.with_name('cap_cycles.png'))}")
    est = subprocess.run([sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main(sys.argv[1:]))",
                          "estimate", "cap", "--costs", "rtl", "--bench", str(out),
                          "--hawq", str(HAWQ_V3_RESNET18), *(["--bits", "2,4,8"] if args.quick else []),
                          "--json", str(out.with_name("cap_estimate.json"))])
    return 0 if summary["all_bit_exact"] and all(exact.values()) and est.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
