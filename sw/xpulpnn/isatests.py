"""The ISA test suite of the core, in the style of riscv-tests: one self-checking program per instruction group.

Each program is assembly built from the macros of ``env/test_macros.h`` (TEST_RR_OP, TEST_LD_OP, ...) with
expected values computed here by small reference functions written from the RISC-V and XpulpNN specs
(independently of the ISS). A program stores 1 to ``tohost`` when every check passes, else ``(n << 1) | 1``
for the first failing check ``n``. Hand-written programs (hardware loops, CSRs and traps...) live in
``programs/isa/*.S``.

    python -m sw.xpulpnn.isatests [--out DIR]     writes the generated sources and prints their names
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

__all__ = ["generated_tests", "handwritten_tests", "all_tests", "build_all", "PROGRAM_DIR"]

M32 = 0xFFFF_FFFF
PROGRAM_DIR = Path(__file__).resolve().parent / "programs" / "isa"
_HEADER = '#include "riscv_test.h"\n#include "test_macros.h"\n#include "xpulpnn_insn.h"\n\nRVTEST_RV32U\nRVTEST_CODE_BEGIN\n'
_FOOTER = "\n  TEST_PASSFAIL\nRVTEST_CODE_END\n\n  .data\nRVTEST_DATA_BEGIN\n{data}\nRVTEST_DATA_END\n"


def s32(v):
    v &= M32
    return v - (1 << 32) if v >> 31 else v


def h(v):
    return f"0x{v & M32:08x}"


# --- RV32IM reference ------------------------------------------------------------------------------------
def _div(a, b):
    a, b = s32(a), s32(b)
    if b == 0:
        return -1
    if a == -(1 << 31) and b == -1:
        return a
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _rem(a, b):
    a, b = s32(a), s32(b)
    if b == 0:
        return a
    if a == -(1 << 31) and b == -1:
        return 0
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


RR = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "sll": lambda a, b: a << (b & 31),
    "slt": lambda a, b: int(s32(a) < s32(b)), "sltu": lambda a, b: int((a & M32) < (b & M32)),
    "xor": lambda a, b: a ^ b, "srl": lambda a, b: (a & M32) >> (b & 31), "sra": lambda a, b: s32(a) >> (b & 31),
    "or": lambda a, b: a | b, "and": lambda a, b: a & b,
}
MULDIV = {
    "mul": lambda a, b: s32(a) * s32(b), "mulh": lambda a, b: (s32(a) * s32(b)) >> 32,
    "mulhsu": lambda a, b: (s32(a) * (b & M32)) >> 32, "mulhu": lambda a, b: ((a & M32) * (b & M32)) >> 32,
    "div": _div, "divu": lambda a, b: M32 if b & M32 == 0 else (a & M32) // (b & M32),
    "rem": _rem, "remu": lambda a, b: a if b & M32 == 0 else (a & M32) % (b & M32),
}
IMM = {"addi": RR["add"], "slti": RR["slt"], "sltiu": RR["sltu"], "xori": RR["xor"], "ori": RR["or"],
       "andi": RR["and"], "slli": RR["sll"], "srli": RR["srl"], "srai": RR["sra"]}

EDGE = [0, 1, 2, 3, 7, -1, -2, -7, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFF8000, 0x00007FFF, 0x0000FFFF,
        0xFFFF0000, 0x12345678, 0xDEADBEEF, 0x55555555, 0xAAAAAAAA, 31, 32, 33]


def _pairs(rng, n_random=24):
    pairs = [(a & M32, b & M32) for a in EDGE[:12] for b in EDGE[:12] if rng.random() < 0.3]
    pairs += [(rng.getrandbits(32), rng.getrandbits(32)) for _ in range(n_random)]
    pairs += [(rng.getrandbits(32), rng.randrange(-40, 40) & M32) for _ in range(8)]
    return pairs


class _Prog:
    def __init__(self, name):
        self.name = name
        self.lines = []
        self.data = []
        self.n = 1

    def t(self, fmt, *args):
        self.n += 1
        self.lines.append("  " + fmt.format(self.n, *args))

    def raw(self, text):
        self.lines.append(text)

    def source(self):
        return _HEADER + "\n".join(self.lines) + _FOOTER.format(data="\n".join(self.data))


def _rr_program(name, fn, rng):
    p = _Prog(f"rv32u{'m' if name in MULDIV else 'i'}-{name}")
    for a, b in _pairs(rng):
        p.t("TEST_RR_OP({}, {}, {}, {}, {})", name, h(fn(a, b)), h(a), h(b))
    a, b = rng.getrandbits(32), rng.getrandbits(32)
    p.t("TEST_RR_SRC1_EQ_DEST({}, {}, {}, {}, {})", name, h(fn(a, b)), h(a), h(b))
    p.t("TEST_RR_SRC2_EQ_DEST({}, {}, {}, {}, {})", name, h(fn(a, b)), h(a), h(b))
    p.t("TEST_RR_SRC12_EQ_DEST({}, {}, {}, {})", name, h(fn(a, a)), h(a))
    for nops in range(3):
        a, b = rng.getrandbits(32), rng.getrandbits(32)
        p.t("TEST_RR_DEST_BYPASS({}, {}, {}, {}, {}, {})", nops, name, h(fn(a, b)), h(a), h(b))
    for n1, n2 in ((0, 0), (0, 1), (1, 0), (0, 2), (2, 0), (1, 1)):
        a, b = rng.getrandbits(32), rng.getrandbits(32)
        p.t("TEST_RR_SRC12_BYPASS({}, {}, {}, {}, {}, {}, {})", n1, n2, name, h(fn(a, b)), h(a), h(b))
        p.t("TEST_RR_SRC21_BYPASS({}, {}, {}, {}, {}, {}, {})", n1, n2, name, h(fn(a, b)), h(a), h(b))
    a = rng.getrandbits(32)
    p.t("TEST_RR_ZEROSRC1({}, {}, {}, {})", name, h(fn(0, a)), h(a))
    p.t("TEST_RR_ZEROSRC2({}, {}, {}, {})", name, h(fn(a, 0)), h(a))
    p.t("TEST_RR_ZERODEST({}, {}, {}, {})", name, h(a), h(a ^ 0x5A5A))
    return p


def _imm_program(name, fn, rng):
    p = _Prog(f"rv32ui-{name}")
    shift = name in ("slli", "srli", "srai")
    imms = list(range(32)) if shift else [0, 1, -1, 2047, -2048, 0x7FF, 5, -5, 0x555, -0x556]
    for imm in imms:
        for a in (rng.getrandbits(32), EDGE[rng.randrange(len(EDGE))] & M32):
            p.t("TEST_IMM_OP({}, {}, {}, {}, {})", name, h(fn(a, imm & (31 if shift else M32))), h(a), imm)
    for _ in range(16):
        a = rng.getrandbits(32)
        imm = rng.randrange(32) if shift else rng.randrange(-2048, 2048)
        p.t("TEST_IMM_OP({}, {}, {}, {}, {})", name, h(fn(a, imm & M32)), h(a), imm)
    a, imm = rng.getrandbits(32), rng.randrange(32) if shift else rng.randrange(-2048, 2048)
    p.t("TEST_IMM_SRC1_EQ_DEST({}, {}, {}, {}, {})", name, h(fn(a, imm & M32)), h(a), imm)
    for nops in range(3):
        p.t("TEST_IMM_DEST_BYPASS({}, {}, {}, {}, {}, {})", nops, name, h(fn(a, imm & M32)), h(a), imm)
        p.t("TEST_IMM_SRC1_BYPASS({}, {}, {}, {}, {}, {})", nops, name, h(fn(a, imm & M32)), h(a), imm)
    p.t("TEST_IMM_ZEROSRC1({}, {}, {}, {})", name, h(fn(0, imm & M32)), imm)
    return p


def _load_store_programs(rng):
    data_bytes = bytes(rng.getrandbits(8) for _ in range(64)) + bytes([0x80, 0x7F, 0xFF, 0x00]) * 4
    words = [int.from_bytes(data_bytes[i:i + 4], "little") for i in range(0, len(data_bytes), 4)]
    data = ["tdat:"] + [f"  .word {h(w)}" for w in words]
    loads = {"lb": (1, True), "lh": (2, True), "lw": (4, True), "lbu": (1, False), "lhu": (2, False)}
    progs = []
    for name, (size, signed) in loads.items():
        p = _Prog(f"rv32ui-{name}")
        p.data = data

        def val(off):
            v = int.from_bytes(data_bytes[off:off + size], "little")
            return s32(v << (32 - 8 * size)) >> (32 - 8 * size) if signed else v
        for off in range(0, len(data_bytes), size):
            p.t("TEST_LD_OP({}, {}, {}, {}, tdat)", name, h(val(off)), off)
        for off in (-size, -2 * size):   # negative offsets from the end
            base = len(data_bytes)
            p.t("TEST_LD_OP({}, {}, {}, {}, tdat + {})", name, h(val(base + off)), off, base)
        for nops in range(3):
            p.t("TEST_LD_DEST_BYPASS({}, {}, {}, {}, {}, tdat)", nops, name, h(val(size * nops)), size * nops)
            p.t("TEST_LD_SRC1_BYPASS({}, {}, {}, {}, {}, tdat)", nops, name, h(val(size)), size)
        progs.append(p)
    stores = {"sb": ("lbu", 1), "sh": ("lhu", 2), "sw": ("lw", 4)}
    for name, (load, size) in stores.items():
        p = _Prog(f"rv32ui-{name}")
        p.data = ["sdat:"] + ["  .word 0xefefefef"] * 16
        for off in range(0, 32, size):
            v = rng.getrandbits(8 * size)
            p.t("TEST_ST_OP({}, {}, {}, {}, {}, sdat)", load, name, h(v), off)
        for n1, n2 in ((0, 0), (0, 1), (1, 0), (2, 0), (0, 2), (1, 1)):
            v = rng.getrandbits(8 * size)
            p.t("TEST_ST_SRC12_BYPASS({}, {}, {}, {}, {}, {}, {}, sdat)", n1, n2, load, name, h(v), 4 * n1)
        # a store must not disturb the neighbouring bytes
        if size < 4:
            p.t("TEST_CASE({}, x14, 0xefefefef, la x1, sdat + 32; li x2, 0; {} x2, 0(x1); lw x14, 4(x1))", name)
            other = 0xEFEFEFEF & ~((1 << (8 * size)) - 1) & M32
            p.t("TEST_CASE({}, x14, {}, la x1, sdat + 40; li x2, 0; {} x2, 0(x1); lw x14, 0(x1))", h(other), name)
        progs.append(p)
    return progs


def _branch_programs(rng):
    conds = {"beq": lambda a, b: a == b, "bne": lambda a, b: a != b, "blt": lambda a, b: s32(a) < s32(b),
             "bge": lambda a, b: s32(a) >= s32(b), "bltu": lambda a, b: a < b, "bgeu": lambda a, b: a >= b}
    progs = []
    for name, cond in conds.items():
        p = _Prog(f"rv32ui-{name}")
        vals = [0, 1, M32, 0x80000000, 0x7FFFFFFF, 2, M32 - 1]
        for a in vals:
            for b in vals:
                macro = "TEST_BR2_OP_TAKEN" if cond(a, b) else "TEST_BR2_OP_NOTTAKEN"
                p.t(macro + "({}, {}, {}, {})", name, h(a), h(b))
        for n1, n2 in ((0, 0), (0, 1), (1, 0), (0, 2), (2, 0), (1, 1)):
            while True:
                a, b = rng.getrandbits(32), rng.getrandbits(32)
                if rng.random() < 0.3:
                    b = a
                if not cond(a, b):
                    break
            p.t("TEST_BR2_SRC12_BYPASS({}, {}, {}, {}, {}, {})", n1, n2, name, h(a), h(b))
        progs.append(p)
    return progs


def _jump_programs():
    p = _Prog("rv32ui-jal")
    p.raw("  li TESTNUM, 2\n  li ra, 0\n  jal x4, 1f\nlink_jal:\n  nop\n  nop\n  j fail\n1:\n"
          "  la x2, link_jal\n  bne x2, x4, fail")
    p.t("TEST_CASE({}, x1, 3, li x1, 1; jal x0, 2f; addi x1, x1, 1; addi x1, x1, 1; 2: addi x1, x1, 1; addi x1, x1, 1)")
    p.n += 1
    p.raw(f"  li TESTNUM, {p.n}\n  j 2f\n1: j 3f\n2: j 1b\n  j fail\n3:")        # backwards jumps
    q = _Prog("rv32ui-jalr")
    q.raw("  li TESTNUM, 2\n  li x6, 0\n  la x5, 1f\n  jalr x6, x5, 0\nlink_jalr:\n  j fail\n1:\n"
          "  la x7, link_jalr\n  bne x6, x7, fail")
    for nops in range(3):
        q.t("TEST_JALR_SRC1_BYPASS({}, {}, jalr)", nops)
    q.t("TEST_CASE({}, x5, 0, la x5, 1f + 1; jalr x0, x5, 0; 1: nop; la x6, 1b; addi x6, x6, 1; sub x5, x5, x6)")
    q.t("TEST_CASE({}, x5, 0, la x6, 1f; jalr x5, x6, 0; 1: la x7, 1b; sub x5, x5, x7)")     # rd == link target
    q.t("TEST_CASE({}, x5, 8, la x5, 1f - 8; jalr x5, x5, 8; nop; 1: la x7, 1b - 4; sub x5, x5, x7; addi x5, x5, 8)")
    u = _Prog("rv32ui-lui")
    for v in (0, 1, 0xFFFFF, 0x80000, 0x7FFFF, 0x12345):
        u.t("TEST_CASE({}, x1, {}, lui x1, {})", h(v << 12), v)
    u.t("TEST_CASE({}, x0, 0, lui x0, 0x80000)")
    a = _Prog("rv32ui-auipc")
    a.t("TEST_CASE({}, a0, 10000, .align 3; lla a0, 1f + 10000; jal a1, 1f; 1: sub a0, a0, a1)")
    a.t("TEST_CASE({}, a0, -10000, .align 3; lla a0, 1f - 10000; jal a1, 1f; 1: sub a0, a0, a1)")
    a.t("TEST_CASE({}, a0, 0x1000, 1: auipc a0, 1; la a1, 1b; sub a0, a0, a1)")
    return [p, q, u, a]


# --- XpulpV2 / XpulpNN reference ------------------------------------------------------------------------------
_WIDTH = {"h": 16, "b": 8, "n": 4, "c": 2}


def lane_values(word, bits, signed):
    """The lanes of ``word`` (lane 0 = least significant bits), as integers."""
    n = 32 // bits
    vals = []
    for i in range(n):
        v = (word >> (bits * i)) & ((1 << bits) - 1)
        if signed and v & (1 << (bits - 1)):
            v -= 1 << bits
        vals.append(v)
    return vals


def ref_dot(a, b, bits, sa, sb):
    return sum(x * y for x, y in zip(lane_values(a, bits, sa), lane_values(b, bits, sb)))


def splat(v, bits):
    v &= (1 << bits) - 1
    return sum(v << (bits * i) for i in range(32 // bits))


_DOT_SIGNS = {"up": (False, False), "usp": (False, True), "sp": (True, True)}


def _dot_programs(rng):
    progs = []
    for op in ("dotup", "dotusp", "dotsp", "sdotup", "sdotusp", "sdotsp"):
        acc = op.startswith("s")
        sa, sb = _DOT_SIGNS[op[4:] if acc else op[3:]]
        p = _Prog(f"xpulp-{op}")
        for w, bits in _WIDTH.items():
            vals = [(0xFFFFFFFF, 0xFFFFFFFF), (0x80008000, 0x80008000), (0x7F7F7F7F, 0x80808080),
                    (0x11111111, 0xEEEEEEEE), (0x01020304, 0x05060708)]
            vals += [(rng.getrandbits(32), rng.getrandbits(32)) for _ in range(10)]
            for a, b in vals:
                c = rng.getrandbits(32)          # dot* must overwrite it, sdot* accumulate onto it
                for sc in (False, True):
                    mn = f"pv.{op}{'.sc' if sc else ''}.{w}"
                    r = ref_dot(a, splat(b, bits) if sc else b, bits, sa, sb) + (c if acc else 0)
                    p.t("TEST_RRR_OP({}, {}, {}, {}, {}, {})", mn, h(r), h(c), h(a), h(b))
            if w in "hb":
                imms = list(range(0, 64) if not (sa or sb) else range(-32, 32))
                for imm in imms[::7] + [imms[0], imms[-1]]:
                    a, c = rng.getrandbits(32), rng.getrandbits(32)
                    r = ref_dot(a, splat(imm, bits), bits, sa, sb) + (c if acc else 0)
                    p.t("TEST_RI_ACC_OP({}, pv.{}.sci.{}, {}, {}, {}, {})", op, w, h(r), h(c), h(a), imm)
            if not acc:       # result consumed right away / one and two instructions later
                for nops in range(3):
                    a, b = rng.getrandbits(32), rng.getrandbits(32)
                    p.t("TEST_RR_DEST_BYPASS({}, {}, pv.{}.{}, {}, {}, {})", nops, op, w,
                        h(ref_dot(a, b, bits, sa, sb)), h(a), h(b))
            else:             # back-to-back accumulation into the same register
                a, b, c = rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32)
                r = c + 3 * ref_dot(a, b, bits, sa, sb)
                ins = f"pv.{op}.{w} x14, x1, x2"
                p.t(f"TEST_CASE({{}}, x14, {{}}, li x14, {{}}; li x1, {{}}; li x2, {{}}; {ins}; {ins}; {ins})",
                    h(r), h(c), h(a), h(b))
        progs.append(p)
    return progs


def _postinc_program(rng):
    p = _Prog("xpulp-postinc")
    data_bytes = bytes(rng.getrandbits(8) for _ in range(64))
    p.data = ["pdat:"] + [f"  .byte {b}" for b in data_bytes] + ["sbuf:", "  .space 64"]
    loads = {"lb": (1, True), "lh": (2, True), "lw": (4, True), "lbu": (1, False), "lhu": (2, False)}

    def val(off, size, signed):
        v = int.from_bytes(data_bytes[off:off + size], "little")
        return s32(v << (32 - 8 * size)) >> (32 - 8 * size) if signed else v

    for name, (size, signed) in loads.items():
        for off, inc in ((0, size), (8, -size), (4 * size, 12), (16, 0)):
            # loaded value comes from the old pointer; the pointer moves by the increment
            p.t("TEST_CASE({}, x14, {}, la x1, pdat + {}; p.{} x14, {}, x1)", h(val(off, size, signed)), off, name, inc)
            p.t("TEST_CASE({}, x6, {}, la x1, pdat + {}; p.{} x14, {}, x1; la x7, pdat; sub x6, x1, x7)",
                h(off + inc), off, name, inc)
            p.t("TEST_CASE({}, x6, {}, la x1, pdat + {}; li x2, {}; p.{}.rr x14, x2, x1; la x7, pdat; sub x6, x1, x7)",
                h(off + inc), off, inc, name)
            p.t("TEST_CASE({}, x14, {}, la x1, pdat + {}; li x2, {}; p.{}.rr x14, x2, x1)",
                h(val(off, size, signed)), off, inc, name)
        # walking a pointer: three loads back to back, the sum of their values
        tot = sum(val(size * i, size, signed) for i in range(3))
        p.t("TEST_CASE({}, x6, {}, la x1, pdat; p.{n} x14, {s}, x1; p.{n} x15, {s}, x1; p.{n} x16, {s}, x1; "
            "add x6, x14, x15; add x6, x6, x16)".replace("{n}", name).replace("{s}", str(size)), h(tot))
    for name, (load, size) in {"sb": ("lbu", 1), "sh": ("lhu", 2), "sw": ("lw", 4)}.items():
        v = rng.getrandbits(8 * size)
        p.t("TEST_CASE({}, x14, {}, la x1, sbuf + 8; li x2, {}; p.{} x2, {}, x1; {} x14, {}(x1))",
            h(v), h(v), name, 2 * size, load, -2 * size)
        p.t("TEST_CASE({}, x6, {}, la x1, sbuf + 8; li x2, 1; p.{} x2, {}, x1; la x7, sbuf; sub x6, x1, x7)",
            h(8 - size), name, -size)
    # the updated pointer feeds the next instruction immediately
    p.t("TEST_CASE({}, x14, {}, la x1, pdat; p.lw x15, 4, x1; lw x14, 0(x1))", h(val(4, 4, True)))
    # post-increment with rd = x0 still moves the pointer
    p.t("TEST_CASE({}, x6, 4, la x1, pdat; p.lw x0, 4, x1; la x7, pdat; sub x6, x1, x7)")
    return p


_MLS_SIGNS = {"up": (False, False), "usp": (True, False), "sup": (False, True), "sp": (True, True)}


def _mls_programs(rng):
    """MAC&LOAD: refill order, pointer update, dot with the pre-refill values, back-to-back chains."""
    progs = []
    for kind, (sa, sw) in _MLS_SIGNS.items():
        p = _Prog(f"xpulpnn-mlsdot{kind}")
        words = [rng.getrandbits(32) for _ in range(64)]
        p.data = ["mdat:"] + [f"  .word {h(w)}" for w in words]
        for w, bits in _WIDTH.items():
            mn = f"pv.mlsdot{kind}.{w}"
            nn = [0] * 6
            ptr = 0
            p.n += 1
            p.raw(f"  li TESTNUM, {p.n}\n  la x10, mdat")
            # fill A0, A1, W0..W3 with loads only (rd = x0); A-update with index a, W-update with index w
            for idx in range(6):
                ctrl = (1 << 3 | idx) if idx < 2 else (1 << 4 | (idx - 2) << 1)
                p.raw(f"  {mn} x0, x10, {ctrl}")
                nn[idx] = words[ptr]
                ptr += 1
            # pointer moved by 4 per load
            p.raw(f"  la x7, mdat + {4 * ptr}\n  bne x10, x7, fail")
            for step in range(12):
                a_idx, w_idx = rng.randrange(2), rng.randrange(4)
                upd = rng.choice(["none", "a", "w", "both"])
                ctrl = a_idx | w_idx << 1 | (upd in ("a", "both")) << 3 | (upd in ("w", "both")) << 4
                acc = rng.getrandbits(32)
                r = acc + ref_dot(nn[a_idx], nn[2 + w_idx], bits, sa, sw)
                p.n += 1
                p.raw(f"  li TESTNUM, {p.n}\n  li x14, {h(acc)}\n  {mn} x14, x10, {ctrl}\n"
                      f"  li x7, {h(r)}\n  bne x14, x7, fail")
                if upd != "none":
                    dst = a_idx if upd in ("a", "both") else 2 + w_idx   # A-update wins
                    nn[dst] = words[ptr]
                    ptr += 1
                p.raw(f"  la x7, mdat + {4 * ptr}\n  bne x10, x7, fail")
            # back to back: accumulate into one register, each instruction refilling what the next one reads
            acc = rng.getrandbits(32)
            p.n += 1
            p.raw(f"  li TESTNUM, {p.n}\n  li x15, {h(acc)}")
            for step in range(8):
                # pairs of steps use the same registers: the second reads what the first refilled
                a_idx, w_idx = (step >> 1) & 1, (step >> 2) & 3
                upd_a = step % 2 == 0
                acc += ref_dot(nn[a_idx], nn[2 + w_idx], bits, sa, sw)
                p.raw(f"  {mn} x15, x10, {a_idx | w_idx << 1 | (8 if upd_a else 16)}")
                nn[a_idx if upd_a else 2 + w_idx] = words[ptr]
                ptr += 1
            p.raw(f"  li x7, {h(acc)}\n  bne x15, x7, fail")
            # the refilled value is visible to the very next instruction (no load-use bubble)
            acc = rng.getrandbits(32)
            p.n += 1
            nn[0] = words[ptr]
            ptr += 1
            r = acc + ref_dot(nn[0], nn[2], bits, sa, sw)
            p.raw(f"  li TESTNUM, {p.n}\n  li x15, {h(acc)}\n  {mn} x0, x10, 8\n  {mn} x15, x10, 0\n"
                  f"  li x7, {h(r)}\n  bne x15, x7, fail")
            # a MAC&LOAD without update leaves the pointer
            p.raw(f"  la x7, mdat + {4 * ptr}\n  bne x10, x7, fail")
        progs.append(p)
    return progs


def generated_tests(seed=2024):
    """name -> assembly source of every generated test program."""
    rng = random.Random(seed)
    progs = [_rr_program(n, f, rng) for n, f in {**RR, **MULDIV}.items()]
    progs += [_imm_program(n, f, rng) for n, f in IMM.items()]
    progs += _load_store_programs(rng)
    progs += _branch_programs(rng)
    progs += _jump_programs()
    progs += _dot_programs(rng)
    progs.append(_postinc_program(rng))
    progs += _mls_programs(rng)
    return {p.name: p.source() for p in progs}


def handwritten_tests():
    """name -> path of the hand-written test programs in ``programs/isa``."""
    return {f"{p.stem}": p for p in sorted(PROGRAM_DIR.glob("*.S"))}


def write_generated(out_dir):
    """Write the generated sources (only when changed); returns name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in generated_tests().items():
        path = out / f"{name}.S"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        paths[name] = path
    return paths


def all_tests(build_dir=None):
    """name -> source path of every ISA test (generated ones written under ``build/xpulpnn/isa``)."""
    from sw.xpulpnn.toolchain import BUILD_DIR
    paths = write_generated(Path(build_dir or BUILD_DIR) / "isa")
    paths.update(handwritten_tests())
    return dict(sorted(paths.items()))


def build_all(cfg=None, names=None):
    """Compile every ISA test; returns name -> ELF path."""
    from sw.xpulpnn.toolchain import compile_program
    tests = all_tests()
    if names:
        tests = {k: v for k, v in tests.items() if k in names}
    return {name: compile_program([src]) for name, src in tests.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="folder for the generated sources (default build/xpulpnn/isa)")
    args = ap.parse_args(argv)
    for name, path in all_tests(args.out).items():
        print(f"{name:24} {path}")


if __name__ == "__main__":
    main()
