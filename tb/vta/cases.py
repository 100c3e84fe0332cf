"""Registry of the upstream VTA unit-test programs (spec section 6) plus two throughput programs.

Each case builds a finished :class:`Program` for a given :class:`VTAConfig` and a ``check`` that compares the
final DRAM image against an expectation computed with numpy from the inputs (never from the golden model).
The same cases run on the golden model (tests/test_vta_golden.py) and on the RTL (tb/vta/test_vta.py).

Accumulator contents that matter at full 32-bit width are made observable through DRAM with
:func:`_store_acc32`: the acc region is stored 4 times (lanes truncated to int8), shifting it right by 8 between
stores, so byte k of every 32-bit lane lands in DRAM and the int32 value is reassembled by the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from sw.vta.config import VTAConfig, MemId, AluOp
from sw.vta.isa import Uop
from sw.vta.runtime import Program, Kernel

__all__ = ["Case", "CASES", "case_names", "build_case", "CaseDoesNotFit"]


class CaseDoesNotFit(Exception):
    """A case's shapes cannot fit the scratchpads of the given config."""


@dataclass
class Case:
    name: str
    program: Program            # finished (finish() already called)
    check: Callable[[np.ndarray], None]   # final DRAM image (uint8) -> raises AssertionError on mismatch
    cycle_limit: int = 200_000  # generous bound for the RTL run
    expect_status: str = "ok"


# --- helpers -------------------------------------------------------------------------------------------
def wrap32(x):
    return ((np.asarray(x, dtype=np.int64) + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int64)


def linear(n, dst=0, src=0):
    return Kernel([Uop(dst=dst, src=src)], iter_out=n, dst_factor_out=1, src_factor_out=1)


def _acc_shape(cfg):
    return (cfg.batch, cfg.block_out)


def _store_int8(p, n, sram_base=0):
    """Upstream epilogue: ALU SHR 0, hand over to store, store n acc elements (int8), finish. Returns the buffer."""
    p.alu(linear(n, sram_base, sram_base), AluOp.SHR, imm=0)
    p.dep_push("compute", "store")
    p.dep_pop("compute", "store")
    out = p.alloc(MemId.OUT, n)
    p.store(sram_base, out, 0, 1, n, n)
    p.dep_push("store", "compute")
    p.dep_pop("store", "compute")
    p.finish()
    return out


def _store_acc32(p, n, sram_base=0):
    """Store acc[sram_base:sram_base+n] at full width: 4 int8 stores of (acc >> 8k); finish. Returns the buffer
    (4*n OUT elements, slice k at elements k*n ... k*n+n-1); decode with :func:`_read_acc32`."""
    out = p.alloc(MemId.OUT, 4 * n)
    for k in range(4):
        p.alu(linear(n, sram_base, sram_base), AluOp.SHR, imm=0 if k == 0 else 8)
        p.dep_push("compute", "store")
        p.dep_pop("compute", "store")
        p.store(sram_base, out, k * n, 1, n, n)
        p.dep_push("store", "compute")
        p.dep_pop("store", "compute")
    p.finish()
    return out


def _read_acc32(p, dram, out):
    raw = p.read(dram, out).astype(np.uint8).astype(np.uint32)
    n = raw.shape[0] // 4
    v = raw[:n] | raw[n:2 * n] << 8 | raw[2 * n:3 * n] << 16 | raw[3 * n:] << 24
    return v.astype(np.uint32).view(np.int32).astype(np.int64)


def _eq(got, exp, what):
    np.testing.assert_array_equal(np.asarray(got), np.asarray(exp), err_msg=what)


# --- upstream unit tests -------------------------------------------------------------------------------
def save_load(cfg, name="save_load"):
    n = min(36, cfg.acc_depth)
    rng = np.random.default_rng(1)
    a = rng.integers(-(1 << 31), 1 << 31, size=(n,) + _acc_shape(cfg))
    p = Program(cfg)
    buf = p.alloc(MemId.ACC, a)
    p.load(MemId.ACC, 0, buf, 0, 1, n, n)
    out = _store_int8(p, n)
    case = Case(name, p, lambda dram: _eq(p.read(dram, out), a.astype(np.int8), name))
    case.n_elems = n
    return case


def padded_load(cfg, y_pad, x_pad, pad_min=False, name="padded_load"):
    """3x5 acc tile loaded with pads; the padded tile is checked at full 32-bit width (pad_min gives INT32_MIN)."""
    rng = np.random.default_rng(2)
    a = rng.integers(-1000, 1000, size=(3, 5) + _acc_shape(cfg))
    p = Program(cfg)
    buf = p.alloc(MemId.ACC, a.reshape((15,) + _acc_shape(cfg)))
    p.load(MemId.ACC, 0, buf, 0, 3, 5, 5, y_pad=y_pad, x_pad=x_pad, pad_min=pad_min)
    h, w = 3 + sum(y_pad), 5 + sum(x_pad)
    out = _store_acc32(p, h * w)
    exp = np.pad(a, (y_pad, x_pad, (0, 0), (0, 0)), constant_values=(-(1 << 31) if pad_min else 0))
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), exp.reshape((h * w,) + _acc_shape(cfg)), name))


