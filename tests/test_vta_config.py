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
