"""Instruction-set simulator of the ``xpulpnn`` core: the golden model, written from the spec
(the XpulpNN specification (docs/xpulpnn.md) and the RISC-V unprivileged/privileged specs), never from the RTL.

Untimed: one instruction per step; ``cycles`` reported by the ISS (and read through ``mcycle``) is the
number of instructions executed. Architectural choices where the specs leave room (docs/xpulpnn.md):

* Machine mode only. ``ecall``/``ebreak`` trap to ``mtvec & ~3`` with ``mcause`` 11/3 and ``mepc = pc``;
  ``mret`` returns to ``mepc``. They count as retired instructions. Unknown CSRs read as zero and ignore
  writes; counters ignore writes. Illegal instructions and out-of-RAM accesses stop the run with status
  ``error`` (no trap). Scalar loads and stores (``lb``..``sw`` and the post-increment ``p.*`` forms) may be
  misaligned: they access the bytes ``addr .. addr + size - 1`` (little-endian), as the riscv-tests
  ``ma_data`` program expects of a core with hardware misaligned support; a misaligned MAC&LOAD refill
  stops the run with status ``error``.
* Hardware loops: after an instruction at ``pc`` executes, the first level L (0 before 1) with
  ``lpcount[L] != 0`` and ``pc == lpend[L]`` (values before the instruction) counts down; if the count is
  still non-zero and the instruction did not transfer control, the next pc is ``lpstart[L]``. An instruction
  that itself writes ``lpcount[L]`` overrides the count-down.
* ``.sci`` immediates: sign-extended for usp/sp, zero-extended for up; replicated to every lane.
* A store of a non-zero value to the ``tohost`` word ends the run after the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sw.xpulpnn.config import RAM_BASE, XpulpNNConfig
from sw.xpulpnn.isa import CSR, MLS_SIGNS, DOT_SIGNS, NN_RF_SIZE, decode, sext
from sw.xpulpnn.program import Program, status_of_tohost

__all__ = ["ISS", "RunResult", "dot", "ERROR_MESSAGES"]

M32 = 0xFFFF_FFFF

#: Error codes shared with the RTL's ``error_code`` output (the RTL reports the same numbers).
ERROR_MESSAGES = {
    1: "illegal instruction",
    2: "instruction fetch outside the RAM or misaligned",
    3: "misaligned load/store",
    4: "load/store outside the RAM",
}


def _lanes(v, bits, signed):
    mask = (1 << bits) - 1
    out = []
    for i in range(32 // bits):
        x = (v >> (i * bits)) & mask
        out.append(x - (1 << bits) if signed and x >> (bits - 1) else x)
    return out


def dot(a: int, b: int, bits: int, signed_a: bool, signed_b: bool) -> int:
    """Sum over lanes of ``a[i] * b[i]`` with ``bits``-wide lanes (lane 0 in the low bits); unbounded int."""
    return sum(x * y for x, y in zip(_lanes(a, bits, signed_a), _lanes(b, bits, signed_b)))


def _replicate(v, bits):
    v &= (1 << bits) - 1
    out = 0
    for i in range(32 // bits):
        out |= v << (i * bits)
    return out


@dataclass
class RunResult:
    """Outcome of a run (the fields of result.json plus the trace)."""

    status: str
    tohost: int
    cycles: int
    instret: int
    pc: int
    message: str
    trace: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"status": self.status, "tohost": self.tohost, "cycles": self.cycles, "instret": self.instret,
                "pc": self.pc, "message": self.message}


class _Stop(Exception):
    def __init__(self, code, detail):
        self.code = code
        self.detail = detail


class ISS:
    """The golden model of the core.

    Parameters
    ----------
    cfg : XpulpNNConfig
    program : Program
        Loaded into a fresh zeroed RAM (checked against the RAM map).
    trace : bool
        Record one commit-log line per retired instruction (format in :mod:`sw.xpulpnn.trace`).

    Attributes
    ----------
    x : list of int
        The 32 integer registers (unsigned 32-bit values).
    nn : list of int
        The NN register file (A0, A1, W0..W3).
    mem : bytearray
        The RAM.
    """

    def __init__(self, cfg: XpulpNNConfig, program: Program, *, trace=False):
        program.check(cfg)
        self.cfg = cfg
        self.program = program
        self.mem = bytearray(cfg.ram_bytes)
        for addr, data in program.segments:
            self.mem[addr - RAM_BASE:addr - RAM_BASE + len(data)] = data
        self.x = [0] * 32
        self.nn = [0] * NN_RF_SIZE
        self.pc = program.entry
        self.lp_start = [0, 0]
        self.lp_end = [0, 0]
        self.lp_count = [0, 0]
        self.mstatus = 0
        self.mtvec = 0
        self.mscratch = 0
        self.mepc = 0
        self.mcause = 0
        self.mtval = 0
        self.instret = 0
        self.tracing = trace
        self.trace = []
        self._decoded = {}

    # --- memory ---------------------------------------------------------------------------------------------
    def _check(self, addr, size, aligned=True):
        if aligned and addr & (size - 1):
            raise _Stop(3, f"address 0x{addr:08x}, {size} bytes")
        if not self.cfg.in_ram(addr, size):
            raise _Stop(4, f"address 0x{addr:08x}")
        return addr - RAM_BASE

    def load(self, addr, size, signed=False, aligned=True):
        off = self._check(addr, size, aligned)
        v = int.from_bytes(self.mem[off:off + size], "little")
        return sext(v, 8 * size) & M32 if signed else v

    def store(self, addr, size, value, aligned=True):
        off = self._check(addr, size, aligned)
        self.mem[off:off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    def read_word(self, addr):
        """Word at ``addr`` (for tests reading results back)."""
        return self.load(addr, 4)

    def read_bytes(self, addr, n):
        off = addr - RAM_BASE
        return bytes(self.mem[off:off + n])

    # --- CSRs -----------------------------------------------------------------------------------------------
    def csr_read(self, n):
        c = self.instret
        return {CSR.MSTATUS: self.mstatus | CSR.MSTATUS_MPP, CSR.MISA: CSR.MISA_VALUE, CSR.MTVEC: self.mtvec,
                CSR.MSCRATCH: self.mscratch, CSR.MEPC: self.mepc, CSR.MCAUSE: self.mcause, CSR.MTVAL: self.mtval,
                CSR.MCYCLE: c & M32, CSR.CYCLE: c & M32, CSR.MCYCLEH: c >> 32, CSR.CYCLEH: c >> 32,
                CSR.MINSTRET: c & M32, CSR.INSTRET: c & M32, CSR.MINSTRETH: c >> 32, CSR.INSTRETH: c >> 32,
                CSR.LPSTART0: self.lp_start[0], CSR.LPEND0: self.lp_end[0], CSR.LPCOUNT0: self.lp_count[0],
                CSR.LPSTART1: self.lp_start[1], CSR.LPEND1: self.lp_end[1], CSR.LPCOUNT1: self.lp_count[1],
                }.get(n, 0)

    def csr_write(self, n, v):
        """Write CSR ``n``; returns the hardware-loop level whose count was written, else None."""
        if n == CSR.MSTATUS:
            self.mstatus = v & CSR.MSTATUS_MASK
        elif n == CSR.MTVEC:
            self.mtvec = v
        elif n == CSR.MSCRATCH:
            self.mscratch = v
        elif n == CSR.MEPC:
            self.mepc = v & ~3 & M32
        elif n == CSR.MCAUSE:
            self.mcause = v
        elif n == CSR.MTVAL:
            self.mtval = v
        elif self.cfg.xpulpv2 and n in (CSR.LPSTART0, CSR.LPSTART1):
            self.lp_start[n == CSR.LPSTART1] = v
        elif self.cfg.xpulpv2 and n in (CSR.LPEND0, CSR.LPEND1):
            self.lp_end[n == CSR.LPEND1] = v
        elif self.cfg.xpulpv2 and n in (CSR.LPCOUNT0, CSR.LPCOUNT1):
            self.lp_count[n == CSR.LPCOUNT1] = v
            return int(n == CSR.LPCOUNT1)
        return None

    def _trap(self, cause, pc):
        self.mepc = pc
        self.mcause = cause
        mie = (self.mstatus >> 3) & 1
        self.mstatus = (self.mstatus & ~((1 << 3) | (1 << 7))) | (mie << 7)
        return self.mtvec & ~3 & M32

    # --- execution ------------------------------------------------------------------------------------------
    def _decode(self, word):
        i = self._decoded.get(word)
        if i is None:
            i = decode(word, xpulpv2=self.cfg.xpulpv2, xpulpnn=self.cfg.xpulpnn)
            self._decoded[word] = i
        return i

    def step(self):
        """Execute one instruction. Returns the tohost value if this instruction ended the run, else None.

        Raises ``_Stop`` on an error (caught by :meth:`run`).
        """
        pc = self.pc
        if pc & 3 or not self.cfg.in_ram(pc, 4):
            raise _Stop(2, f"pc 0x{pc:08x}")
        word = int.from_bytes(self.mem[pc - RAM_BASE:pc - RAM_BASE + 4], "little")
        i = self._decode(word)
        if i is None:
            raise _Stop(1, f"0x{word:08x}")
        x = self.x
        writes = []            # (reg, value) in commit order
        nn_write = None
        mem_write = None
        next_pc = (pc + 4) & M32
        jumped = False
        count_written = None
        tohost = None
        # hardware-loop match from the state before the instruction
        match = None
        for lv in (0, 1):
            if self.lp_count[lv] and pc == self.lp_end[lv]:
                match = lv
                break
        k = i.kind
        a = x[i.rs1]
        b = x[i.rs2]
        if k == "alu" or k == "alui":
            if k == "alui":
                b = i.imm & M32
            op = i.op
            if op == "add":
                r = a + b
            elif op == "sub":
                r = a - b
            elif op == "sll":
                r = a << (b & 31)
            elif op == "slt":
                r = int(sext(a, 32) < sext(b, 32))
            elif op == "sltu":
                r = int(a < b)
            elif op == "xor":
                r = a ^ b
            elif op == "srl":
                r = a >> (b & 31)
            elif op == "sra":
                r = sext(a, 32) >> (b & 31)
            elif op == "or":
                r = a | b
            elif op == "and":
                r = a & b
            else:
                raise AssertionError(f"no ALU operation {op!r}")
            writes.append((i.rd, r))
        elif k == "lui":
            writes.append((i.rd, i.imm))
        elif k == "auipc":
            writes.append((i.rd, pc + i.imm))
        elif k == "jal":
            writes.append((i.rd, pc + 4))
            next_pc, jumped = (pc + i.imm) & M32, True
        elif k == "jalr":
            writes.append((i.rd, pc + 4))
            next_pc, jumped = (a + i.imm) & ~1 & M32, True
        elif k == "branch":
            sa, sb = sext(a, 32), sext(b, 32)
            taken = {"beq": a == b, "bne": a != b, "blt": sa < sb, "bge": sa >= sb, "bltu": a < b,
                     "bgeu": a >= b}[i.op]
            if taken:
                next_pc, jumped = (pc + i.imm) & M32, True
        elif k == "load":
            writes.append((i.rd, self.load((a + i.imm) & M32, i.width, i.op in ("lb", "lh"), aligned=False)))
        elif k == "store":
            addr = (a + i.imm) & M32
            self.store(addr, i.width, b, aligned=False)
            mem_write = (addr, i.width, b & ((1 << (8 * i.width)) - 1))
        elif k == "muldiv":
            writes.append((i.rd, self._muldiv(i.op, a, b)))
        elif k == "pload" or k == "pload_rr":
            v = self.load(a, i.width, i.op in ("lb", "lh"), aligned=False)
            inc = i.imm if k == "pload" else b
            writes.append((i.rs1, a + inc))
            writes.append((i.rd, v))
        elif k == "pstore":
            self.store(a, i.width, b, aligned=False)
            mem_write = (a, i.width, b & ((1 << (8 * i.width)) - 1))
            writes.append((i.rs1, a + i.imm))
        elif k == "dot":
            sa, sb = self._dot_signs(i.op)
            bits = i.width
            if i.mode == "vv":
                op2 = b
            elif i.mode == "sc":
                op2 = _replicate(b, bits)
            else:
                op2 = _replicate(i.imm, bits)
            r = dot(a, op2, bits, sa, sb)
            if i.op.startswith("s"):
                r += x[i.rd]
            writes.append((i.rd, r))
        elif k == "mls":
            ctrl = i.imm
            ai, wi = ctrl & 1, 2 + ((ctrl >> 1) & 3)
            sa, sw = MLS_SIGNS[i.op]
            r = x[i.rd] + dot(self.nn[ai], self.nn[wi], i.width, sa, sw)
            if ctrl & 0b11000:
                v = self.load(a, 4)
                idx = ai if ctrl & 0b01000 else wi
                self.nn[idx] = v
                nn_write = (idx, v)
                writes.append((i.rs1, a + 4))
            writes.append((i.rd, r))
        elif k == "hwloop":
            lv = i.rd
            op = i.op
            if op == "starti":
                self.lp_start[lv] = (pc + i.imm) & M32
            elif op == "endi":
                self.lp_end[lv] = (pc + i.imm) & M32
            elif op == "count":
                self.lp_count[lv] = a
                count_written = lv
            elif op == "counti":
                self.lp_count[lv] = i.imm
                count_written = lv
            else:
                self.lp_start[lv] = (pc + 4) & M32
                self.lp_end[lv] = (pc + i.imm) & M32
                self.lp_count[lv] = a if op == "setup" else i.width
                count_written = lv
        elif k == "csr":
            n = i.imm
            old = self.csr_read(n)
            src = i.rs1 if i.name.endswith("i") else a
            op = i.name.rstrip("i") if i.name.endswith("i") else i.name
            if op == "csrrw":
                new = src
            elif op == "csrrs":
                new = old | src
            else:
                new = old & ~src & M32
            if op == "csrrw" or i.rs1 != 0:
                count_written = self.csr_write(n, new)
            writes.append((i.rd, old))
        elif k == "system":
            if i.op == "ecall":
                next_pc, jumped = self._trap(11, pc), True
            elif i.op == "ebreak":
                next_pc, jumped = self._trap(3, pc), True
            elif i.op == "mret":
                mpie = (self.mstatus >> 7) & 1
                self.mstatus = (self.mstatus & ~(1 << 3)) | (mpie << 3) | (1 << 7)
                next_pc, jumped = self.mepc, True
        # fence, fence.i, wfi: nothing
        if match is not None:
            count = self.lp_count[match] if count_written == match else self.lp_count[match] - 1
            start = self.lp_start[match]
            if count_written != match:
                self.lp_count[match] = count
            if count != 0 and not jumped:
                next_pc = start
        for rd, v in writes:
            if rd:
                x[rd] = v & M32
        self.pc = next_pc
        self.instret += 1
        if mem_write is not None and mem_write[2] != 0 and mem_write[0] >> 2 == self.program.tohost >> 2:
            tohost = self.load(self.program.tohost, 4)
        if self.tracing:
            self.trace.append(_trace_line(pc, word, writes, nn_write, mem_write))
        return tohost

    @staticmethod
    def _dot_signs(op):
        base = op[1:] if op.startswith("s") else op   # sdotusp -> dotusp
        return DOT_SIGNS[base[3:]]

    @staticmethod
    def _muldiv(op, a, b):
        sa, sb = sext(a, 32), sext(b, 32)
        if op == "mul":
            return a * b
        if op == "mulh":
            return (sa * sb) >> 32
        if op == "mulhsu":
            return (sa * b) >> 32
        if op == "mulhu":
            return (a * b) >> 32
        if op == "div":
            if b == 0:
                return M32
            if sa == -(1 << 31) and sb == -1:
                return a
            q = abs(sa) // abs(sb)
            return -q if (sa < 0) != (sb < 0) else q
        if op == "divu":
            return M32 if b == 0 else a // b
        if op == "rem":
            if b == 0:
                return a
            if sa == -(1 << 31) and sb == -1:
                return 0
            r = abs(sa) % abs(sb)
            return -r if sa < 0 else r
        return a if b == 0 else a % b

    def run(self, max_cycles=1_000_000) -> RunResult:
        """Run until the program writes ``tohost``, an error stops it, or ``max_cycles`` instructions ran."""
        tohost = None
        message = ""
        status = "timeout"
        try:
            while self.instret < max_cycles:
                tohost = self.step()
                if tohost is not None:
                    status, message = status_of_tohost(tohost)
                    break
            else:
                message = (f"no write to tohost (0x{self.program.tohost:08x}) within {max_cycles:,} cycles; "
                           f"pc 0x{self.pc:08x}")
        except _Stop as e:
            status = "error"
            message = f"{ERROR_MESSAGES[e.code]} at pc 0x{self.pc:08x} ({e.detail})"
        return RunResult(status, tohost or 0, self.instret, self.instret, self.pc, message, self.trace)


def _trace_line(pc, word, writes, nn_write, mem_write):
    parts = [f"{pc:08x} {word:08x}"]
    for rd, v in writes:
        if rd:
            parts.append(f"x{rd}={v & M32:08x}")
    if nn_write is not None:
        parts.append(f"nn{nn_write[0]}={nn_write[1]:08x}")
    if mem_write is not None:
        parts.append(f"m{mem_write[0]:08x}.{mem_write[1]}={mem_write[2]:08x}")
    return " ".join(parts)