def _gemm_program(cfg, x, w, threads):
    """y = ((x . w^T) >> 8) clipped to [0, 127]; x: (nb, 1, B, BI), w: (no, 1, BO, BI)."""
    nb, no = x.shape[0], w.shape[0]
    p = Program(cfg)
    xb = p.alloc(MemId.INP, x.reshape(nb, cfg.batch, cfg.block_in))
    wb = p.alloc(MemId.WGT, w.reshape(no, cfg.block_out, cfg.block_in))
    out = p.alloc(MemId.OUT, nb * no)
    per = no // threads
    for t in range(threads):  # load: inp once, weights per virtual thread into its own region
        if t == 0:
            p.load(MemId.INP, 0, xb, 0, 1, nb, nb)
        p.load(MemId.WGT, t * per, wb, t * per, 1, per, per)
        p.dep_push("load", "compute")
    for t in range(threads):  # compute: acc region per thread, element (b, o) at t*nb*per + b*per + o
        p.dep_pop("load", "compute")
        base = t * nb * per
        k = Kernel([Uop(dst=base, src=0, wgt=t * per)], iter_out=nb, iter_in=per,
                   dst_factor_out=per, dst_factor_in=1, src_factor_out=1, wgt_factor_in=1)
        p.gemm_reset(k)
        p.gemm(k)
        for op, imm in ((AluOp.SHR, 8), (AluOp.MAX, 0), (AluOp.MIN, 127)):
            p.alu(linear(nb * per, base, base), op, imm=imm)
        p.dep_push("compute", "store")
    for t in range(threads):  # store: DRAM layout (b, o)
        p.dep_pop("compute", "store")
        p.store(t * nb * per, out, t * per, nb, per, no)
        p.dep_push("store", "compute")
    p.finish()
    return p, out


def gemm(cfg, threads, name):
    rng = np.random.default_rng(3 + threads)
    nb = no = 4
    x = rng.integers(-128, 128, size=(nb, 1, cfg.batch, cfg.block_in))
    w = rng.integers(-128, 128, size=(no, 1, cfg.block_out, cfg.block_in))
    p, out = _gemm_program(cfg, x, w, threads)
    # res[b, o, batch, lane] = sum_k x[b, batch, k] * w[o, lane, k]
    res = np.einsum("bik,olk->boil", x[:, 0].astype(np.int64), w[:, 0].astype(np.int64))
    exp = np.clip(res >> 8, 0, 127).astype(np.int8)
    case = Case(name, p, lambda dram: _eq(p.read(dram, out).reshape(exp.shape), exp, name))
    case.gemm_uops = 2 * nb * no  # reset + accumulate
    return case


def _alu_n(cfg):
    # 64 dst elements plus 64 src elements; halved where the acc scratchpad is smaller (64 entries on 2x8x8).
    return min(64, cfg.acc_depth // 2)


def alu(cfg, op, imm=None, vector=False, seed=5, lo=-16, hi=16, ref=None, name="alu"):
    """dst = op(a, imm or b) over an (iter_out x 8) x (8) two-level kernel; result checked at 32-bit width.

    ``ref(a, s)`` (int64 arrays) gives the expected int32 values."""
    n = _alu_n(cfg)
    rng = np.random.default_rng(seed)
    a = rng.integers(lo, hi, size=(n,) + _acc_shape(cfg))
    b = rng.integers(lo, hi, size=(n,) + _acc_shape(cfg))
    p = Program(cfg)
    buf = p.alloc(MemId.ACC, np.concatenate([a, b]))
    p.load(MemId.ACC, 0, buf, 0, 1, 2 * n, 2 * n)
    p.alu(Kernel([Uop(dst=0, src=n)], iter_out=n // 8, iter_in=8, dst_factor_out=8, dst_factor_in=1,
                 src_factor_out=8, src_factor_in=1), op, imm=None if vector else imm)
    out = _store_acc32(p, n)
    s = b.astype(np.int64) if vector else np.int64(imm)
    exp = ref(a.astype(np.int64), s)
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), exp, name))


def _shr_ref(a, s):
    return np.where(s >= 0, a >> np.minimum(np.maximum(s, 0), 31),
                    np.where(-s >= 32, 0, wrap32(a << np.minimum(np.maximum(-s, 0), 31))))


