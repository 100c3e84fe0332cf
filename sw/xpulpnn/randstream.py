"""Random instruction streams for RTL-vs-ISS differential testing.

A stream is a :class:`~sw.xpulpnn.program.Program` built directly from the Python encoders: random register
values, then a mix of ALU/M-extension operations, loads/stores around a base register, post-increment accesses,
SIMD dot products (every width, mode and signedness), MAC&LOAD sequences, short forward branches and jumps,
CSR accesses and (nested) hardware loops, ending with a store of 1 to ``tohost``. Sources are drawn from
recently written registers half of the time so that back-to-back dependencies (bypasses) are frequent.
About 2 % of streams end with an illegal instruction instead, so that error reports are compared too.

Reserved registers: x31 = data base, x30 = post-increment pointer, x29 = MAC&LOAD pointer.
"""

from __future__ import annotations

import random

from sw.xpulpnn import isa
from sw.xpulpnn.config import RAM_BASE, XpulpNNConfig
from sw.xpulpnn.program import Program

__all__ = ["random_stream", "CODE_BYTES", "DATA_OFFSET", "DATA_BYTES"]

CODE_BYTES = 0x1F00
TOHOST_OFFSET = 0x1F00
DATA_OFFSET = 0x2000
DATA_BYTES = 0x1000
_WORK = list(range(1, 29))           # registers random instructions may write
_BASE, _PPTR, _MPTR = 31, 30, 29

_RR = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and"]
_RR_F = {"add": (0, 0), "sub": (0, 0x20), "sll": (1, 0), "slt": (2, 0), "sltu": (3, 0), "xor": (4, 0),
         "srl": (5, 0), "sra": (5, 0x20), "or": (6, 0), "and": (7, 0)}
_IMM = {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}
_LOADS = {"lb": (0, 1), "lh": (1, 2), "lw": (2, 4), "lbu": (4, 1), "lhu": (5, 2)}
_STORES = {"sb": (0, 1), "sh": (1, 2), "sw": (2, 4)}


