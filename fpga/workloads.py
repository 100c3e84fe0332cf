"""Benchmark workloads of the design-space sweeps: one fixed problem per engine, run on the RTL of each point.

The sweep calls ``benchmark(engine, cfg, work_dir, params)``. An engine plugin may provide its own
``sweep_benchmark(cfg, work_dir, **params)`` returning at least ``{"cycles": int}``; otherwise the
function registered here for the engine is used. Every workload checks the RTL's output against numpy
and raises :class:`WorkloadError` on a mismatch, so a point's cycle count is only reported for a
correct run.

VTA: a tiled int8 matrix multiply ``Y = clip((X . W^T) >> shift, -128, 127)`` with ``X`` of shape
(M, K) and ``W`` of shape (N, K), built with :mod:`sw.vta.runtime`. Tile sizes are chosen per config to fit
the inp/wgt/acc scratchpads and to load the fewest DRAM bytes (tiling-parameter search over divisors),
so scratchpad size, block size and bus width all show in the cycles.

Systolic array: ``C = A @ B`` with int8 ``A`` (M, K) and ``B`` (K, N) as a GEMM job (:mod:`sw.systolic.job`);
the engine's own scheduler folds it onto the R x C array.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

__all__ = ["WorkloadError", "benchmark", "vta_gemm_tiling", "WORKLOADS"]


class WorkloadError(RuntimeError):
    """The workload cannot run on this config, or the RTL computed a wrong result."""


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def vta_gemm_tiling(cfg, m: int, k: int, n: int) -> dict:
    """Tile counts for the VTA GEMM on ``cfg``: ``{"tm", "tn", "tk", "dram_bytes"}`` in elements.

    ``tm`` rows of BATCH, ``tn`` output blocks and ``tk`` input blocks per tile. Raises
    :class:`WorkloadError` when the problem does not divide into the config's blocks or no tile fits.
    """
    from sw.vta.config import MemId
    if m % cfg.batch or k % cfg.block_in or n % cfg.block_out:
        raise WorkloadError(f"GEMM {m}x{k}x{n} does not divide into BATCH={cfg.batch}, "
                            f"BLOCK_IN={cfg.block_in}, BLOCK_OUT={cfg.block_out}")
    nm, nk, nn = m // cfg.batch, k // cfg.block_in, n // cfg.block_out
    ib, wb, ob = cfg.elem_bytes(MemId.INP), cfg.elem_bytes(MemId.WGT), cfg.elem_bytes(MemId.OUT)
    best = None
    for tm, tn, tk in itertools.product(_divisors(nm), _divisors(nn), _divisors(nk)):
        if tm * tk > cfg.inp_depth or tn * tk > cfg.wgt_depth or tm * tn > cfg.acc_depth:
            continue
        if tk > cfg.uop_depth - 2 or tm * tn >= 1 << 14 or max(tm, tn) >= 1 << 14:
            continue
        loads = (nm // tm) * (nn // tn) * (nk // tk)
        dram = loads * (tm * tk * ib + tn * tk * wb) + nm * nn * ob
        key = (dram, loads)
        if best is None or key < best[0]:
            best = (key, {"tm": tm, "tn": tn, "tk": tk, "dram_bytes": dram, "tiles": loads})
    if best is None:
        raise WorkloadError(f"no GEMM tile fits the scratchpads of {cfg.name}")
    return best[1]


def _vta_gemm_program(cfg, x, w, shift, tiling):
    from sw.vta.config import AluOp, MemId
    from sw.vta.isa import Uop
    from sw.vta.runtime import Kernel, Program
    nm, nk = x.shape[0], x.shape[1]
    nn = w.shape[0]
    tm, tn, tk = tiling["tm"], tiling["tn"], tiling["tk"]
    p = Program(cfg)
    xb = p.alloc(MemId.INP, x.reshape(nm * nk, cfg.batch, cfg.block_in))
    wb = p.alloc(MemId.WGT, w.reshape(nn * nk, cfg.block_out, cfg.block_in))
    yb = p.alloc(MemId.OUT, nm * nn)
    # acc[m*tn + o] += inp[m*tk + i] . wgt[o*tk + i]: uop i, outer loop over m, inner over o.
    gemm = Kernel([Uop(dst=0, src=i, wgt=i) for i in range(tk)], iter_out=tm, iter_in=tn,
                  dst_factor_out=tn, dst_factor_in=1, src_factor_out=tk, wgt_factor_in=tk)
    reset = Kernel([Uop(dst=0, src=0, wgt=0)], iter_out=tm, iter_in=tn, dst_factor_out=tn, dst_factor_in=1)
    every = Kernel([Uop(dst=0, src=0)], iter_out=tm * tn, dst_factor_out=1, src_factor_out=1)
    tiles = [(mi, ni) for mi in range(0, nm, tm) for ni in range(0, nn, tn)]
    k_steps = list(range(0, nk, tk))
    first_load = True
    for t, (mi, ni) in enumerate(tiles):
        for s, ki in enumerate(k_steps):
            if not first_load:
                p.dep_pop("compute", "load")          # compute has finished with the previous tile
            first_load = False
            p.load(MemId.INP, 0, xb, mi * nk + ki, tm, tk, nk)
            p.load(MemId.WGT, 0, wb, ni * nk + ki, tn, tk, nk)
            p.dep_push("load", "compute")
            p.dep_pop("load", "compute")
            if s == 0:
                if t:
                    p.dep_pop("store", "compute")     # the previous tile's store has read acc
                p.gemm_reset(reset)
            p.gemm(gemm)
            if not (t == len(tiles) - 1 and s == len(k_steps) - 1):
                p.dep_push("compute", "load")
        p.alu(every, AluOp.SHR, imm=shift)
        p.alu(every, AluOp.MAX, imm=-128)
        p.alu(every, AluOp.MIN, imm=127)
        p.dep_push("compute", "store")
        p.dep_pop("compute", "store")
        p.store(0, yb, mi * nn + ni, tm, tn, nn)
        p.dep_push("store", "compute")
    p.dep_pop("store", "compute")
    p.finish()
    return p, yb


def vta_gemm(cfg, work_dir, *, m: int = 16, k: int = 256, n: int = 256, shift: int = 8, seed: int = 7,
             cycle_limit: int = 50_000_000) -> dict:
    """Run the tiled GEMM on the RTL of ``cfg``; return cycles, counters, tiling and MAC/cycle."""
    from sw.common.job import read_result
    from tb.vta.harness import run_job_rtl
    tiling = vta_gemm_tiling(cfg, m, k, n)
    rng = np.random.default_rng(seed)
    nm, nk, nn = m // cfg.batch, k // cfg.block_in, n // cfg.block_out
    x = rng.integers(-128, 128, size=(m, k))
    w = rng.integers(-128, 128, size=(n, k))
    # VTA element layout: X rows grouped by BATCH, columns by BLOCK_IN; W rows by BLOCK_OUT.
    xe = x.reshape(nm, cfg.batch, nk, cfg.block_in).transpose(0, 2, 1, 3)
    we = w.reshape(nn, cfg.block_out, nk, cfg.block_in).transpose(0, 2, 1, 3)
    p, yb = _vta_gemm_program(cfg, xe, we, shift, tiling)
    job = p.write_job(Path(work_dir) / "job", cycle_limit=cycle_limit)
    run = run_job_rtl(job, Path(work_dir) / "out-rtl", cfg=cfg)
    out = Path(work_dir) / "out-rtl"
    if not (out / "result.json").exists():
        raise WorkloadError(f"the RTL produced no result: {run.returncode_error} (log {run.log_path})")
    r = read_result(out)
    if r["status"] != "ok":
        raise WorkloadError(f"RTL status {r['status']}: {r['message']} (log {run.log_path})")
    y = p.read(r["dram"], yb)                                # (nm * nn, BATCH, BLOCK_OUT)
    got = y.reshape(nm, nn, cfg.batch, cfg.block_out).transpose(0, 2, 1, 3).reshape(m, n)
    exp = np.clip((x.astype(np.int64) @ w.T.astype(np.int64)) >> shift, -128, 127)
    if not np.array_equal(got, exp):
        bad = np.argwhere(got != exp)
        raise WorkloadError(f"RTL result differs from numpy at {len(bad)} of {m * n} outputs, first "
                            f"{tuple(bad[0])}: {got[tuple(bad[0])]} != {exp[tuple(bad[0])]}")
    macs = m * k * n
    return {"cycles": r["cycles"], "macs": macs, "macs_per_cycle": round(macs / r["cycles"], 3),
            "peak_macs_per_cycle": cfg.macs_per_cycle, "workload": f"gemm {m}x{k}x{n}",
            "tiling": tiling, "counters": r["counters"], "instructions": len(p.insns)}


def systolic_gemm(cfg, work_dir, *, m: int = 64, k: int = 128, n: int = 64, seed: int = 7,
                  cycle_limit: int = 50_000_000) -> dict:
    """Run ``C = A @ B`` (int8 in, int32 out) as a systolic-array GEMM job on the RTL of ``cfg``."""
    from sw.systolic.job import load_job, read_result, write_gemm_job
    from tb.systolic.harness import run_job_rtl
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, size=(m, k), dtype=np.int8)
    b = rng.integers(-128, 128, size=(k, n), dtype=np.int8)
    job_dir = write_gemm_job(Path(work_dir) / "job", cfg, a, b, cycle_limit=cycle_limit)
    out = Path(work_dir) / "out-rtl"
    run = run_job_rtl(job_dir, out, cfg=cfg)
    if not (out / "result.json").exists():
        raise WorkloadError(f"the RTL produced no result: {run.returncode_error} (log {run.log_path})")
    r = read_result(out)
    if r["status"] != "ok":
        raise WorkloadError(f"RTL status {r['status']}: {r['message']} (log {run.log_path})")
    got = np.load(out / load_job(job_dir).output_file)
    exp = a.astype(np.int64) @ b.astype(np.int64)
    if got.shape != exp.shape or not np.array_equal(got, exp):
        raise WorkloadError(f"RTL result differs from numpy ({int(np.sum(got != exp)) if got.shape == exp.shape else 'shape'}"
                            f" of {m * n} outputs)")
    macs = m * k * n
    return {"cycles": r["cycles"], "macs": macs, "macs_per_cycle": round(macs / r["cycles"], 3),
            "peak_macs_per_cycle": cfg.macs_per_cycle, "workload": f"gemm {m}x{k}x{n}",
            "counters": r["counters"]}


WORKLOADS = {"vta": vta_gemm, "systolic": systolic_gemm}


def benchmark(engine: str, cfg, work_dir, params: dict | None = None) -> dict:
    """Run ``engine``'s sweep workload on the RTL of ``cfg`` in ``work_dir``; returns at least ``cycles``."""
    from sim import engines
    mod = engines.get(engine)
    params = dict(params or {})
    fn = getattr(mod, "sweep_benchmark", None) or WORKLOADS.get(engine)
    if fn is None:
        raise WorkloadError(f"no sweep workload for engine {engine!r}: add sweep_benchmark(cfg, work_dir, **params) "
                            f"to sim/engines/{engine}.py or a function to fpga/workloads.py")
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    try:
        return fn(cfg, work_dir, **params)
    except TypeError as e:
        raise WorkloadError(f"bad workload parameters {params}: {e}") from None