def alu_mul_clp_mov(cfg, name="alu_mul_clp_mov"):
    """MUL (vector, full int32 range, wraps), CLP imm/vector, MOV imm/vector, each on its own acc region."""
    n = min(16, cfg.acc_depth // 8)
    rng = np.random.default_rng(11)
    shape = (n,) + _acc_shape(cfg)
    a = rng.integers(-(1 << 31), 1 << 31, size=(2,) + shape)           # MUL dst, src
    c = rng.integers(-16, 16, size=(6,) + shape)                       # CLP imm dst, CLP vec dst/src, MOV ...
    p = Program(cfg)
    data = np.concatenate([a[0], a[1]] + list(c))  # regions r*n: 0 mul dst, 1 mul src, 2 clp-imm dst,
    p.load(MemId.ACC, 0, p.alloc(MemId.ACC, data), 0, 1, 8 * n, 8 * n)  # 3/4 clp-vec dst/src, 5 mov-imm dst, 6/7 mov-vec
    k = lambda d, s=0: Kernel([Uop(dst=d * n, src=s * n)], iter_out=n, dst_factor_out=1, src_factor_out=1)
    p.alu(k(0, 1), AluOp.MUL)
    p.alu(k(2), AluOp.CLP, imm=-5)
    p.alu(k(3, 4), AluOp.CLP)
    p.alu(k(5), AluOp.MOV, imm=-7)
    p.alu(k(6, 7), AluOp.MOV)
    out = _store_acc32(p, 8 * n)
    a, c = a.astype(np.int64), c.astype(np.int64)
    exp = np.concatenate([wrap32(a[0] * a[1]), a[1],
                          np.clip(c[0], -5, 5),
                          np.clip(c[1], -np.abs(c[2]), np.abs(c[2])), c[2],
                          np.full_like(c[3], -7),
                          c[5], c[5]])
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), exp, name))


def relu(cfg, name="relu"):
    n = min(80, cfg.acc_depth)
    rng = np.random.default_rng(6)
    a = rng.integers(-256, 256, size=(n,) + _acc_shape(cfg))
    p = Program(cfg)
    p.load(MemId.ACC, 0, p.alloc(MemId.ACC, a), 0, 1, n, n)
    p.alu(linear(n), AluOp.MAX, imm=0)
    p.alu(linear(n), AluOp.MIN, imm=127)
    out = _store_int8(p, n)
    exp = np.clip(a, 0, 127).astype(np.int8)
    return Case(name, p, lambda dram: _eq(p.read(dram, out), exp, name))


def shift_and_scale(cfg, name="shift_and_scale"):
    rng = np.random.default_rng(7)
    a = rng.integers(-1000, 1000, size=(16,) + _acc_shape(cfg))
    s, k = 37, 3
    p = Program(cfg)
    p.load(MemId.ACC, 0, p.alloc(MemId.ACC, a), 0, 1, 16, 16)
    p.alu(linear(16), AluOp.ADD, imm=s)
    p.alu(linear(16), AluOp.SHR, imm=k)
    out = _store_int8(p, 16)
    exp = ((a + s) >> k).astype(np.int8)
    return Case(name, p, lambda dram: _eq(p.read(dram, out), exp, name))


def acc8_load(cfg, name="acc8_load"):
    """ACC_8BIT load sign-extends int8 lanes into 32-bit acc lanes (checked at 32-bit width)."""
    lanes = cfg.batch * cfg.block_out
    v = np.clip((np.arange(lanes) - lanes // 2) * 15, -128, 127).reshape((1,) + _acc_shape(cfg))
    p = Program(cfg)
    p.load(MemId.ACC_8BIT, 0, p.alloc(MemId.ACC_8BIT, v), 0, 1, 1, 1)
    p.alu(linear(1), AluOp.ADD, imm=0)
    out = _store_acc32(p, 1)
    assert (v < 0).any()
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), v, name))


def _edge_program(cfg, wgt_rows, uops, inp):
    p = Program(cfg)
    xi = p.alloc(MemId.INP, inp)
    wi = p.alloc(MemId.WGT, wgt_rows)
    p.load(MemId.INP, 0, xi, 0, 1, len(inp), len(inp))
    p.load(MemId.WGT, 0, wi, 0, 1, len(wgt_rows), len(wgt_rows))
    p.dep_push("load", "compute")
    p.dep_pop("load", "compute")
    p.gemm_reset(Kernel([Uop(dst=0)]))
    p.gemm(Kernel(uops))
    return p, _store_acc32(p, 1)


def _gemm_expect(inp, wgt, uops):
    acc = np.zeros((1, inp.shape[1], wgt.shape[1]), dtype=np.int64)
    for u in uops:
        acc[u.dst] += inp[u.src].astype(np.int64) @ wgt[u.wgt].astype(np.int64).T
    return wrap32(acc)


def gemm_signed_weights(cfg, name="gemm_signed_weights"):
    bo, bi = cfg.block_out, cfg.block_in
    # every byte value once per 256 lanes (as upstream for 16x16), so rows contain bytes >= 0x80
    w = ((np.arange(bo * bi) * max(1, 256 // (bo * bi))) % 256 + 128) % 256
    w = w.reshape(1, bo, bi)
    w8 = w.astype(np.uint8).view(np.int8).astype(np.int64)
    inp = np.ones((1, cfg.batch, bi), dtype=np.int64)
    inp[0, :, ::2] = -1
    inp[0, -1, 1] = 3  # rows of a batch differ when BATCH > 1
    assert (w8 < 0).any() and (w8 > 0).any()
    uops = [Uop(dst=0, src=0, wgt=0)]
    p, out = _edge_program(cfg, w8, uops, inp)
    exp = _gemm_expect(inp, w8, uops)
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), exp, name))


