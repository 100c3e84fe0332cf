"""Bit layouts shared by the units of the core: raw instruction fields and the decoded control word."""

from amaranth.lib import data, enum

__all__ = ["InsnLayout", "Unit", "AluOp", "DotMode", "SysOp", "Ctrl", "ErrorCode", "CommitLayout"]


class InsnLayout(data.Struct):
    """The fixed fields of a 32-bit RISC-V instruction."""
    opcode: 7
    rd: 5
    funct3: 3
    rs1: 5
    rs2: 5
    funct7: 7


class Unit(enum.Enum, shape=4):
    """Which execute-stage unit produces an instruction's effect."""
    ALU = 0
    BRANCH = 1
    JAL = 2
    JALR = 3
    LOAD = 4
    STORE = 5
    MUL = 6
    DIV = 7
    DOT = 8
    MLS = 9
    CSR = 10
    SYSTEM = 11
    HWLOOP = 12
    FENCE = 13


class AluOp(enum.Enum, shape=4):
    ADD = 0
    SUB = 1
    SLL = 2
    SLT = 3
    SLTU = 4
    XOR = 5
    SRL = 6
    SRA = 7
    OR = 8
    AND = 9
    PASS_B = 10     # lui
    AUIPC = 11      # pc + imm
    LINK = 12       # pc + 4 (jal/jalr)


class DotMode(enum.Enum, shape=2):
    VV = 0      # vector rs2
    SC = 1      # low lane of rs2 replicated
    SCI = 2     # immediate replicated


class SysOp(enum.Enum, shape=2):
    ECALL = 0
    EBREAK = 1
    MRET = 2
    WFI = 3


class ErrorCode(enum.Enum, shape=3):
    """Why the core stopped with an error (the numbers of :data:`sw.xpulpnn.iss.ERROR_MESSAGES`)."""
    NONE = 0
    ILLEGAL = 1
    FETCH = 2
    MISALIGNED = 3
    ACCESS = 4


class Ctrl(data.Struct):
    """Decoded control word of one instruction (produced in D, registered into X).

    ``imm`` is the instruction's immediate already extended (I/S/B/U/J, the CSR number for CSR instructions,
    the replicated-lane immediate of ``.sci``, the byte offset or count of hardware-loop instructions).
    ``dot_width``: 0 = 16-bit lanes, 1 = 8, 2 = 4, 3 = 2. ``md_op`` is funct3[1:0] of MUL/DIV.
    """
    legal: 1
    unit: Unit
    alu_op: AluOp
    b_imm: 1
    rd_we: 1
    imm: 32
    mem_size: 2
    mem_signed: 1
    post_inc: 1
    post_reg: 1
    dot_width: 2
    dot_sa: 1
    dot_sb: 1
    dot_acc: 1
    dot_mode: DotMode
    md_op: 2
    csr_op: 2
    csr_imm: 1
    sys_op: SysOp
    hw_op: 3
    flush: 1


#: One retired instruction, as the commit-trace port reports it (the trace format of sw/xpulpnn/trace.py).
CommitLayout = data.StructLayout({
    "valid": 1,
    "pc": 32,
    "insn": 32,
    "rd_we": 1,
    "rd": 5,
    "rd_value": 32,
    "pi_we": 1,          # post-increment write of rs1 (printed before rd)
    "pi_reg": 5,
    "pi_value": 32,
    "nn_we": 1,
    "nn_idx": 3,
    "nn_value": 32,
    "st": 1,
    "st_addr": 32,
    "st_size": 3,
    "st_data": 32,
})
