import pytest

from sw.vta.config import VTAConfig, MemId, Opcode, AluOp
from sw.vta.isa import MemInsn, GemmInsn, AluInsn, FinishInsn, Uop, decode_insn, InsnError

CFG = VTAConfig()


def test_load_bit_positions():
    insn = MemInsn(opcode=Opcode.LOAD, memory_type=MemId.INP, sram_base=0x1234, dram_base=0x89ABCDEF, pad_min=True,
                   y_size=0x1111, x_size=0x2222, x_stride=0x3333, y_pad_0=1, y_pad_1=2, x_pad_0=3, x_pad_1=4,
                   pop_next=True, push_prev=True)
    expected = (0 | 1 << 4 | 1 << 5 | 2 << 7 | 0x1234 << 10 | 0x89ABCDEF << 26 | 1 << 58
                | 0x1111 << 64 | 0x2222 << 80 | 0x3333 << 96 | 1 << 112 | 2 << 116 | 3 << 120 | 4 << 124)
    assert insn.encode(CFG) == expected
    assert insn.to_bytes(CFG) == expected.to_bytes(16, "little")


def test_store_bit_positions():
    insn = MemInsn(opcode=Opcode.STORE, memory_type=MemId.OUT, sram_base=7, dram_base=9, y_size=2, x_size=3,
                   x_stride=5, pop_prev=True, push_next=True)
    assert insn.encode(CFG) == 1 | 1 << 3 | 1 << 6 | 4 << 7 | 7 << 10 | 9 << 26 | 2 << 64 | 3 << 80 | 5 << 96


def test_gemm_bit_positions():
    insn = GemmInsn(reset=True, uop_bgn=0x1ABC, uop_end=0x2DEF, iter_out=0x3001, iter_in=0x2002,
                    dst_factor_out=0x7FF, dst_factor_in=0x401, src_factor_out=0x402, src_factor_in=0x7FE,
                    wgt_factor_out=0x3FF, wgt_factor_in=0x201)
    expected = (2 | 1 << 7 | 0x1ABC << 8 | 0x2DEF << 21 | 0x3001 << 35 | 0x2002 << 49
                | 0x7FF << 64 | 0x401 << 75 | 0x402 << 86 | 0x7FE << 97 | 0x3FF << 108 | 0x201 << 118)
    assert insn.encode(CFG) == expected


def test_alu_bit_positions():
    insn = AluInsn(uop_bgn=3, uop_end=4, iter_out=5, iter_in=6, dst_factor_out=1, dst_factor_in=2,
                   src_factor_out=3, src_factor_in=4, alu_opcode=AluOp.SHR, use_imm=True, imm=-2)
    expected = (4 | 3 << 8 | 4 << 21 | 5 << 35 | 6 << 49 | 1 << 64 | 2 << 75 | 3 << 86 | 4 << 97
                | 3 << 108 | 1 << 111 | 0xFFFE << 112)
    assert insn.encode(CFG) == expected


def test_finish_and_uop_bit_positions():
    assert FinishInsn().encode(CFG) == 3
    assert Uop(dst=0x7FF, src=0x123, wgt=0x3FF).encode(CFG) == 0x7FF | 0x123 << 11 | 0x3FF << 22


@pytest.mark.parametrize("insn", [
    MemInsn(opcode=Opcode.LOAD, memory_type=MemId.ACC, sram_base=5, dram_base=77, y_size=3, x_size=4, x_stride=9,
            y_pad_0=15, x_pad_1=1, pad_min=True, pop_prev=True),
    GemmInsn(reset=False, uop_bgn=1, uop_end=9, iter_out=3, iter_in=2, wgt_factor_in=5, push_next=True),
    AluInsn(alu_opcode=AluOp.MOV, use_imm=False, imm=-32768, src_factor_in=1023),
    FinishInsn(),
])
def test_round_trip(insn):
    assert decode_insn(CFG, insn.encode(CFG)) == insn


def test_uop_round_trip():
    u = Uop(dst=17, src=1500, wgt=999)
    assert Uop.decode(CFG, u.encode(CFG)) == u


@pytest.mark.parametrize("insn,field", [
    (MemInsn(sram_base=1 << 16), "sram_base"),
    (MemInsn(y_pad_0=16), "y_pad_0"),
    (GemmInsn(uop_bgn=1 << 13), "uop_bgn"),
    (GemmInsn(iter_out=1 << 14), "iter_out"),
    (AluInsn(imm=1 << 15), "imm"),
    (AluInsn(dst_factor_out=1 << 11), "dst_factor_out"),
])
def test_field_overflow(insn, field):
    with pytest.raises(InsnError, match=field):
        insn.encode(CFG)


def test_uop_overflow():
    with pytest.raises(InsnError, match="wgt"):
        Uop(wgt=1 << 10).encode(CFG)


def test_decode_errors_carry_index():
    with pytest.raises(InsnError, match=r"instruction 7: unknown opcode 5"):
        decode_insn(CFG, 5, 7)
    bad_mem = MemInsn(memory_type=MemId.INP).encode(CFG) & ~(7 << 7) | (6 << 7)
    with pytest.raises(InsnError, match=r"instruction 3: LOAD memory_type 6"):
        decode_insn(CFG, bad_mem, 3)
    store_inp = MemInsn(opcode=Opcode.STORE, memory_type=MemId.OUT).encode(CFG) & ~(7 << 7) | (MemId.INP << 7)
    with pytest.raises(InsnError, match=r"instruction 4: STORE memory_type 2"):
        decode_insn(CFG, store_inp, 4)
    alu7 = AluInsn().encode(CFG) | 7 << 108
    with pytest.raises(InsnError, match=r"instruction 2: ALU alu_opcode 7"):
        decode_insn(CFG, alu7, 2)