class _Gen:
    def __init__(self, rng: random.Random, cfg: XpulpNNConfig):
        self.rng = rng
        self.cfg = cfg
        self.recent = []

    def rd(self):
        r = self.rng.choice(_WORK)
        self.recent = (self.recent + [r])[-4:]
        return r

    def rs(self):
        if self.recent and self.rng.random() < 0.5:
            return self.rng.choice(self.recent)
        return self.rng.choice([0] + _WORK)

    # --- single instructions (lists of words) ---------------------------------------------------------------
    def alu(self):
        r = self.rng
        k = r.random()
        if k < 0.45:
            f3, f7 = _RR_F[r.choice(_RR)]
            return [isa.r_type(isa.OP.OP, f3, f7, self.rd(), self.rs(), self.rs())]
        if k < 0.75:
            f3 = r.choice(list(_IMM.values()))
            return [isa.i_type(isa.OP.OP_IMM, f3, self.rd(), self.rs(), r.randrange(-2048, 2048))]
        if k < 0.85:
            f3, f7 = r.choice([(1, 0), (5, 0), (5, 0x20)])
            return [isa.r_type(isa.OP.OP_IMM, f3, f7, self.rd(), self.rs(), r.randrange(32))]
        if k < 0.93:
            return [isa.u_type(isa.OP.LUI, self.rd(), r.getrandbits(20))]
        return [isa.u_type(isa.OP.AUIPC, self.rd(), r.getrandbits(20))]

    def muldiv(self):
        return [isa.r_type(isa.OP.OP, self.rng.randrange(8), 1, self.rd(), self.rs(), self.rs())]

    def load(self):
        name = self.rng.choice(list(_LOADS))
        f3, size = _LOADS[name]
        off = self.rng.randrange(0, 2048 // size) * size
        return [isa.i_type(isa.OP.LOAD, f3, self.rd(), _BASE, off)]

    def store(self):
        f3, size = _STORES[self.rng.choice(list(_STORES))]
        off = self.rng.randrange(0, 2048 // size) * size
        return [isa.s_type(isa.OP.STORE, f3, _BASE, self.rs(), off)]

    def postinc(self):
        r = self.rng
        words = [isa.i_type(isa.OP.OP_IMM, 0, _PPTR, _BASE, r.randrange(64, 1024) & ~3)]
        for _ in range(r.randrange(1, 4)):
            k = r.random()
            if k < 0.5:
                name = r.choice(list(_LOADS))
                words.append(isa.p_load(name, self.rd(), _PPTR, 4 * r.randrange(-4, 5)))
            elif k < 0.7:
                name = r.choice(list(_LOADS))
                words.append(isa.i_type(isa.OP.OP_IMM, 0, 28, 0, 4 * r.randrange(-4, 5)))
                words.append(isa.p_load_rr(name, self.rd(), _PPTR, 28))
            else:
                name = r.choice(list(_STORES))
                words.append(isa.p_store(name, self.rs(), _PPTR, 4 * r.randrange(-4, 5)))
        return words

    def dot(self):
        r = self.rng
        op = r.choice(list(isa.DOT_FUNCT5))
        widths = "hbnc" if self.cfg.xpulpnn else "hb"
        w = r.choice(widths)
        if w in "hb" and r.random() < 0.25:
            lo, hi = (0, 63) if op in ("dotup", "sdotup") else (-32, 31)
            return [isa.pv_dot_sci(op, w, self.rd(), self.rs(), r.randint(lo, hi))]
        return [isa.pv_dot(op, w, self.rd(), self.rs(), self.rs(), sc=r.random() < 0.3)]

    def mls(self):
        r = self.rng
        words = [isa.i_type(isa.OP.OP_IMM, 0, _MPTR, _BASE, r.randrange(0, 1024) & ~3)]
        for _ in range(r.randrange(1, 6)):
            kind = r.choice(list(isa.MLS_FUNCT7))
            ctrl = r.randrange(32)
            rd = 0 if r.random() < 0.2 else self.rd()
            words.append(isa.pv_mlsdot(kind, r.choice("hbnc"), rd, _MPTR, ctrl))
        return words

    def csr(self):
        r = self.rng
        k = r.random()
        if k < 0.4:
            return [isa.i_type(isa.OP.SYSTEM, 2, self.rd(), 0, isa.CSR.MINSTRET)]     # csrr minstret
        if k < 0.7:
            return [isa.i_type(isa.OP.SYSTEM, 1, self.rd(), self.rs(), isa.CSR.MSCRATCH)]  # csrrw
        return [isa.i_type(isa.OP.SYSTEM, r.choice([2, 3, 6, 7]), self.rd(), r.randrange(32), isa.CSR.MSCRATCH)]

    def simple(self):
        k = self.rng.random()
        if k < 0.5:
            return self.alu()
        if k < 0.6:
            return self.load()
        if k < 0.7:
            return self.store()
        if k < 0.8 and self.cfg.xpulpv2:
            return self.dot()
        if k < 0.9:
            return [isa.r_type(isa.OP.OP, self.rng.randrange(4), 1, self.rd(), self.rs(), self.rs())]
        return self.alu()

    # --- control flow -----------------------------------------------------------------------------------
    def branch(self):
        r = self.rng
        skipped = [w for _ in range(r.randrange(1, 3)) for w in self.simple()]
        f3 = r.choice([0, 1, 4, 5, 6, 7])
        return [isa.b_type(f3, self.rs(), self.rs(), 4 * (len(skipped) + 1))] + skipped

    def jump(self):
        skipped = self.simple()
        if self.rng.random() < 0.5:
            return [isa.j_type(self.rd(), 4 * (len(skipped) + 1))] + skipped
        # jalr through auipc: rd = pc + 12 + 4*len
        t = self.rd()
        return ([isa.u_type(isa.OP.AUIPC, t, 0), isa.i_type(isa.OP.JALR, 0, self.rd(), t, 4 * (len(skipped) + 2))]
                + skipped)

    def body(self, n):
        words = []
        while len(words) < n:
            words += self.simple()
        return words

    def hwloop(self):
        r = self.rng
        if r.random() < 0.4:   # nested: outer level 1 (count from a register), inner level 0
            inner = self.body(r.randrange(3, 6))
            tail = self.body(2)
            inner_loop = [isa.lp_setupi(0, r.randrange(1, 4), 4 * len(inner))] + inner
            outer_body = self.body(r.randrange(0, 3)) + inner_loop + tail
            cnt = 27
            return ([isa.i_type(isa.OP.OP_IMM, 0, cnt, 0, r.randrange(1, 4)),
                     isa.lp_setup(1, cnt, 4 * len(outer_body))] + outer_body)
        body = self.body(r.randrange(3, 8))
        return [isa.lp_setupi(0, r.randrange(1, 6), 4 * len(body))] + body

    def item(self):
        r = self.rng
        kinds = [(self.alu, 30), (self.muldiv, 6), (self.load, 10), (self.store, 8), (self.branch, 6),
                 (self.jump, 3), (self.csr, 3)]
        if self.cfg.xpulpv2:
            kinds += [(self.postinc, 6), (self.dot, 12), (self.hwloop, 4)]
        if self.cfg.xpulpnn:
            kinds += [(self.mls, 8)]
        fns, weights = zip(*kinds)
        return r.choices(fns, weights)[0]()


def _li(rd, value):
    value &= 0xFFFF_FFFF
    lo = isa.sext(value, 12)
    hi = ((value - lo) >> 12) & 0xFFFFF
    return [isa.u_type(isa.OP.LUI, rd, hi), isa.i_type(isa.OP.OP_IMM, 0, rd, rd, lo)]


def random_stream(seed: int, cfg: XpulpNNConfig, *, length=120) -> Program:
    """A random program of about ``length`` instructions after its set-up (deterministic in ``seed``).

    Raises
    ------
    ValueError
        If the RAM is smaller than the 16 KiB a stream needs.
    """
    if cfg.ram_bytes < DATA_OFFSET + DATA_BYTES:
        raise ValueError(f"random streams need ram_kib >= 16, not {cfg.ram_kib}")
    rng = random.Random(seed)
    g = _Gen(rng, cfg)
    data_addr = RAM_BASE + DATA_OFFSET
    tohost = RAM_BASE + TOHOST_OFFSET
    code = _li(_BASE, data_addr)
    for reg in _WORK:
        code += _li(reg, rng.getrandbits(32))
    if cfg.xpulpnn:      # fill the NN register file
        code += _li(_MPTR, data_addr + 2048)
        for idx in range(6):
            ctrl = isa.nn_ctrl(a_update=True, a_index=idx) if idx < 2 else isa.nn_ctrl(w_update=True, w_index=idx - 2)
            code.append(isa.pv_mlsdot("sp", "b", 0, _MPTR, ctrl))
    start = len(code)
    while len(code) - start < length:
        code += g.item()
    if rng.random() < 0.02:
        code.append(0xFFFF_FFFF)          # illegal: the run must stop with status "error" at this pc
    code += _li(28, tohost) + [isa.i_type(isa.OP.OP_IMM, 0, 27, 0, 1), isa.s_type(isa.OP.STORE, 2, 28, 27, 0)]
    code.append(isa.j_type(0, 0))
    if 4 * len(code) > CODE_BYTES:
        raise ValueError(f"stream {seed} is {4 * len(code)} bytes; at most {CODE_BYTES}")
    text = b"".join(w.to_bytes(4, "little") for w in code)
    data = bytes(rng.getrandbits(8) for _ in range(DATA_BYTES))
    return Program([(RAM_BASE, text), (tohost, bytes(8)), (data_addr, data)], RAM_BASE, tohost,
                   {"tohost": (tohost, 8)}, f"random-{seed}")