def gemm_back_to_back_same_acc(cfg, name="gemm_back_to_back_same_acc"):
    """Three consecutive uops accumulate into the same acc element: +e0 - e0 + e0."""
    eye = np.eye(cfg.block_out, cfg.block_in, dtype=np.int64)
    w = np.stack([eye, -eye])
    inp = np.zeros((1, cfg.batch, cfg.block_in), dtype=np.int64)
    inp[0, :, 0] = 1  # e0
    uops = [Uop(dst=0, src=0, wgt=0), Uop(dst=0, src=0, wgt=1), Uop(dst=0, src=0, wgt=0)]
    p, out = _edge_program(cfg, w, uops, inp)
    exp = _gemm_expect(inp, w, uops)
    assert exp[0, :, 0].tolist() == [1] * cfg.batch and not exp[0, :, 1:].any()
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), exp, name))


# --- read-after-write hazards in the pipelines (an iteration reads what the 1 or 2 before it write) ------
def _iterations(k):
    """(dst, src, wgt) of every iteration of kernel ``k`` in execution order (spec section 3 loop nest)."""
    for y in range(k.iter_out):
        for x in range(k.iter_in):
            for u in k.uops:
                yield (u.dst + y * k.dst_factor_out + x * k.dst_factor_in,
                       u.src + y * k.src_factor_out + x * k.src_factor_in,
                       u.wgt + y * k.wgt_factor_out + x * k.wgt_factor_in)


def gemm_hazard(cfg, dsts, name):
    """One GEMM whose uops write acc indices ``dsts`` (the outer loop repeats them 4 times, moving src and wgt)
    onto random acc values: consecutive writes to one index (a, a) and distance-2 reuse (a, b, a, b)."""
    n = len(dsts)
    rng = np.random.default_rng(31 + n)
    x = rng.integers(-128, 128, size=(n + 3, cfg.batch, cfg.block_in))
    w = rng.integers(-128, 128, size=(n + 3, cfg.block_out, cfg.block_in))
    n_acc = max(dsts) + 1
    a0 = rng.integers(-(1 << 20), 1 << 20, size=(n_acc,) + _acc_shape(cfg))
    p = Program(cfg)
    xb, wb = p.alloc(MemId.INP, x), p.alloc(MemId.WGT, w)
    p.load(MemId.INP, 0, xb, 0, 1, n + 3, n + 3)
    p.load(MemId.WGT, 0, wb, 0, 1, n + 3, n + 3)
    p.dep_push("load", "compute")
    p.dep_pop("load", "compute")
    p.load(MemId.ACC, 0, p.alloc(MemId.ACC, a0), 0, 1, n_acc, n_acc)
    k = Kernel([Uop(dst=d, src=i, wgt=n - 1 - i) for i, d in enumerate(dsts)], iter_out=4,
               src_factor_out=1, wgt_factor_out=1)
    p.gemm(k)
    out = _store_acc32(p, n_acc)
    acc = a0.astype(np.int64)
    for d, s_, w_ in _iterations(k):
        acc[d] = wrap32(acc[d] + x[s_].astype(np.int64) @ w[w_].astype(np.int64).T)
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), acc, name))


_ALU_REF = {AluOp.ADD: lambda a, b: wrap32(a + b), AluOp.MUL: lambda a, b: wrap32(a * b),
            AluOp.MAX: np.maximum, AluOp.MIN: np.minimum, AluOp.SHR: _shr_ref}


def alu_hazard(cfg, kernels, name):
    """ALU kernels ``(Kernel, op, imm)`` run in order on 24 random acc entries; expected values follow the loop
    nest one iteration at a time, so any stale operand (dst or src) shows up."""
    n = 24
    rng = np.random.default_rng(41)
    a0 = rng.integers(-1000, 1000, size=(n,) + _acc_shape(cfg))
    p = Program(cfg)
    p.load(MemId.ACC, 0, p.alloc(MemId.ACC, a0), 0, 1, n, n)
    acc = a0.astype(np.int64)
    for k, op, imm in kernels:
        p.alu(k, op, imm=imm)
        for d, s_, _ in _iterations(k):
            acc[d] = _ALU_REF[op](acc[d], np.int64(imm) if imm is not None else acc[s_])
    out = _store_acc32(p, n)
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), acc, name))


def _chain(dst, src, n, step=1):
    return Kernel([Uop(dst=dst, src=src)], iter_out=n, dst_factor_out=step, src_factor_out=step)


