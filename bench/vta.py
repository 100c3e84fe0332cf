"""VTA micro-benchmarks on the RTL: GEMM/ALU initiation interval, load/store bandwidth, simulation speed.

    python -m bench.vta [--configs configs/vta/default.json ...] [--out build/bench/vta.json]

Every figure is measured in cycles on the RTL (the VCR busy counters of the one instruction under test);
every job's final DRAM is also compared with the golden model. Prints a table and writes JSON.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sim.runner import print_table
from sw.vta.job import load_job, read_result
from sw.vta import golden
from sw.vta.config import AluOp, MemId, VTAConfig
from sw.vta.isa import Uop
from sw.vta.runtime import Kernel, Program
from tb.vta.harness import run_job_rtl

DEFAULT_CONFIGS = ["configs/vta/default.json", "configs/vta/default_bus128.json",
                   "configs/vta/default_bus256.json", "configs/vta/default_bus512.json"]


def _loop_kernel(cfg, n_out, n_in, *, alu_src_offset=None):
    """16 uops x n_in x n_out iterations over distinct indices (GEMM, or ALU when alu_src_offset is set)."""
    uops = [Uop(dst=k, src=k if alu_src_offset is None else alu_src_offset + k, wgt=k % cfg.wgt_depth)
            for k in range(16)]
    return Kernel(uops, iter_out=n_out, iter_in=n_in, dst_factor_in=16, src_factor_in=16)


def jobs(cfg):
    """(name, what is measured, builder) for one config. Builders return (Program, n, unit, counter)."""
    span = min(cfg.acc_depth, cfg.inp_depth) // 2 // 16       # distinct 16-uop blocks that fit
    n_in = min(32, span)
    n_out = 16384 // (16 * n_in)

    def gemm_ii():
        p = Program(cfg)
        p.gemm(_loop_kernel(cfg, n_out, n_in))
        p.finish()
        return p, 16 * n_in * n_out, "gemm_uops", "gemm_busy"

    def alu(use_vector):
        def build():
            p = Program(cfg)
            k = _loop_kernel(cfg, n_out, n_in, alu_src_offset=(cfg.acc_depth // 2) if use_vector else 0)
            p.alu(k, AluOp.ADD, imm=None if use_vector else 3)
            p.finish()
            return p, 16 * n_in * n_out, "alu_uops", "alu_busy"
        return build

    def load(mem_id, n_elems):
        def build():
            p = Program(cfg)
            buf = p.alloc(mem_id, n_elems)
            p.load(mem_id, 0, buf, 0, 1, n_elems, n_elems)
            p.finish()
            counter = "compute_load_busy" if mem_id in (MemId.ACC, MemId.UOP) else "load_busy"
            return p, n_elems * cfg.elem_bytes(mem_id), "bytes", counter
        return build

    def store(n_elems):
        def build():
            p = Program(cfg)
            buf = p.alloc(MemId.OUT, n_elems)
            p.dep_push("compute", "store")
            p.dep_pop("compute", "store")
            p.store(0, buf, 0, 1, n_elems, n_elems)
            p.dep_push("store", "compute")
            p.dep_pop("store", "compute")
            p.finish()
            return p, n_elems * cfg.elem_bytes(MemId.OUT), "bytes", "store_busy"
        return build

    def long_gemm():
        n_out_long = -(-(1 << 20) // (16 * n_in))   # at least 2^20 iterations, about a million cycles
        p = Program(cfg)
        p.gemm(_loop_kernel(cfg, n_out_long, n_in))
        p.finish()
        return p, 16 * n_in * n_out_long, "gemm_uops", "gemm_busy"

    return [
        ("gemm_ii", "GEMM, 16384 uop iterations", gemm_ii),
        ("alu_imm_ii", "ALU ADD immediate, 16384 iterations", alu(False)),
        ("alu_vec_ii", "ALU ADD vector operand, 16384 iterations", alu(True)),
        ("load_inp", "LOAD INP", load(MemId.INP, min(1024, cfg.inp_depth))),
        ("load_wgt", "LOAD WGT", load(MemId.WGT, min(256, cfg.wgt_depth))),
        ("load_acc", "LOAD ACC", load(MemId.ACC, min(512, cfg.acc_depth))),
        ("store_out", "STORE OUT", store(min(1024, cfg.acc_depth))),
        ("sim_speed", "GEMM of 1M+ iterations (simulation speed)", long_gemm),
    ]


def run_config(path, work):
    cfg = VTAConfig.load(path)
    rows = []
    for name, what, builder in jobs(cfg):
        p, amount, unit, counter = builder()
        job_dir = work / cfg.name / name
        p.write_job(job_dir, cycle_limit=20_000_000)
        t0 = time.monotonic()
        run = run_job_rtl(job_dir, job_dir / "out-rtl", cfg=cfg)
        wall = time.monotonic() - t0
        r = read_result(job_dir / "out-rtl")
        if r["status"] != "ok":
            raise SystemExit(f"{cfg.name} {name}: RTL status {r['status']}: {r['message']} (log {run.log_path})")
        g = golden.run_job(load_job(job_dir))
        if g.status != "ok" or not np.array_equal(g.dram, r["dram"]):
            raise SystemExit(f"{cfg.name} {name}: RTL and golden model disagree")
        busy = r["counters"][counter]
        row = {"config": cfg.name, "bench": name, "what": what, "busy_cycles": busy, "total_cycles": r["cycles"],
               "wall_s": round(wall, 2)}
        if unit == "bytes":
            row.update(bytes=amount, bytes_per_cycle=round(amount / busy, 2),
                       bus_utilisation=round(amount / busy / cfg.bus_bytes, 3))
        else:
            row.update(iterations=amount, iterations_per_cycle=round(amount / busy, 4),
                       overhead_cycles=busy - amount)
            assert r["counters"][unit] == amount, (name, r["counters"][unit], amount)
        if name == "sim_speed":
            row["sim_cycles_per_s"] = round(r["cycles"] / wall)
        rows.append(row)
        print(f"  {cfg.name} {name}: {busy:,} busy cycles", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    ap.add_argument("--out", default="build/bench/vta.json")
    args = ap.parse_args(argv)
    work = Path("build/bench/vta-jobs")
    rows = []
    for path in args.configs:
        print(f"{path}: building (cached per config) and running {len(jobs(VTAConfig.load(path)))} jobs", flush=True)
        rows += run_config(path, work)
    print_table(rows, ["config", "bench", ("busy cycles", "busy_cycles", ",d"), ("iters", "iterations", ",d"),
                       ("iter/cycle", "iterations_per_cycle", ".4f"), ("overhead", "overhead_cycles", ",d"),
                       ("bytes", "bytes", ",d"), ("B/cycle", "bytes_per_cycle", ".2f"),
                       ("bus util", "bus_utilisation", ".3f"), ("sim cycles/s", "sim_cycles_per_s", ",d")])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
