import pytest

from sw.vta.config import VTAConfig, MemId


def test_defaults_derive_spec_values():
    cfg = VTAConfig()
    assert (cfg.log_uop_depth, cfg.log_wgt_depth, cfg.log_inp_depth, cfg.log_acc_depth) == (13, 10, 11, 11)
    assert [cfg.elem_bytes(m) for m in (MemId.UOP, MemId.INP, MemId.WGT, MemId.ACC, MemId.OUT, MemId.ACC_8BIT)] \
        == [4, 16, 256, 64, 16, 16]
    assert (cfg.batch, cfg.block_in, cfg.block_out) == (1, 16, 16)
    assert cfg.uop_depth == 8192 and cfg.acc_depth == 2048


def test_small_config_depths():
    cfg = VTAConfig.from_dict({"LOG_BATCH": 1, "LOG_BLOCK": 3, "LOG_UOP_BUFF_SIZE": 10, "LOG_INP_BUFF_SIZE": 10,
                               "LOG_WGT_BUFF_SIZE": 12, "LOG_ACC_BUFF_SIZE": 12, "BUS_WIDTH": 256})
    # inp element 2*8 bytes -> 1024/16; wgt 8*8 -> 4096/64; acc 2*8*4 -> 4096/64; uop 1024/4
    assert (cfg.inp_depth, cfg.wgt_depth, cfg.acc_depth, cfg.uop_depth) == (64, 64, 64, 256)
    assert cfg.bus_bytes == 32


@pytest.mark.parametrize("key,value", [("LOG_BATCH", 4), ("LOG_BLOCK_IN", 0), ("BUS_WIDTH", 96),
                                       ("LOG_INP_WIDTH", 4), ("INSN_QUEUE_DEPTH", 3), ("LOG_BATCH", True)])
def test_out_of_range_names_key(key, value):
    with pytest.raises(ValueError, match=key):
        VTAConfig.from_dict({key: value})


def test_instruction_overflow_rejected():
    # acc depth 2^12 no longer fits the ALU upper word (4*12+20 > 64)
    with pytest.raises(ValueError, match="LOG_ACC_BUFF_SIZE"):
        VTAConfig.from_dict({"LOG_ACC_BUFF_SIZE": 18})
    # uop depth 2^14: GEMM lower word 3+4+1+14+15+28 = 65 bits
    with pytest.raises(ValueError, match="LOG_UOP_BUFF_SIZE"):
        VTAConfig.from_dict({"LOG_UOP_BUFF_SIZE": 16})


def test_unknown_key_rejected():
    with pytest.raises(ValueError, match="LOG_BLOK"):
        VTAConfig.from_dict({"LOG_BLOK": 4})
    # upstream keys describing the software target are accepted and ignored
    assert VTAConfig.from_dict({"TARGET": "sim", "HW_VER": "0.0.2"}) == VTAConfig()


SMALL_BUFS = {"LOG_INP_BUFF_SIZE": 12, "LOG_WGT_BUFF_SIZE": 14, "LOG_ACC_BUFF_SIZE": 14}


def test_log_block_vs_in_out():
    cfg = VTAConfig.from_dict({"LOG_BLOCK": 3, **SMALL_BUFS})
    assert (cfg.block_in, cfg.block_out) == (8, 8)
    cfg = VTAConfig.from_dict({"LOG_BLOCK_IN": 3, "LOG_BLOCK_OUT": 4, **SMALL_BUFS})
    assert cfg.elem_bytes(MemId.WGT) == 8 * 16 and cfg.elem_bytes(MemId.INP) == 8
    assert VTAConfig.from_dict({"LOG_BLOCK": 3, "LOG_BLOCK_IN": 3, **SMALL_BUFS}).block_out == 8
    with pytest.raises(ValueError, match="LOG_BLOCK_OUT"):
        VTAConfig.from_dict({"LOG_BLOCK": 3, "LOG_BLOCK_OUT": 4})


def test_register_table_generates_docs_and_manifest():
    from pathlib import Path
    from sim.engines import vta
    from sw.vta.regs import COUNTERS, REGS
    text = (Path(__file__).resolve().parent.parent / "docs" / "vta.md").read_text()
    a, b = text.index("<!-- regs:begin -->\n"), text.index("<!-- regs:end -->")
    assert text[a + len("<!-- regs:begin -->\n"):b] == REGS.markdown(), "docs/vta.md: paste REGS.markdown()"
    assert vta.manifest(VTAConfig())["registers"] == REGS.manifest()
    # upstream VTA's offsets and accelgen's extensions, as before the table
    assert {r.name: r.offset for r in REGS} == {
        "control": 0x00, "cycles": 0x04, "insn_count": 0x08, "insn_base": 0x0C, "uop_base": 0x10, "inp_base": 0x14,
        "wgt_base": 0x18, "acc_base": 0x1C, "out_base": 0x20, "acc_writes": 0x24, "load_busy": 0x28,
        "gemm_busy": 0x2C, "alu_busy": 0x30, "store_busy": 0x34, "compute_load_busy": 0x38, "error_code": 0x3C,
        "error_index": 0x40, "fetch_status": 0x44, "load_status": 0x48, "compute_status": 0x4C,
        "store_status": 0x50, "tokens": 0x54, "gemm_uops": 0x58, "alu_uops": 0x5C}
    assert COUNTERS == ("cycles", "acc_writes", "load_busy", "gemm_busy", "alu_busy", "store_busy",
                        "compute_load_busy", "gemm_uops", "alu_uops")
    assert REGS.addr_bits <= 8


def test_core_uses_the_register_file():
    from hw.common.regfile import RegisterFile
    from hw.vta.core import VTA
    from sw.vta.regs import ADDR_WIDTH, REGS
    top = VTA(VTAConfig())
    assert top.signature.members["host"].signature.addr_width == ADDR_WIDTH
    rf = RegisterFile(REGS, addr_width=ADDR_WIDTH)
    names = set(rf.signature.members)
    assert {"count_acc_writes", "count_gemm_uops", "insn_base", "tokens"} <= names and "count_cycles" not in names
