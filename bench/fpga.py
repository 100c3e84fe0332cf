"""FPGA benchmark: place and route each engine's FPGA config on the ECP5-85F, then run the sweeps.

    python -m bench.fpga [--skip-sweeps] [--engines vta systolic] [--scheduler ADDRESS]
    make bench TARGET=fpga

Everything is cached (build/fpga, build/sweeps), so a rerun only redoes what changed. Prints a table and
writes build/bench/fpga.json; the sweeps write their own tables, JSON and Pareto plots under build/sweeps/.
"""

import argparse
import json
import time
from pathlib import Path

from sim import engines
from sim.runner import print_table

#: The config placed and routed per engine and its pnr options: configs that fit the ECP5-85F and route with
#: nextpnr's default router (docs/fpga.md says why the larger ones are not here).
PNR_CONFIGS = {"vta": ("fpga/configs/vta-4x4-ecp5.json", {}),
               "systolic": ("fpga/configs/systolic-8x8-w1-ecp5.json", {"dsp": False})}


def main(argv=None):
    from fpga.flow import engine_design, pnr
    from fpga.sweep import run_sweep
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", nargs="+", default=[e for e in PNR_CONFIGS if e in engines.names()])
    ap.add_argument("--skip-sweeps", action="store_true")
    ap.add_argument("--scheduler", help="Dask scheduler address for the sweeps")
    ap.add_argument("--out", default="build/bench/fpga.json")
    args = ap.parse_args(argv)
    rows = []
    for e in args.engines:
        mod = engines.get(e)
        path, options = PNR_CONFIGS.get(e, (mod.DEFAULT_CONFIG, {}))
        cfg = mod.load_config(path)
        t0 = time.monotonic()
        r = pnr(engine_design(e, cfg, harness=True), "ecp5", "85k", **options)
        rows.append({"engine": e, "config": cfg.name, "status": r["status"], "fmax_mhz": r.get("fmax_mhz"),
                     **{k: r.get("resources", {}).get(k) for k in ("luts", "ffs", "brams", "dsps")},
                     "lut_util": r.get("utilisation", {}).get("luts"), "bram_util": r.get("utilisation", {}).get("brams"),
                     "message": r.get("message", ""), "wall_s": round(time.monotonic() - t0, 1)})
    print_table(rows, ["engine", "config", "status", ("Fmax MHz", "fmax_mhz", ".1f"), ("LUTs", "luts", ",d"),
                       ("FFs", "ffs", ",d"), ("BRAMs", "brams", ",d"), ("DSPs", "dsps", ",d"),
                       ("LUT %", "lut_util", ".1%"), ("BRAM %", "bram_util", ".1%"), "message"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"results: {out}")
    status = 0
    if not args.skip_sweeps:
        for e in args.engines:
            space = Path("configs/sweeps") / f"{e}.json"
            if space.exists():
                status |= run_sweep(e, space, scheduler=args.scheduler)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
