"""Instruction set of the ``xpulpnn`` core: RV32IM + Zicsr subset + XpulpV2 subset + XpulpNN.

One place for the encodings of the XpulpNN specification (docs/xpulpnn.md): Python encoders (used by the random
stream generator, the tests and the RTL's constants), a decoder (used by the ISS and the disassembler)
and the assembler/C header (``.insn``/``.word`` macros) that the toolchain puts on the include path.

Custom encodings (PULP pv.* / p.* / lp.*, not CORE-V):

=========== ====== ==========================================================================
opcode      value  instructions
=========== ====== ==========================================================================
LOAD_POST   0x0B   p.lb/lh/lw/lbu/lhu rd, imm(rs1!) (I-type); register form funct3 111
STORE_POST  0x2B   p.sb/sh/sw rs2, imm(rs1!) (S-type)
VECOP       0x57   pv.(s)dot{up,usp,sp}.{h,b,n,c}, .sc and .sci forms
MACLOAD     0x77   pv.mlsdot{up,usp,sup,sp}.{h,b,n,c} rd, rs1, ctrl5
HWLOOP      0x7B   lp.starti/endi/count/counti/setup/setupi
=========== ====== ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "OP", "REG_NAMES", "reg_num", "Insn", "decode", "disasm", "sext",
    "r_type", "i_type", "s_type", "b_type", "u_type", "j_type",
    "DOT_FUNCT5", "DOT_WIDTH_FUNCT3", "MLS_FUNCT7", "MLS_WIDTH_FUNCT3", "WIDTH_BITS", "DOT_SIGNS", "MLS_SIGNS",
    "pv_dot", "pv_dot_sci", "pv_mlsdot", "nn_ctrl", "p_load", "p_load_rr", "p_store",
    "lp_starti", "lp_endi", "lp_count", "lp_counti", "lp_setup", "lp_setupi",
    "CSR", "asm_header", "NN_RF_SIZE",
]

MASK32 = 0xFFFF_FFFF


class OP:
    """Major opcodes (bits [6:0])."""
    LOAD = 0x03
    LOAD_POST = 0x0B
    MISC_MEM = 0x0F
    OP_IMM = 0x13
    AUIPC = 0x17
    STORE = 0x23
    STORE_POST = 0x2B
    OP = 0x33
    LUI = 0x37
    VECOP = 0x57
    BRANCH = 0x63
    JALR = 0x67
    JAL = 0x6F
    SYSTEM = 0x73
    MACLOAD = 0x77
    HWLOOP = 0x7B


class CSR:
    """CSR addresses the core implements (any other CSR reads as zero and ignores writes)."""
    MSTATUS = 0x300
    MISA = 0x301
    MIE = 0x304
    MTVEC = 0x305
    MSCRATCH = 0x340
    MEPC = 0x341
    MCAUSE = 0x342
    MTVAL = 0x343
    MCYCLE = 0xB00
    MINSTRET = 0xB02
    MCYCLEH = 0xB80
    MINSTRETH = 0xB82
    CYCLE = 0xC00
    INSTRET = 0xC02
    CYCLEH = 0xC80
    INSTRETH = 0xC82
    MHARTID = 0xF14
    LPSTART0 = 0x7C0
    LPEND0 = 0x7C1
    LPCOUNT0 = 0x7C2
    LPSTART1 = 0x7C4
    LPEND1 = 0x7C5
    LPCOUNT1 = 0x7C6
    #: Readable counters whose value depends on timing (a trace diff does not compare them).
    TIMING = (MCYCLE, MCYCLEH, CYCLE, CYCLEH)
    #: misa of RV32IM (MXL=1, I and M) with the X bit (non-standard extensions present).
    MISA_VALUE = (1 << 30) | (1 << 8) | (1 << 12) | (1 << 23)
    #: mstatus bits that hold state: MIE (3), MPIE (7); MPP (12:11) always reads 3 (machine mode only).
    MSTATUS_MASK = (1 << 3) | (1 << 7)
    MSTATUS_MPP = 3 << 11


#: Exception causes the core raises.
CAUSE_BREAKPOINT = 3
CAUSE_MACHINE_ECALL = 11

NN_RF_SIZE = 6

REG_NAMES = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
             "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"]


def reg_num(r) -> int:
    """Register number of ``r`` (an int 0..31, ``"x5"``, ``"t0"`` or ``"fp"``)."""
    if isinstance(r, int) and not isinstance(r, bool) and 0 <= r < 32:
        return r
    if isinstance(r, str):
        if r == "fp":
            return 8
        if r in REG_NAMES:
            return REG_NAMES.index(r)
        if r.startswith("x") and r[1:].isdigit() and 0 <= int(r[1:]) < 32:
            return int(r[1:])
    raise ValueError(f"register must be 0..31, 'xN' or an ABI name, not {r!r}")


def sext(value: int, bits: int) -> int:
    """Sign-extend the low ``bits`` of ``value`` to a Python int."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _check_imm(name, value, lo, hi):
    if not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer from {lo} to {hi}, not {value!r}")
    return value


