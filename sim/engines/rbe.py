"""The rbe engine in the registry: default config, config loader, synthesisable top and manifest."""

DEFAULT_CONFIG = "configs/rbe/default.json"


def load_config(path):
    from sw.rbe.config import RBEConfig
    return RBEConfig.load(path)


def top(cfg):
    from hw.rbe.engine import RBE
    return RBE(cfg)


def manifest(cfg):
    return {"port_width": cfg.PORT_WIDTH,
            "host_registers": "sw/rbe/regs.py (map in docs/rbe.md), 32-bit, byte offsets 0x00-0x68",
            "cores": cfg.N_CORES, "blocks_per_core": cfg.N_BLOCKS, "binconvs_per_block": cfg.N_BINCONVS,
            "binconv_width": cfg.BINCONV_WIDTH, "bin_ops_per_cycle": cfg.bin_ops_per_cycle,
            "peak_mac_per_cycle_3x3_a4w2": cfg.ideal_mac_per_cycle("3x3", 4, 2)}
