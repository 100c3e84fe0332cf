"""The systolic engine in the registry: default config, config loader, synthesisable top and manifest."""

DEFAULT_CONFIG = "configs/systolic/default.json"


def load_config(path):
    from sw.systolic.config import SystolicConfig
    return SystolicConfig.load(path)


def top(cfg):
    from hw.systolic.core import Systolic
    return Systolic(cfg)


def manifest(cfg):
    from hw.systolic.core import REGS
    return {"array": [cfg.R, cfg.C], "word_size": cfg.W, "bus_width": cfg.bus_width,
            "host_registers": {k: v for k, v in REGS.items()},
            "vector_memories": [cfg.n_mems, cfg.MEM_DEPTH, cfg.word_bits],
            "weight_banks": [cfg.R, cfg.WGT_DEPTH, cfg.wgt_word_bits],
            "accumulators": [cfg.C, cfg.ACC_DEPTH, 32],
            "macs_per_cycle": cfg.macs_per_cycle}