# --- base formats ---------------------------------------------------------------------------------------
def r_type(opcode, funct3, funct7, rd, rs1, rs2) -> int:
    return ((funct7 & 0x7F) << 25 | reg_num(rs2) << 20 | reg_num(rs1) << 15 | (funct3 & 7) << 12
            | reg_num(rd) << 7 | opcode)


def i_type(opcode, funct3, rd, rs1, imm) -> int:
    _check_imm("imm", imm, -2048, 4095)
    return (imm & 0xFFF) << 20 | reg_num(rs1) << 15 | (funct3 & 7) << 12 | reg_num(rd) << 7 | opcode


def s_type(opcode, funct3, rs1, rs2, imm) -> int:
    _check_imm("imm", imm, -2048, 2047)
    imm &= 0xFFF
    return ((imm >> 5) << 25 | reg_num(rs2) << 20 | reg_num(rs1) << 15 | (funct3 & 7) << 12
            | (imm & 0x1F) << 7 | opcode)


def b_type(funct3, rs1, rs2, offset) -> int:
    _check_imm("offset", offset, -4096, 4094)
    if offset & 1:
        raise ValueError(f"branch offset must be even, not {offset}")
    o = offset & 0x1FFF
    return ((o >> 12) << 31 | ((o >> 5) & 0x3F) << 25 | reg_num(rs2) << 20 | reg_num(rs1) << 15
            | (funct3 & 7) << 12 | ((o >> 1) & 0xF) << 8 | ((o >> 11) & 1) << 7 | OP.BRANCH)


def u_type(opcode, rd, imm20) -> int:
    return (imm20 & 0xFFFFF) << 12 | reg_num(rd) << 7 | opcode


def j_type(rd, offset) -> int:
    _check_imm("offset", offset, -(1 << 20), (1 << 20) - 2)
    o = offset & 0x1FFFFF
    return ((o >> 20) << 31 | ((o >> 1) & 0x3FF) << 21 | ((o >> 11) & 1) << 20 | ((o >> 12) & 0xFF) << 12
            | reg_num(rd) << 7 | OP.JAL)


# --- SIMD dot products (VECOP 0x57) ------------------------------------------------------------------------
DOT_FUNCT5 = {"dotup": 0b10000, "dotusp": 0b10001, "dotsp": 0b10011,
              "sdotup": 0b10100, "sdotusp": 0b10101, "sdotsp": 0b10111}
#: (signed rs1, signed op2) of each dot-product kind.
DOT_SIGNS = {"up": (False, False), "usp": (False, True), "sp": (True, True)}
#: funct3 of (width, mode); modes: "vv" vector, "sc" scalar-replicated rs2, "sci" immediate.
DOT_WIDTH_FUNCT3 = {("h", "vv"): 0b000, ("h", "sc"): 0b100, ("h", "sci"): 0b110,
                    ("b", "vv"): 0b001, ("b", "sc"): 0b101, ("b", "sci"): 0b111,
                    ("n", "vv"): 0b010, ("n", "sc"): 0b011, ("c", "vv"): 0b010, ("c", "sc"): 0b011}
WIDTH_BITS = {"h": 16, "b": 8, "n": 4, "c": 2}