_ALU_VEC_HAZARDS = [
    (_chain(1, 0, 7), AluOp.ADD, None),            # src = previous iteration's dst: prefix sums over 0..7
    (_chain(10, 8, 6), AluOp.ADD, None),           # src = dst of two iterations before
    (_chain(16, 16, 5, 0), AluOp.ADD, None),       # dst == src, same index back to back: x 32
    (_chain(17, 17, 3, 0), AluOp.MUL, None),       # dst == src squared three times (wraps)
    (Kernel([Uop(dst=18, src=19), Uop(dst=19, src=18)], iter_out=4), AluOp.ADD, None),  # Fibonacci-like
]
_ALU_IMM_HAZARDS = [
    (_chain(20, 0, 10, 0), AluOp.ADD, 3),
    (_chain(21, 0, 4, 0), AluOp.MUL, -3),
    (_chain(22, 0, 5, 0), AluOp.SHR, -1),
    (Kernel([Uop(dst=23), Uop(dst=23)], iter_out=3), AluOp.ADD, 7),
]


# --- accelgen MULSHR (ALU MUL with the wide bit): requantisation multiply -----------------------------------
def _mulshr_ref(a, b, sh, rnd):
    """Python-int reference: low 32 bits of (a*b + rounding) >> sh (exact 64-bit product)."""
    flat = [((int(x) * int(y) + ((1 << (sh - 1)) if rnd and sh else 0)) >> sh) for x, y in
            zip(np.ravel(a), np.ravel(np.broadcast_to(b, np.shape(a))))]
    return np.array([((v + (1 << 31)) % (1 << 32)) - (1 << 31) for v in flat], np.int64).reshape(np.shape(a))


def _mulshr(p, kernel, sh, rnd, imm_operand=False):
    """Emit a MULSHR (MUL with the wide bit) over ``kernel``."""
    from sw.vta.isa import AluInsn, mulshr_imm
    bgn, end = p._kernel(kernel)
    f = kernel.loop_fields()
    f.pop("wgt_factor_out")
    f.pop("wgt_factor_in")
    imm = mulshr_imm(sh, rnd)
    return p._emit(AluInsn(uop_bgn=bgn, uop_end=end, alu_opcode=AluOp.MUL, reset=True, use_imm=imm_operand,
                           imm=imm, **f))


def alu_mulshr(cfg, name="alu_mulshr"):
    """MULSHR on full-range int32 operands: shifts 0, 1, 17, 31, 40, 62, 63 with and without rounding (vector
    operand), one with the immediate as operand, and a chain whose src is the previous iteration's dst."""
    n = min(8, cfg.acc_depth // 32)
    rng = np.random.default_rng(77)
    shape = (n,) + _acc_shape(cfg)
    shifts = [(0, False), (1, True), (17, True), (31, False), (31, True), (40, True), (62, True), (63, True)]
    a = rng.integers(-(1 << 31), 1 << 31, size=(len(shifts) + 1,) + shape)
    a[0].reshape(-1)[:4] = [-(1 << 31), -(1 << 31), (1 << 31) - 1, 1]   # extremes
    b = rng.integers(-(1 << 31), 1 << 31, size=(len(shifts) + 1,) + shape)
    b[0].reshape(-1)[:4] = [-(1 << 31), (1 << 31) - 1, (1 << 31) - 1, -1]
    chain = rng.integers(-(1 << 20), 1 << 20, size=(n,) + _acc_shape(cfg))
    m_row = rng.integers(1 << 30, 1 << 31, size=(1,) + _acc_shape(cfg))
    k = len(shifts) + 1
    p = Program(cfg)
    data = np.concatenate(list(a) + list(b) + [chain, m_row])
    total = data.shape[0]
    p.load(MemId.ACC, 0, p.alloc(MemId.ACC, data), 0, 1, total, total)
    lin = lambda d, s_: Kernel([Uop(dst=d * n, src=s_ * n)], iter_out=n, dst_factor_out=1, src_factor_out=1)
    exp = []
    for j, (sh, rnd) in enumerate(shifts):
        _mulshr(p, lin(j, k + j), sh, rnd)
        exp.append(_mulshr_ref(a[j], b[j], sh, rnd))
    _mulshr(p, lin(k - 1, 0), 9, True, imm_operand=True)    # operand = sext(imm) = 9 | 64 = 73, shift 9
    exp.append(_mulshr_ref(a[k - 1], np.int64(73), 9, True))
    # chain: dst[i] = mulshr(dst[i-1] ... ) -- src = previous iteration's dst (forwarding), multiplier m_row
    cbase, mrow = 2 * k * n, 2 * k * n + n
    p.alu(Kernel([Uop(dst=cbase + 1, src=cbase)], iter_out=n - 1, dst_factor_out=1, src_factor_out=1), AluOp.MOV)
    _mulshr(p, Kernel([Uop(dst=cbase, src=mrow)], iter_out=n, dst_factor_out=1, src_factor_out=0), 30, True)
    c = chain.astype(np.int64).copy()
    for i in range(1, n):
        c[i] = c[i - 1]
    for i in range(n):
        c[i] = _mulshr_ref(c[i], m_row[0], 30, True)
    out = _store_acc32(p, total)
    want = np.concatenate(exp + list(b) + [c, m_row])
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), want, name))


