"""Benchmark of the xpulpnn core on the RTL (``make bench TARGET=xpulpnn``).

The 4x2 MatMul inner loop of the seed slides in five forms (plain RV32IM, Xpulp dot products + post-increment
loads + hardware loop at 8 bit, MAC&LOAD at 8, 4 and 2 bit) and complete int8 matrix multiplies (MAC&LOAD and
Xpulp) checked against numpy. Prints MAC/cycle (steady state: from the cycles of a full and a half-length
loop; whole loop: including the NN-RF fill, ``lp.setup`` and the ``mcycle`` reads) and writes
``build/bench/xpulpnn.json``.

    python -m bench.xpulpnn [--config configs/xpulpnn/default.json] [--iters 64] [--mm 64]
"""

import argparse
import json
import time
from pathlib import Path

from sim.runner import print_table
from sw.xpulpnn.config import XpulpNNConfig
from sw.xpulpnn.kernels import INNER, build_inner, build_matmul, check_inner, check_matmul, dump_size
from sw.xpulpnn.program import load_elf
from tb.xpulpnn.harness import run_rtl

#: MAC/cycle of the seed slides for the inner loop (per core), by form.
SEED = {"xpulp-b": 2.29, "mls-b": 3.56, "mls-n": 7.1, "mls-c": 14.2}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/xpulpnn/default.json")
    ap.add_argument("--iters", type=int, default=64, help="inner-loop iterations (even)")
    ap.add_argument("--mm", type=int, default=64, help="matrix multiply size M = N = K (multiple of 4)")
    ap.add_argument("--out", default="build/bench/xpulpnn.json")
    args = ap.parse_args(argv)
    cfg = XpulpNNConfig.load(args.config)
    t0 = time.monotonic()
    kernels = [build_inner(f, iters=args.iters) for f in INNER]
    mms = {form: build_matmul(args.mm, args.mm, args.mm, form=form) for form in ("xpulp", "mls")}
    progs = [load_elf(k.elf, cfg) for k in kernels] + [load_elf(elf, cfg) for elf, _, _ in mms.values()]
    print(f"xpulpnn {cfg.name}: {len(progs)} programs on the RTL ...", flush=True)
    runs = run_rtl(cfg, progs, "build/bench/xpulpnn-sim", dump_bytes=max(dump_size(p) for p in progs),
                   max_cycles=5_000_000)
    rows = []
    for k, p, r in zip(kernels, progs, runs):
        res = check_inner(k, p, r.ram) if r.status == "pass" else {"ok": False}
        rows.append({"kernel": f"4x2 inner loop {k.form}", "bits": k.bits, "macs": k.macs,
                     "cycles": res.get("cycles"), "cyc/iter": res.get("cycles_per_iter"),
                     "insn/iter": INNER[k.form][3], "mac/cyc": res.get("mac_per_cycle_steady"),
                     "mac/cyc whole": res.get("mac_per_cycle"), "seed slides": SEED.get(k.form, ""),
                     "vs numpy": "ok" if res["ok"] else f"WRONG ({r.status})"})
    for (form, (_, w, a)), p, r in zip(mms.items(), progs[len(kernels):], runs[len(kernels):]):
        res = check_matmul(p, r.ram, w, a) if r.status == "pass" else {"ok": False}
        rows.append({"kernel": f"matmul {args.mm}x{args.mm}x{args.mm} {form}", "bits": 8, "macs": res.get("macs"),
                     "cycles": res.get("cycles"), "mac/cyc whole": res.get("mac_per_cycle"),
                     "vs numpy": "ok" if res["ok"] else f"WRONG ({r.status})"})
    print_table(rows, ["kernel", "bits", ("MACs", "macs", ",d"), ("cycles", "cycles", ",d"),
                       ("insn/iter", "insn/iter"), ("cyc/iter", "cyc/iter", ".0f"), ("MAC/cycle", "mac/cyc", ".2f"),
                       ("MAC/cycle whole", "mac/cyc whole", ".2f"), ("seed slides", "seed slides"),
                       ("vs numpy", "vs numpy")])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"config": cfg.to_dict(), "rows": rows, "wall_s": round(time.monotonic() - t0, 1)},
                              indent=1) + "\n")
    print(f"wrote {out} ({time.monotonic() - t0:.1f} s)")
    return 0 if all(r["vs numpy"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