def pv_dot(op, width, rd, rs1, rs2, *, sc=False) -> int:
    """``pv.<op>[.sc].<width> rd, rs1, rs2``; op in :data:`DOT_FUNCT5`, width in h, b, n, c."""
    if op not in DOT_FUNCT5:
        raise ValueError(f"op must be one of {', '.join(DOT_FUNCT5)}, not {op!r}")
    if width not in WIDTH_BITS:
        raise ValueError(f"width must be one of h, b, n, c, not {width!r}")
    funct7 = DOT_FUNCT5[op] << 2 | (1 if width == "c" else 0)
    return r_type(OP.VECOP, DOT_WIDTH_FUNCT3[(width, "sc" if sc else "vv")], funct7, rd, rs1, rs2)


def pv_dot_sci(op, width, rd, rs1, imm6) -> int:
    """``pv.<op>.sci.<width> rd, rs1, imm6`` (width h or b). ``imm6`` is -32..31 for usp/sp, 0..63 for up."""
    if width not in ("h", "b"):
        raise ValueError(f"the .sci form exists for widths h and b only, not {width!r}")
    if op not in DOT_FUNCT5:
        raise ValueError(f"op must be one of {', '.join(DOT_FUNCT5)}, not {op!r}")
    lo, hi = (0, 63) if op.endswith("up") and not op.endswith("usp") else (-32, 31)
    _check_imm("imm6", imm6, lo, hi)
    imm6 &= 0x3F
    funct7 = DOT_FUNCT5[op] << 2 | (imm6 & 1)
    return r_type(OP.VECOP, DOT_WIDTH_FUNCT3[(width, "sci")], funct7, rd, rs1, imm6 >> 1)


# --- MAC&LOAD (0x77) ---------------------------------------------------------------------------------------
MLS_FUNCT7 = {"up": 0b1110000, "usp": 0b1110100, "sup": 0b1101100, "sp": 0b1111100}
#: (signed A, signed W) of each MAC&LOAD kind: usp = W unsigned, A signed; sup = A unsigned, W signed.
MLS_SIGNS = {"up": (False, False), "usp": (True, False), "sup": (False, True), "sp": (True, True)}
MLS_WIDTH_FUNCT3 = {"h": 0b000, "b": 0b001, "n": 0b010, "c": 0b011}


def nn_ctrl(*, a_update=False, w_update=False, w_index=0, a_index=0) -> int:
    """The 5-bit control immediate of a MAC&LOAD: [4] W-update, [3] A-update, [2:1] W index, [0] A index."""
    _check_imm("w_index", w_index, 0, 3)
    _check_imm("a_index", a_index, 0, 1)
    return int(bool(w_update)) << 4 | int(bool(a_update)) << 3 | w_index << 1 | a_index


def pv_mlsdot(kind, width, rd, rs1, ctrl) -> int:
    """``pv.mlsdot<kind>.<width> rd, rs1, ctrl`` (kind up, usp, sup, sp; ctrl from :func:`nn_ctrl`)."""
    if kind not in MLS_FUNCT7:
        raise ValueError(f"kind must be one of {', '.join(MLS_FUNCT7)}, not {kind!r}")
    if width not in MLS_WIDTH_FUNCT3:
        raise ValueError(f"width must be one of h, b, n, c, not {width!r}")
    _check_imm("ctrl", ctrl, 0, 31)
    return r_type(OP.MACLOAD, MLS_WIDTH_FUNCT3[width], MLS_FUNCT7[kind], rd, rs1, ctrl)


# --- post-increment loads/stores -----------------------------------------------------------------------------
_LOAD_F3 = {"lb": 0, "lh": 1, "lw": 2, "lbu": 4, "lhu": 5}
#: funct7 of the register-offset post-increment loads (funct3 111).
_LOAD_RR_F7 = {"lb": 0b0000000, "lh": 0b0001000, "lw": 0b0010000, "lbu": 0b0100000, "lhu": 0b0101000}
_STORE_F3 = {"sb": 0, "sh": 1, "sw": 2}


def p_load(kind, rd, rs1, imm) -> int:
    """``p.<kind> rd, imm(rs1!)``: rd = Mem[rs1]; rs1 += imm (kind lb, lh, lw, lbu, lhu)."""
    _check_imm("imm", imm, -2048, 2047)
    return i_type(OP.LOAD_POST, _LOAD_F3[kind], rd, rs1, imm)