def alu_mulshr_hazard(cfg, name="alu_mulshr_hazard"):
    """MULSHR back to back on one index (dst == src), then ADD/SHR consuming its result in the next cycles:
    the requantisation sequence MULSHR, ADD (vector), SHR (vector) on 24 entries with forwarding."""
    n = 24
    rng = np.random.default_rng(43)
    acc0 = rng.integers(-(1 << 24), 1 << 24, size=(n,) + _acc_shape(cfg))
    m = rng.integers(1 << 30, 1 << 31, size=(1,) + _acc_shape(cfg))
    c = rng.integers(0, 1 << 10, size=(1,) + _acc_shape(cfg))
    sh = rng.integers(1, 12, size=(1,) + _acc_shape(cfg))
    p = Program(cfg)
    p.load(MemId.ACC, 0, p.alloc(MemId.ACC, np.concatenate([acc0, m, c, sh])), 0, 1, n + 3, n + 3)
    one = lambda src: Kernel([Uop(dst=0, src=src)], iter_out=n, dst_factor_out=1, src_factor_out=0)
    _mulshr(p, one(n), 33, False)
    p.alu(one(n + 1), AluOp.ADD)
    p.alu(one(n + 2), AluOp.SHR)
    _mulshr(p, Kernel([Uop(dst=0, src=0)], iter_out=3), 2, True)     # dst == src three times in a row
    acc = acc0.astype(np.int64)
    acc = _mulshr_ref(acc, m[0], 33, False)
    acc = wrap32(acc + c[0])
    acc = _shr_ref(acc, sh[0].astype(np.int64))
    for _ in range(3):
        acc[0] = _mulshr_ref(acc[0], acc[0], 2, True)
    out = _store_acc32(p, n)
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), acc, name))


def _rshr_ref(a, s, off):
    n = np.clip(s, 0, 31)
    return wrap32(np.where(n == 0, a, ((a >> np.maximum(n - 1, 0)) + 1) >> 1) + off)


def _rshr(p, kernel, offset, imm_operand=False):
    """Emit an RSHR (SHR with the reset bit): rounding right shift by the operand, plus ``offset``."""
    from sw.vta.isa import AluInsn
    bgn, end = p._kernel(kernel)
    f = kernel.loop_fields()
    f.pop("wgt_factor_out")
    f.pop("wgt_factor_in")
    return p._emit(AluInsn(uop_bgn=bgn, uop_end=end, alu_opcode=AluOp.SHR, reset=True, use_imm=imm_operand,
                           imm=offset, **f))


def alu_rshr(cfg, name="alu_rshr"):
    """RSHR on full-range int32 values with per-lane amounts -3..40 (clamped to 0..31) and offsets; an immediate
    operand; and the two-pass requantisation MULSHR + RSHR with src = the previous iteration's dst."""
    n = min(8, cfg.acc_depth // 16)
    rng = np.random.default_rng(78)
    shape = (n,) + _acc_shape(cfg)
    a = rng.integers(-(1 << 31), 1 << 31, size=(3,) + shape)
    a[0].reshape(-1)[:3] = [-(1 << 31), (1 << 31) - 1, -1]
    sh = rng.integers(-3, 41, size=shape)
    m = rng.integers(1 << 30, 1 << 31, size=(1,) + _acc_shape(cfg))
    b = rng.integers(1, 9, size=(1,) + _acc_shape(cfg))
    chain = rng.integers(-(1 << 20), 1 << 20, size=shape)
    p = Program(cfg)
    data = np.concatenate([a[0], a[1], a[2], sh, chain, m, b])
    total = data.shape[0]
    p.load(MemId.ACC, 0, p.alloc(MemId.ACC, data), 0, 1, total, total)
    lin = lambda d, s_, f=1: Kernel([Uop(dst=d, src=s_)], iter_out=n, dst_factor_out=1, src_factor_out=f)
    _rshr(p, lin(0, 3 * n), -77)
    _rshr(p, lin(n, 3 * n), 1000)
    _rshr(p, lin(2 * n, 0, 0), 5, imm_operand=True)     # operand = offset = 5
    exp = [_rshr_ref(a[0].astype(np.int64), sh.astype(np.int64), -77),
           _rshr_ref(a[1].astype(np.int64), sh.astype(np.int64), 1000),
           _rshr_ref(a[2].astype(np.int64), np.int64(5), 5)]
    cb, mrow, brow = 4 * n, 5 * n, 5 * n + 1
    p.alu(Kernel([Uop(dst=cb + 1, src=cb)], iter_out=n - 1, dst_factor_out=1, src_factor_out=1), AluOp.MOV)
    _mulshr(p, Kernel([Uop(dst=cb, src=mrow)], iter_out=n, dst_factor_out=1), 33, False)
    _rshr(p, Kernel([Uop(dst=cb, src=brow)], iter_out=n, dst_factor_out=1), -128)
    c = chain.astype(np.int64).copy()
    for i in range(1, n):
        c[i] = c[i - 1]
    c = _rshr_ref(_mulshr_ref(c, m[0], 33, False), b[0].astype(np.int64), -128)
    out = _store_acc32(p, total)
    want = np.concatenate(exp + [sh, c, m, b])
    return Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), want, name))


