"""Random valid VTA programs for differential testing (RTL vs golden model).

A program is a sequence of rounds; each round is load -> compute -> store, ordered by tokens:

* load (INP/WGT) of round r+1 pops the compute->load token pushed at the end of compute r;
* compute r pops load->compute (data loaded) and, from round 1 on, store->compute (acc read by store r-1);
* store r pops compute->store.

Every cross-module data dependency is therefore ordered by a token, and every pop consumes a token pushed
earlier in program order, so with at most one outstanding token per queue the program cannot deadlock
for any INSN_QUEUE_DEPTH / TOKEN_QUEUE_DEPTH. Round 0 initialises the whole scratchpad region it uses, so
no engine reads uninitialised memory. Scratchpad indices stay below ``min(depth, 32)``.
"""

from __future__ import annotations

import numpy as np

from .config import VTAConfig, MemId, AluOp
from .isa import Uop
from .runtime import Program, Kernel

__all__ = ["random_program", "random_job", "REGION"]

REGION = 32


def _limits(cfg: VTAConfig):
    return {m: min(cfg.sram_depth(m), REGION) for m in (MemId.INP, MemId.WGT, MemId.ACC)}


def _rand_data(cfg, rng, mem_id, n):
    if mem_id == MemId.INP:
        return rng.integers(-128, 128, size=(n, cfg.batch, cfg.block_in))
    if mem_id == MemId.WGT:
        return rng.integers(-128, 128, size=(n, cfg.block_out, cfg.block_in))
    if mem_id == MemId.ACC:
        # mostly small values (interesting after SHR/MIN/MAX), sometimes full range
        hi = int(rng.choice([1 << 8, 1 << 16, 1 << 31]))
        return rng.integers(-hi, hi, size=(n, cfg.batch, cfg.block_out))
    return rng.integers(-128, 128, size=(n, cfg.batch, cfg.block_out))  # ACC_8BIT / OUT


def _rand_load(p: Program, rng, mem_id, limit):
    """A 2D LOAD with random pads (incl. pad_min) and stride, fitting [0, limit) of the scratchpad."""
    cfg = p.cfg
    for _ in range(100):
        y, x = int(rng.integers(1, 4)), int(rng.integers(1, 5))
        yp = tuple(int(v) for v in rng.integers(0, 3, 2))
        xp = tuple(int(v) for v in rng.integers(0, 3, 2))
        n = (yp[0] + y + yp[1]) * (xp[0] + x + xp[1])
        if n <= limit:
            break
    else:  # pragma: no cover - limit >= 2 always admits a 1x1 load
        y, x, yp, xp, n = 1, 1, (0, 0), (0, 0), 1
    stride = x + int(rng.integers(0, 3))
    offset = int(rng.integers(0, 3))
    buf = p.alloc(mem_id, _rand_data(cfg, rng, mem_id, offset + (y - 1) * stride + x))
    sram = int(rng.integers(0, limit - n + 1))
    p.load(mem_id, sram, buf, offset, y, x, stride, y_pad=yp, x_pad=xp, pad_min=bool(rng.integers(0, 2)))


def _rand_kernel(rng, lim, gemm: bool):
    """A kernel of 1-4 uops with 1-2 loop levels whose indices stay below lim[dst/src/wgt]."""
    nloops = int(rng.integers(1, 3))
    io = int(rng.integers(1, 4))
    ii = int(rng.integers(1, 4)) if nloops == 2 else 1
    f = {k: int(rng.integers(0, 3)) for k in ("dst_factor_out", "dst_factor_in", "src_factor_out",
                                               "src_factor_in", "wgt_factor_out", "wgt_factor_in")}
    if not gemm:
        f["wgt_factor_out"] = f["wgt_factor_in"] = 0

    def top(name, limit):
        span = (io - 1) * f[f"{name}_factor_out"] + (ii - 1) * f[f"{name}_factor_in"]
        return max(1, limit - span)

    td, ts, tw = top("dst", lim["dst"]), top("src", lim["src"]), top("wgt", lim["wgt"]) if gemm else 1
    uops = []
    for _ in range(int(rng.integers(1, 5))):
        if uops and rng.random() < 0.3:
            dst = uops[-1].dst  # back-to-back writes to the same acc index
        else:
            dst = int(rng.integers(0, td))
        uops.append(Uop(dst=dst, src=int(rng.integers(0, ts)), wgt=int(rng.integers(0, tw)) if gemm else 0))
    return Kernel(uops, iter_out=io, iter_in=ii, **f)