def p_load_rr(kind, rd, rs1, rs2) -> int:
    """``p.<kind> rd, rs2(rs1!)``: rd = Mem[rs1]; rs1 += rs2."""
    return r_type(OP.LOAD_POST, 0b111, _LOAD_RR_F7[kind], rd, rs1, rs2)


def p_store(kind, rs2, rs1, imm) -> int:
    """``p.<kind> rs2, imm(rs1!)``: Mem[rs1] = rs2; rs1 += imm (kind sb, sh, sw)."""
    return s_type(OP.STORE_POST, _STORE_F3[kind], rs1, rs2, imm)


# --- hardware loops ------------------------------------------------------------------------------------------
def _hwloop(funct3, level, rs1_field, imm12):
    _check_imm("level", level, 0, 1)
    return (imm12 & 0xFFF) << 20 | (rs1_field & 31) << 15 | funct3 << 12 | level << 7 | OP.HWLOOP


def _half_offset(name, offset, bits):
    if offset & 1 or not 0 <= offset >> 1 < 1 << bits:
        raise ValueError(f"{name} must be even and 0..{(1 << (bits + 1)) - 2} bytes, not {offset!r}")
    return offset >> 1


def lp_starti(level, offset) -> int:
    """``lp.starti L, offset``: lpstart[L] = pc + offset (offset even, 0..8190)."""
    return _hwloop(0b000, level, 0, _half_offset("offset", offset, 12))


def lp_endi(level, offset) -> int:
    """``lp.endi L, offset``: lpend[L] = pc + offset, the address of the body's last instruction."""
    return _hwloop(0b001, level, 0, _half_offset("offset", offset, 12))


def lp_count(level, rs1) -> int:
    """``lp.count L, rs1``: lpcount[L] = rs1."""
    return _hwloop(0b010, level, reg_num(rs1), 0)


def lp_counti(level, count) -> int:
    """``lp.counti L, count``: lpcount[L] = count (0..4095)."""
    return _hwloop(0b011, level, 0, _check_imm("count", count, 0, 4095))


def lp_setup(level, rs1, end_offset) -> int:
    """``lp.setup L, rs1, end``: start = pc + 4, end = pc + end_offset, count = rs1."""
    return _hwloop(0b100, level, reg_num(rs1), _half_offset("end_offset", end_offset, 12))


def lp_setupi(level, count, end_offset) -> int:
    """``lp.setupi L, count, end``: start = pc + 4, end = pc + end_offset (2..62), count = 0..4095."""
    return _hwloop(0b101, level, _half_offset("end_offset", end_offset, 5), _check_imm("count", count, 0, 4095))


# --- decoder -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Insn:
    """A decoded instruction.

    Attributes
    ----------
    name : str
        Mnemonic (``"addi"``, ``"p.lw"``, ``"pv.sdotsp.sc.b"``, ``"pv.mlsdotsup.n"``...).
    rd, rs1, rs2 : int
        Register fields (0 when unused).
    imm : int
        Decoded immediate (sign-extended where the format says so); for MAC&LOAD the control field,
        for hardware loops the byte offset / count.
    kind : str
        Group used by the ISS: ``alu``, ``alui``, ``lui``, ``auipc``, ``jal``, ``jalr``, ``branch``, ``load``,
        ``store``, ``muldiv``, ``csr``, ``system``, ``fence``, ``pload``, ``pload_rr``, ``pstore``, ``dot``,
        ``mls``, ``hwloop``.
    op : str
        Operation inside the group (``"add"``, ``"lw"``, ``"sdotsp"``, ``"usp"``, ``"setup"``...).
    width : int
        Lane width in bits for dot products / MAC&LOAD, access size in bytes for memory operations.
    mode : str
        ``"vv"``, ``"sc"`` or ``"sci"`` for dot products; ``""`` otherwise.
    """

    name: str
    kind: str
    op: str = ""
    rd: int = 0
    rs1: int = 0
    rs2: int = 0
    imm: int = 0
    width: int = 0
    mode: str = ""


_ALU_R = {(0, 0x00): "add", (0, 0x20): "sub", (1, 0x00): "sll", (2, 0x00): "slt", (3, 0x00): "sltu",
          (4, 0x00): "xor", (5, 0x00): "srl", (5, 0x20): "sra", (6, 0x00): "or", (7, 0x00): "and"}