# --- long single-instruction programs (initiation-interval measurement) --------------------------------
_U, _I, _O = 16, 16, 16  # uops x iter_in x iter_out = 4096 iterations


def _factors(depth, base, choices):
    """First (f_in, f_out) in ``choices`` keeping base + (_U-1) + (_I-1)*f_in + (_O-1)*f_out inside depth."""
    for f_in, f_out in choices:
        if base + (_U - 1) + (_I - 1) * f_in + (_O - 1) * f_out < depth:
            return f_in, f_out
    raise CaseDoesNotFit(f"scratchpad depth {depth} too small for a long kernel at base {base}")


# Destinations: all 4096 distinct if possible, else 256 distinct, else 16 (reused every 16 uops).
_DST_CHOICES = ((_U, _U * _I), (_U, 0), (0, 0))
_SRC_CHOICES = ((_U, _U * _I), (_U, 0), (1, 1), (1, 0), (0, 0))


def _indices(base, f_in, f_out):
    o, i, u = np.meshgrid(np.arange(_O), np.arange(_I), np.arange(_U), indexing="ij")
    return (base + u + f_in * i + f_out * o).reshape(-1)  # loop order: out, in, uop


def gemm_long(cfg, name="gemm_long"):
    """One GEMM of 16 uops x 16 x 16 = 4096 iterations accumulating onto acc values loaded from DRAM."""
    d_in, d_out = _factors(cfg.acc_depth, 0, _DST_CHOICES)
    s_in, s_out = _factors(cfg.inp_depth, 0, _SRC_CHOICES)
    w_in, w_out = _factors(cfg.wgt_depth, 0, ((0, 1),) + _SRC_CHOICES)
    dst, src, wgt = _indices(0, d_in, d_out), _indices(0, s_in, s_out), _indices(0, w_in, w_out)
    n_acc, n_inp, n_wgt = int(dst.max()) + 1, int(src.max()) + 1, int(wgt.max()) + 1
    rng = np.random.default_rng(21)
    x = rng.integers(-128, 128, size=(n_inp, cfg.batch, cfg.block_in))
    w = rng.integers(-128, 128, size=(n_wgt, cfg.block_out, cfg.block_in))
    a0 = rng.integers(-(1 << 20), 1 << 20, size=(n_acc,) + _acc_shape(cfg))
    p = Program(cfg)
    xb, wb, ab = p.alloc(MemId.INP, x), p.alloc(MemId.WGT, w), p.alloc(MemId.ACC, a0)
    p.load(MemId.INP, 0, xb, 0, 1, n_inp, n_inp)
    p.load(MemId.WGT, 0, wb, 0, 1, n_wgt, n_wgt)
    p.dep_push("load", "compute")
    p.dep_pop("load", "compute")
    p.load(MemId.ACC, 0, ab, 0, 1, n_acc, n_acc)
    p.gemm(Kernel([Uop(dst=u, src=u, wgt=u) for u in range(_U)], iter_out=_O, iter_in=_I,
                  dst_factor_out=d_out, dst_factor_in=d_in, src_factor_out=s_out, src_factor_in=s_in,
                  wgt_factor_out=w_out, wgt_factor_in=w_in))
    n_chk = n_acc  # every touched acc element, at full width
    out = _store_acc32(p, n_chk)
    acc = a0.astype(np.int64)
    prod = np.einsum("nbk,nok->nbo", x[src].astype(np.int64), w[wgt].astype(np.int64))
    np.add.at(acc, dst, prod)
    exp = wrap32(acc[:n_chk])
    case = Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), exp, name))
    case.long_insn_uops = _U * _I * _O
    return case


