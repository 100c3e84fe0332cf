"""The benchmark kernels: the 4x2 MatMul inner loop in five forms and a complete int8 matrix multiply.

Each kernel is an assembly program (``programs/kernels``) plus a data file generated here from numpy arrays in
the layout the form needs. After a run, :func:`check_inner` / :func:`check_matmul` read the results back from
the RAM (``ram`` of a run with ``dump_bytes``), compare them with numpy and compute MAC/cycle.

Inner-loop forms (``INNER``): ``rv32im`` (lb/mul/add, one K element per iteration), ``xpulp-b`` (6 p.lw +
8 pv.sdotsp.b in a hardware loop, 32 MACs per 14 instructions), ``mls-b``, ``mls-n``, ``mls-c`` (MAC&LOAD,
8 + 1 instructions for 32, 64 or 128 MACs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sw.xpulpnn.config import RAM_BASE
from sw.xpulpnn.toolchain import BUILD_DIR, compile_program

__all__ = ["INNER", "InnerKernel", "build_inner", "check_inner", "build_matmul", "check_matmul", "pack_words"]

KERNEL_DIR = Path(__file__).resolve().parent / "programs" / "kernels"

#: form -> (kernel define, MAC&LOAD mnemonic or None, lane bits, instructions per iteration)
INNER = {
    "rv32im": ("KERNEL_RV32IM", None, 8, 26),
    "xpulp-b": ("KERNEL_XPULP", None, 8, 14),
    "mls-b": ("KERNEL_MLS", "pv.mlsdotsp.b", 8, 9),
    "mls-n": ("KERNEL_MLS", "pv.mlsdotsp.n", 4, 9),
    "mls-c": ("KERNEL_MLS", "pv.mlsdotsp.c", 2, 9),
}


def pack_words(values, bits):
    """Pack signed ``bits``-wide integers (a multiple of 32 // bits of them) into little-endian words (lane 0 low)."""
    v = np.asarray(values, dtype=np.int64).reshape(-1, 32 // bits) & ((1 << bits) - 1)
    shifts = np.arange(32 // bits, dtype=np.int64) * bits
    return [int(x) for x in (v << shifts).sum(axis=1)]


def _random(rng, shape, bits):
    return rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=shape, dtype=np.int64)


def _words_asm(name, words, pad_words=16):
    lines = [f"  .globl {name}", f"{name}:"]
    for i in range(0, len(words), 8):
        lines.append("  .word " + ", ".join(f"0x{w & 0xFFFFFFFF:08x}" for w in words[i:i + 8]))
    if pad_words:   # MAC&LOAD prefetches one iteration ahead
        lines.append(f"  .space {4 * pad_words}")
    return "\n".join(lines)


@dataclass
class InnerKernel:
    """A built inner-loop kernel: its ELF, the operands and the expected accumulators."""

    form: str
    elf: Path
    iters: int
    w: np.ndarray       # 4 x K
    a: np.ndarray       # 2 x K
    bits: int

    @property
    def k(self):
        return self.w.shape[1]

    @property
    def macs(self):
        return 8 * self.k

    @property
    def macs_per_iter(self):
        return self.macs // self.iters

    def expected(self):
        return (self.w @ self.a.T).astype(np.int64)      # acc[r][c]


def build_inner(form, iters=64, seed=1, build_dir=BUILD_DIR) -> InnerKernel:
    """Generate data for ``form`` with ``iters`` loop iterations and build its ELF."""
    if form not in INNER:
        raise ValueError(f"form must be one of {', '.join(INNER)}, not {form!r}")
    if iters < 2 or iters % 2:
        raise ValueError(f"iters must be an even number >= 2, not {iters!r}")
    define, insn, bits, _ = INNER[form]
    per_iter = 1 if form == "rv32im" else 32 // bits
    k = iters * per_iter
    rng = np.random.default_rng(seed)
    w, a = _random(rng, (4, k), bits), _random(rng, (2, k), bits)
    if form == "rv32im":
        wdat = pack_words(w.reshape(-1), 8)
        adat = pack_words(a.reshape(-1), 8)
        defines = [define, f"KSTRIDE={k}"]
    else:
        epw = 32 // bits
        wdat = [x for kw in range(iters) for r in range(4) for x in pack_words(w[r, kw * epw:(kw + 1) * epw], bits)]
        adat = [x for kw in range(iters) for c in range(2) for x in pack_words(a[c, kw * epw:(kw + 1) * epw], bits)]
        defines = [define] + ([f"MLS_INSN={insn}"] if insn else [])
    out = Path(build_dir) / "kernels"
    out.mkdir(parents=True, exist_ok=True)
    data = out / f"inner-{form}-{iters}-{seed}.data.S"
    text = ("  .data\n  .align 4\n  .globl kernel_iters\nkernel_iters: .word %d\n" % iters
            + _words_asm("wdat", wdat) + "\n" + _words_asm("adat", adat) + "\n")
    if not data.exists() or data.read_text() != text:
        data.write_text(text)
    elf = compile_program([KERNEL_DIR / "inner4x2.S", data], out / f"inner-{form}-{iters}-{seed}.elf",
                          defines=defines)
    return InnerKernel(form, elf, iters, w, a, bits)


def _words_at(ram: bytes, program, symbol, n):
    off = program.symbol(symbol) - RAM_BASE
    return np.frombuffer(ram[off:off + 4 * n], dtype="<i4").astype(np.int64)


def check_inner(kernel: InnerKernel, program, ram: bytes) -> dict:
    """Read the results of a run: accumulators vs numpy, loop cycles and MAC/cycle.

    Returns
    -------
    dict
        ``ok`` (accumulators match), ``cycles`` (full loop), ``cycles_per_iter`` (steady state, from the
        difference between the full and the half-length loop), ``mac_per_cycle`` (whole loop incl. set-up)
        and ``mac_per_cycle_steady``.
    """
    res = _words_at(ram, program, "result", 10)
    acc = res[2:10].reshape(4, 2)
    exp = kernel.expected()
    exp32 = ((exp + (1 << 31)) % (1 << 32)) - (1 << 31)
    full, half = int(res[0]), int(res[1])
    per_iter = (full - half) / (kernel.iters - kernel.iters // 2)
    return {"form": kernel.form, "ok": bool(np.array_equal(acc, exp32)), "iters": kernel.iters,
            "macs": kernel.macs, "cycles": full, "cycles_per_iter": per_iter,
            "mac_per_cycle": kernel.macs / full, "mac_per_cycle_steady": kernel.macs_per_iter / per_iter}


def build_matmul(m=64, n=64, k=64, *, form="mls", seed=1, build_dir=BUILD_DIR):
    """Build the int8 matrix multiply (``form`` "mls" or "xpulp"); returns (elf, W, A)."""
    if m % 4 or n % 2 or k % 4 or min(m, n, k) <= 0:
        raise ValueError(f"m must be a multiple of 4, n of 2 and k of 4, not {m}x{n}x{k}")
    if form not in ("mls", "xpulp"):
        raise ValueError(f"form must be 'mls' or 'xpulp', not {form!r}")
    rng = np.random.default_rng(seed)
    w, a = _random(rng, (m, k), 8), _random(rng, (k, n), 8)
    kw = k // 4
    wdat = [x for rb in range(m // 4) for j in range(kw) for r in range(4)
            for x in pack_words(w[4 * rb + r, 4 * j:4 * j + 4], 8)]
    adat = [x for cb in range(n // 2) for j in range(kw) for c in range(2)
            for x in pack_words(a[4 * j:4 * j + 4, 2 * cb + c], 8)]
    out = Path(build_dir) / "kernels"
    out.mkdir(parents=True, exist_ok=True)
    tag = f"matmul-{form}-{m}x{n}x{k}-{seed}"
    data = out / f"{tag}.data.S"
    text = (f"  .data\n  .align 4\n  .globl mm_dims\nmm_dims: .word {m}, {n}, {kw}\n" + _words_asm("wdat", wdat)
            + "\n" + _words_asm("adat", adat) + f"\n  .globl C\n  .align 4\nC: .space {4 * m * n}\n")
    if not data.exists() or data.read_text() != text:
        data.write_text(text)
    defines = ["KERNEL_MLS", "MLS_INSN=pv.mlsdotsp.b"] if form == "mls" else ["KERNEL_XPULP"]
    elf = compile_program([KERNEL_DIR / "matmul.S", data], out / f"{tag}.elf", defines=defines)
    return elf, w, a


def check_matmul(program, ram: bytes, w, a) -> dict:
    """C read back from the RAM vs numpy ``w @ a``; cycles and MAC/cycle of the whole multiply."""
    m, n = w.shape[0], a.shape[1]
    c = _words_at(ram, program, "C", m * n).reshape(m, n)
    exp = w @ a
    cycles = int(_words_at(ram, program, "result", 1)[0])
    macs = m * n * w.shape[1]
    return {"ok": bool(np.array_equal(c, exp)), "macs": macs, "cycles": cycles, "mac_per_cycle": macs / cycles,
            "mismatches": int((c != exp).sum())}


def dump_size(program) -> int:
    """Bytes from RAM_BASE that cover every initialised segment (what a run must dump to read results)."""
    return max(a + len(d) for a, d in program.segments) - RAM_BASE