_MULDIV = ["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"]
_ALU_I = {0: ("addi", "add"), 2: ("slti", "slt"), 3: ("sltiu", "sltu"), 4: ("xori", "xor"), 6: ("ori", "or"),
          7: ("andi", "and")}
_BRANCH = {0: "beq", 1: "bne", 4: "blt", 5: "bge", 6: "bltu", 7: "bgeu"}
_LOAD = {0: ("lb", 1), 1: ("lh", 2), 2: ("lw", 4), 4: ("lbu", 1), 5: ("lhu", 2)}
_STORE = {0: ("sb", 1), 1: ("sh", 2), 2: ("sw", 4)}
_CSR_OPS = {1: "csrrw", 2: "csrrs", 3: "csrrc", 5: "csrrwi", 6: "csrrsi", 7: "csrrci"}
_DOT_BY_F5 = {v: k for k, v in DOT_FUNCT5.items()}
_MLS_BY_F7 = {v: k for k, v in MLS_FUNCT7.items()}
_LOAD_RR_BY_F7 = {v: k for k, v in _LOAD_RR_F7.items()}
_HWLOOP_OPS = ["starti", "endi", "count", "counti", "setup", "setupi"]


def decode(word: int, *, xpulpv2=True, xpulpnn=True):
    """Decode a 32-bit instruction word; ``None`` if it is illegal for the enabled extensions."""
    opc = word & 0x7F
    rd = (word >> 7) & 31
    f3 = (word >> 12) & 7
    rs1 = (word >> 15) & 31
    rs2 = (word >> 20) & 31
    f7 = word >> 25
    imm_i = sext(word >> 20, 12)
    imm_s = sext((f7 << 5) | rd, 12)
    if opc == OP.LUI:
        return Insn("lui", "lui", rd=rd, imm=word & 0xFFFFF000)
    if opc == OP.AUIPC:
        return Insn("auipc", "auipc", rd=rd, imm=word & 0xFFFFF000)
    if opc == OP.JAL:
        off = ((word >> 31) << 20 | ((word >> 12) & 0xFF) << 12 | ((word >> 20) & 1) << 11
               | ((word >> 21) & 0x3FF) << 1)
        return Insn("jal", "jal", rd=rd, imm=sext(off, 21))
    if opc == OP.JALR and f3 == 0:
        return Insn("jalr", "jalr", rd=rd, rs1=rs1, imm=imm_i)
    if opc == OP.BRANCH and f3 in _BRANCH:
        off = ((word >> 31) << 12 | ((word >> 7) & 1) << 11 | ((word >> 25) & 0x3F) << 5
               | ((word >> 8) & 0xF) << 1)
        return Insn(_BRANCH[f3], "branch", _BRANCH[f3], rs1=rs1, rs2=rs2, imm=sext(off, 13))
    if opc == OP.LOAD and f3 in _LOAD:
        name, size = _LOAD[f3]
        return Insn(name, "load", name, rd=rd, rs1=rs1, imm=imm_i, width=size)
    if opc == OP.STORE and f3 in _STORE:
        name, size = _STORE[f3]
        return Insn(name, "store", name, rs1=rs1, rs2=rs2, imm=imm_s, width=size)
    if opc == OP.OP_IMM:
        if f3 in _ALU_I:
            return Insn(_ALU_I[f3][0], "alui", _ALU_I[f3][1], rd=rd, rs1=rs1, imm=imm_i)
        if f3 == 1 and f7 == 0:
            return Insn("slli", "alui", "sll", rd=rd, rs1=rs1, imm=rs2)
        if f3 == 5 and f7 in (0, 0x20):
            op = "sra" if f7 else "srl"
            return Insn(op + "i", "alui", op, rd=rd, rs1=rs1, imm=rs2)
        return None
    if opc == OP.OP:
        if (f3, f7) in _ALU_R:
            n = _ALU_R[(f3, f7)]
            return Insn(n, "alu", n, rd=rd, rs1=rs1, rs2=rs2)
        if f7 == 1:
            return Insn(_MULDIV[f3], "muldiv", _MULDIV[f3], rd=rd, rs1=rs1, rs2=rs2)
        return None
    if opc == OP.MISC_MEM and f3 in (0, 1):
        return Insn("fence.i" if f3 else "fence", "fence")
    if opc == OP.SYSTEM:
        if f3 == 0 and rd == 0 and rs1 == 0:
            sysop = {0x000: "ecall", 0x001: "ebreak", 0x302: "mret", 0x105: "wfi"}.get(word >> 20)
            return Insn(sysop, "system", sysop) if sysop else None
        if f3 in _CSR_OPS:
            return Insn(_CSR_OPS[f3], "csr", _CSR_OPS[f3], rd=rd, rs1=rs1, imm=word >> 20)
        return None
    if not xpulpv2:
        return None
    if opc == OP.LOAD_POST:
        if f3 in _LOAD:
            name, size = _LOAD[f3]
            return Insn("p." + name, "pload", name, rd=rd, rs1=rs1, imm=imm_i, width=size)
        if f3 == 7 and f7 in _LOAD_RR_BY_F7:
            name = _LOAD_RR_BY_F7[f7]
            size = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4}[name]
            return Insn("p." + name + ".rr", "pload_rr", name, rd=rd, rs1=rs1, rs2=rs2, width=size)
        return None
    if opc == OP.STORE_POST and f3 in _STORE:
        name, size = _STORE[f3]
        return Insn("p." + name, "pstore", name, rs1=rs1, rs2=rs2, imm=imm_s, width=size)
    if opc == OP.HWLOOP:
        if (word >> 8) & 0xF or f3 > 5:
            return None
        op = _HWLOOP_OPS[f3]
        level = rd & 1
        uimm = word >> 20
        imm = {"starti": uimm << 1, "endi": uimm << 1, "count": 0, "counti": uimm,
               "setup": uimm << 1, "setupi": rs1 << 1}[op]
        return Insn("lp." + op, "hwloop", op, rd=level, rs1=rs1 if op in ("count", "setup") else 0,
                    imm=imm, width=uimm if op == "setupi" else 0)
    if opc == OP.VECOP:
        f5 = word >> 27
        if f5 not in _DOT_BY_F5 or (word >> 26) & 1:
            return None
        op = _DOT_BY_F5[f5]
        b25 = (word >> 25) & 1
        if f3 in (0, 1, 4, 5):
            if b25:
                return None
            w, mode = ("h" if f3 in (0, 4) else "b"), ("vv" if f3 in (0, 1) else "sc")
            return Insn(f"pv.{op}{'.sc' if mode == 'sc' else ''}.{w}", "dot", op, rd=rd, rs1=rs1, rs2=rs2,
                        width=WIDTH_BITS[w], mode=mode)
        if f3 in (6, 7):
            w = "h" if f3 == 6 else "b"
            raw = rs2 << 1 | b25
            imm = raw if op.endswith("dotup") else sext(raw, 6)
            return Insn(f"pv.{op}.sci.{w}", "dot", op, rd=rd, rs1=rs1, imm=imm, width=WIDTH_BITS[w], mode="sci")
        if not xpulpnn:
            return None
        w = "c" if b25 else "n"
        mode = "vv" if f3 == 2 else "sc"
        return Insn(f"pv.{op}{'.sc' if mode == 'sc' else ''}.{w}", "dot", op, rd=rd, rs1=rs1, rs2=rs2,
                    width=WIDTH_BITS[w], mode=mode)
    if opc == OP.MACLOAD and xpulpnn:
        if f7 not in _MLS_BY_F7 or f3 > 3:
            return None
        kind = _MLS_BY_F7[f7]
        w = "hbnc"[f3]
        return Insn(f"pv.mlsdot{kind}.{w}", "mls", kind, rd=rd, rs1=rs1, imm=rs2, width=WIDTH_BITS[w])
    return None