def alu_vec_long(cfg, name="alu_vec_long"):
    """One ALU ADD (vector operand) of 16 uops x 16 x 16 = 4096 iterations; src region disjoint from dst."""
    d_in, d_out = _factors(cfg.acc_depth // 2, 0, _DST_CHOICES)
    dst = _indices(0, d_in, d_out)
    base = int(dst.max()) + 1
    s_in, s_out = _factors(cfg.acc_depth, base, _SRC_CHOICES)
    src = _indices(base, s_in, s_out)
    n_acc = int(src.max()) + 1
    rng = np.random.default_rng(22)
    a0 = rng.integers(-(1 << 20), 1 << 20, size=(n_acc,) + _acc_shape(cfg))
    p = Program(cfg)
    p.load(MemId.ACC, 0, p.alloc(MemId.ACC, a0), 0, 1, n_acc, n_acc)
    p.alu(Kernel([Uop(dst=u, src=base + u) for u in range(_U)], iter_out=_O, iter_in=_I,
                 dst_factor_out=d_out, dst_factor_in=d_in, src_factor_out=s_out, src_factor_in=s_in), AluOp.ADD)
    n_chk = base  # the whole dst region, at full width
    out = _store_acc32(p, n_chk)
    acc = a0.astype(np.int64)
    np.add.at(acc, dst, a0[src].astype(np.int64))  # src region is never written, so the order does not matter
    exp = wrap32(acc[:n_chk])
    case = Case(name, p, lambda dram: _eq(_read_acc32(p, dram, out), exp, name))
    case.long_insn_uops = _U * _I * _O
    return case


# --- registry ------------------------------------------------------------------------------------------
def _named(fn, **kw):
    return lambda cfg, _n=kw.pop("name"): fn(cfg, name=_n, **kw)


_PADS = {"padded_load_y0": ((2, 0), (0, 0)), "padded_load_y1": ((0, 2), (0, 0)),
         "padded_load_x0": ((0, 0), (2, 0)), "padded_load_x1": ((0, 0), (0, 2)),
         "padded_load_all": ((1, 1), (1, 1))}

CASES: dict[str, Callable[[VTAConfig], Case]] = {
    "save_load": save_load,
    **{n: _named(padded_load, name=n, y_pad=yp, x_pad=xp) for n, (yp, xp) in _PADS.items()},
    "padded_load_min": _named(padded_load, name="padded_load_min", y_pad=(1, 1), x_pad=(1, 1), pad_min=True),
    "gemm_1thread": _named(gemm, name="gemm_1thread", threads=1),
    "gemm_2threads": _named(gemm, name="gemm_2threads", threads=2),
    "alu_shl_imm": _named(alu, name="alu_shl_imm", op=AluOp.SHR, imm=-3, ref=lambda a, s: wrap32(a << 3)),
    "alu_max_imm": _named(alu, name="alu_max_imm", op=AluOp.MAX, imm=3, ref=np.maximum),
    "alu_max_vec": _named(alu, name="alu_max_vec", op=AluOp.MAX, vector=True, ref=np.maximum),
    "alu_min_imm": _named(alu, name="alu_min_imm", op=AluOp.MIN, imm=3, ref=np.minimum),
    "alu_min_vec": _named(alu, name="alu_min_vec", op=AluOp.MIN, vector=True, ref=np.minimum),
    "alu_add_imm": _named(alu, name="alu_add_imm", op=AluOp.ADD, imm=3, ref=lambda a, s: wrap32(a + s)),
    "alu_add_vec": _named(alu, name="alu_add_vec", op=AluOp.ADD, vector=True, ref=lambda a, s: wrap32(a + s)),
    "alu_mul_imm": _named(alu, name="alu_mul_imm", op=AluOp.MUL, imm=3, ref=lambda a, s: wrap32(a * s)),
    "alu_mul_vec": _named(alu, name="alu_mul_vec", op=AluOp.MUL, vector=True, ref=lambda a, s: wrap32(a * s)),
    "alu_shr_imm": _named(alu, name="alu_shr_imm", op=AluOp.SHR, imm=2, ref=lambda a, s: a >> 2),
    "alu_shr_vec_neg": _named(alu, name="alu_shr_vec_neg", op=AluOp.SHR, vector=True, lo=-40, hi=41, seed=9,
                              ref=_shr_ref),
    "alu_mul_clp_mov": alu_mul_clp_mov,
    "relu": relu,
    "shift_and_scale": shift_and_scale,
    "acc8_load": acc8_load,
    "gemm_signed_weights": gemm_signed_weights,
    "gemm_back_to_back_same_acc": gemm_back_to_back_same_acc,
    "gemm_hazard_same_acc": _named(gemm_hazard, name="gemm_hazard_same_acc", dsts=[0] * 8),
    "gemm_hazard_abab": _named(gemm_hazard, name="gemm_hazard_abab", dsts=[0, 1] * 4),
    "gemm_hazard_mixed": _named(gemm_hazard, name="gemm_hazard_mixed", dsts=[0, 0, 1, 0, 2, 1, 1, 2]),
    "alu_hazard_vec": _named(alu_hazard, name="alu_hazard_vec", kernels=_ALU_VEC_HAZARDS),
    "alu_hazard_imm": _named(alu_hazard, name="alu_hazard_imm", kernels=_ALU_IMM_HAZARDS),
    "alu_mulshr": alu_mulshr,
    "alu_mulshr_hazard": alu_mulshr_hazard,
    "alu_rshr": alu_rshr,
    "gemm_long": gemm_long,
    "alu_vec_long": alu_vec_long,
}


def case_names(cfg: VTAConfig) -> list[str]:
    """Names of the cases applicable to ``cfg``. Every case adapts its shapes to the scratchpad depths (the
    smallest regression config, 2x8x8 with 64-entry inp/wgt/acc scratchpads, fits all of them), so none is
    skipped for the three regression configs; a case is left out only if building it fails for lack of room."""
    names = []
    for name, builder in CASES.items():
        try:
            builder(cfg)
        except CaseDoesNotFit:
            continue
        names.append(name)
    return names


def build_case(name: str, cfg: VTAConfig) -> Case:
    if name not in CASES:
        raise KeyError(f"unknown VTA case {name!r}; known: {', '.join(CASES)}")
    return CASES[name](cfg)