def _rand_imm(rng, op):
    if op == AluOp.SHR:
        r = rng.random()
        if r < 0.7:
            return int(rng.integers(-8, 9))           # includes negative (left) shifts
        return int(rng.choice([31, 32, 40, -31, -32, -40]))  # clamping rules
    return int(rng.integers(-(1 << 15), 1 << 15)) if rng.random() < 0.5 else int(rng.integers(-16, 17))


def random_program(cfg: VTAConfig, rng: np.random.Generator) -> Program:
    """A random race-free, deadlock-free program ending in FINISH.

    Covers LOAD INP/WGT/ACC/ACC_8BIT with random pads (incl. pad_min) and strides, LOAD UOP, GEMM with
    1-2 loop levels (reset and accumulate, back-to-back writes to one acc index), ALU with all opcodes,
    use_imm 0/1 and SHR with negative amounts, STORE with strides and fused requantisation.
    """
    p = Program(cfg)
    lim = _limits(cfg)
    li, lw, la = lim[MemId.INP], lim[MemId.WGT], lim[MemId.ACC]
    rounds = int(rng.integers(1, 4))
    ops = [int(o) for o in rng.permutation(list(AluOp.NAMES))]  # each program uses every ALU opcode
    for r in range(rounds):
        # --- load module
        if r > 0:
            p.dep_pop("compute", "load")
        if r == 0:  # initialise the whole inp/wgt region
            p.load(MemId.INP, 0, p.alloc(MemId.INP, _rand_data(cfg, rng, MemId.INP, li)), 0, 1, li, li)
            p.load(MemId.WGT, 0, p.alloc(MemId.WGT, _rand_data(cfg, rng, MemId.WGT, lw)), 0, 1, lw, lw)
        for _ in range(int(rng.integers(0, 3))):
            mem = MemId.INP if rng.random() < 0.5 else MemId.WGT
            _rand_load(p, rng, mem, li if mem == MemId.INP else lw)
        p.dep_push("load", "compute")
        # --- compute module
        p.dep_pop("load", "compute")
        if r > 0:
            p.dep_pop("store", "compute")
        if r == 0:  # initialise the whole acc region
            if rng.random() < 0.5:
                p.gemm_reset(Kernel([Uop()], iter_out=la, dst_factor_out=1))
            else:
                p.load(MemId.ACC, 0, p.alloc(MemId.ACC, _rand_data(cfg, rng, MemId.ACC, la)), 0, 1, la, la)
        for _ in range(int(rng.integers(0, 3))):
            _rand_load(p, rng, MemId.ACC if rng.random() < 0.6 else MemId.ACC_8BIT, la)
        for _ in range(int(rng.integers(1, 4))):
            k = _rand_kernel(rng, {"dst": la, "src": li, "wgt": lw}, gemm=True)
            p.gemm(k, reset=bool(rng.random() < 0.2))
        n_alu = int(rng.integers(2, 5)) if r < rounds - 1 else max(1, len(ops))
        for _ in range(n_alu):
            op = ops.pop() if ops else int(rng.integers(0, len(AluOp.NAMES)))
            k = _rand_kernel(rng, {"dst": la, "src": la, "wgt": 1}, gemm=False)
            p.alu(k, op, imm=_rand_imm(rng, op) if rng.random() < 0.5 else None)
        p.dep_push("compute", "load")
        p.dep_push("compute", "store")
        # --- store module
        p.dep_pop("compute", "store")
        for _ in range(int(rng.integers(1, 3))):
            y, x = int(rng.integers(1, 4)), int(rng.integers(1, 5))
            while y * x > la:
                y, x = 1, min(x, la)
            stride = x + int(rng.integers(0, 3))
            buf = p.alloc(MemId.OUT, (y - 1) * stride + x)
            rq = (int(rng.integers(0, 16)), bool(rng.integers(0, 2))) if rng.random() < 0.3 else None
            p.store(int(rng.integers(0, la - y * x + 1)), buf, 0, y, x, stride, requant=rq)
        p.dep_push("store", "compute")
    p.finish()
    return p


def random_job(cfg: VTAConfig, seed: int, path, cycle_limit: int | None = None):
    """Write the random program of ``seed`` (deterministic) as a job folder; returns its path."""
    return random_program(cfg, np.random.default_rng(seed)).write_job(path, cycle_limit=cycle_limit)