def disasm(word: int, pc: int | None = None) -> str:
    """Human-readable text of one instruction (``"illegal 0x..."`` when it does not decode)."""
    i = decode(word)
    if i is None:
        return f"illegal 0x{word:08x}"
    r = REG_NAMES
    k = i.kind
    if k in ("lui", "auipc"):
        return f"{i.name} {r[i.rd]}, 0x{i.imm >> 12:x}"
    if k == "jal":
        tgt = f"0x{(pc + i.imm) & MASK32:x}" if pc is not None else f"{i.imm:+d}"
        return f"jal {r[i.rd]}, {tgt}"
    if k == "jalr":
        return f"jalr {r[i.rd]}, {i.imm}({r[i.rs1]})"
    if k == "branch":
        tgt = f"0x{(pc + i.imm) & MASK32:x}" if pc is not None else f"{i.imm:+d}"
        return f"{i.name} {r[i.rs1]}, {r[i.rs2]}, {tgt}"
    if k == "load":
        return f"{i.name} {r[i.rd]}, {i.imm}({r[i.rs1]})"
    if k == "store":
        return f"{i.name} {r[i.rs2]}, {i.imm}({r[i.rs1]})"
    if k == "pload":
        return f"{i.name} {r[i.rd]}, {i.imm}({r[i.rs1]}!)"
    if k == "pload_rr":
        return f"{i.name[:-3]} {r[i.rd]}, {r[i.rs2]}({r[i.rs1]}!)"
    if k == "pstore":
        return f"{i.name} {r[i.rs2]}, {i.imm}({r[i.rs1]}!)"
    if k in ("alu", "muldiv"):
        return f"{i.name} {r[i.rd]}, {r[i.rs1]}, {r[i.rs2]}"
    if k == "alui":
        return f"{i.name} {r[i.rd]}, {r[i.rs1]}, {i.imm}"
    if k == "csr":
        src = str(i.rs1) if i.name.endswith("i") else r[i.rs1]
        return f"{i.name} {r[i.rd]}, 0x{i.imm:03x}, {src}"
    if k == "dot":
        last = str(i.imm) if i.mode == "sci" else r[i.rs2]
        return f"{i.name} {r[i.rd]}, {r[i.rs1]}, {last}"
    if k == "mls":
        return f"{i.name} {r[i.rd]}, {r[i.rs1]}, {i.imm}"
    if k == "hwloop":
        return {"starti": f"lp.starti {i.rd}, {i.imm}", "endi": f"lp.endi {i.rd}, {i.imm}",
                "count": f"lp.count {i.rd}, {r[i.rs1]}", "counti": f"lp.counti {i.rd}, {i.imm}",
                "setup": f"lp.setup {i.rd}, {r[i.rs1]}, {i.imm}",
                "setupi": f"lp.setupi {i.rd}, {i.width}, {i.imm}"}[i.op]
    return i.name


# --- assembler / C header ------------------------------------------------------------------------------------
def asm_header() -> str:
    """Text of ``xpulpnn_insn.h``: assembler macros (``pv.sdotsp.b a0, a1, a2`` ...) and C inline-asm macros.

    Assembly: every custom instruction is a macro of the same name emitting ``.insn``/``.word``; hardware
    loops take the label of the body's *last* instruction (``lp.setup 0, a0, 1f`` ... ``1: last insn``).
    C: ``PV_SDOTSP_B(acc, a, b)`` accumulates into ``acc``; ``PV_DOTSP_B(d, a, b)`` overwrites ``d``;
    ``PV_MLSDOTSUP_B(acc, ptr, ctrl)`` updates ``acc`` and ``ptr``; ``NN_CTRL(aupd, wupd, widx, aidx)``.
    """
    asm, c = [], []
    for i, name in enumerate(REG_NAMES):
        asm.append(f".set _xr_x{i}, {i}")
        asm.append(f".set _xr_{name}, {i}")
    asm.append(".set _xr_fp, 8")
    for op, f5 in DOT_FUNCT5.items():
        for w in "hbnc":
            for sc in (False, True):
                f3 = DOT_WIDTH_FUNCT3[(w, "sc" if sc else "vv")]
                f7 = f5 << 2 | (1 if w == "c" else 0)
                mn = f"pv.{op}{'.sc' if sc else ''}.{w}"
                asm.append(f".macro {mn} rd, rs1, rs2\n  .insn r 0x57, {f3}, 0x{f7:02x}, \\rd, \\rs1, \\rs2\n.endm")
                cmac = mn.replace(".", "_").upper()
                cons = '"+r"' if op.startswith("s") else '"=r"'
                c.append(f'#define {cmac}(d, a, b) __asm__ volatile(".insn r 0x57, {f3}, 0x{f7:02x}, %0, %1, %2" '
                         f': {cons}(d) : "r"(a), "r"(b))')
        for w in "hb":
            f3 = DOT_WIDTH_FUNCT3[(w, "sci")]
            mn = f"pv.{op}.sci.{w}"
            asm.append(f".macro {mn} rd, rs1, imm\n  .word 0x57 | ({f3} << 12) | (_xr_\\rd << 7) | (_xr_\\rs1 << 15)"
                       f" | (((\\imm >> 1) & 31) << 20) | ((\\imm & 1) << 25) | ({f5} << 27)\n.endm")
    for kind, f7 in MLS_FUNCT7.items():
        for w, f3 in MLS_WIDTH_FUNCT3.items():
            mn = f"pv.mlsdot{kind}.{w}"
            asm.append(f".macro {mn} rd, rs1, ctrl\n  .word 0x77 | ({f3} << 12) | (_xr_\\rd << 7) | (_xr_\\rs1 << 15)"
                       f" | ((\\ctrl & 31) << 20) | (0x{f7:02x} << 25)\n.endm")
            cmac = mn.replace(".", "_").upper()
            c.append(f'#define {cmac}(acc, ptr, ctrl) __asm__ volatile(".insn r 0x77, {f3}, 0x{f7:02x}, %0, %1, x" '
                     f'#ctrl : "+r"(acc), "+r"(ptr) : : "memory")')
    for kind, f3 in _LOAD_F3.items():
        asm.append(f".macro p.{kind} rd, imm, rs1\n  .insn i 0x0b, {f3}, \\rd, \\rs1, \\imm\n.endm")
        c.append(f'#define P_{kind.upper()}(d, ptr, imm) __asm__ volatile(".insn i 0x0b, {f3}, %0, %1, " #imm '
                 f': "=r"(d), "+r"(ptr) : : "memory")')
        f7 = _LOAD_RR_F7[kind]
        asm.append(f".macro p.{kind}.rr rd, rs2, rs1\n  .insn r 0x0b, 7, 0x{f7:02x}, \\rd, \\rs1, \\rs2\n.endm")
    for kind, f3 in _STORE_F3.items():
        asm.append(f".macro p.{kind} rs2, imm, rs1\n  .insn s 0x2b, {f3}, \\rs2, \\imm(\\rs1)\n.endm")
    hw = "0x7b | ({f3} << 12) | (\\L << 7)"
    asm.append(".macro lp.starti L, start\n  .word " + hw.format(f3=0) + " | ((((\\start - .) >> 1) & 0xfff) << 20)\n.endm")
    asm.append(".macro lp.endi L, end\n  .word " + hw.format(f3=1) + " | ((((\\end - .) >> 1) & 0xfff) << 20)\n.endm")
    asm.append(".macro lp.count L, rs1\n  .word " + hw.format(f3=2) + " | (_xr_\\rs1 << 15)\n.endm")
    asm.append(".macro lp.counti L, count\n  .word " + hw.format(f3=3) + " | ((\\count & 0xfff) << 20)\n.endm")
    asm.append(".macro lp.setup L, rs1, end\n  .word " + hw.format(f3=4)
               + " | (_xr_\\rs1 << 15) | ((((\\end - .) >> 1) & 0xfff) << 20)\n.endm")
    asm.append(".macro lp.setupi L, count, end\n  .word " + hw.format(f3=5)
               + " | ((((\\end - .) >> 1) & 31) << 15) | ((\\count & 0xfff) << 20)\n.endm")
    c.append("#define NN_CTRL(a_upd, w_upd, w_idx, a_idx) ((w_upd) << 4 | (a_upd) << 3 | (w_idx) << 1 | (a_idx))")
    c.append('#define READ_CSR(name) ({ unsigned __v; __asm__ volatile("csrr %0, " #name : "=r"(__v)); __v; })')
    return ("/* xpulpnn_insn.h: generated by sw/xpulpnn/isa.py (asm_header); do not edit. */\n"
            "#ifndef XPULPNN_INSN_H\n#define XPULPNN_INSN_H\n#ifdef __ASSEMBLER__\n"
            + "\n".join(asm) + "\n#else\n" + "\n".join(c) + "\n#endif\n#endif\n")
