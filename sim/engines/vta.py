"""The vta engine in the registry: default config, config loader, synthesisable top and manifest."""

DEFAULT_CONFIG = "configs/vta/default.json"


def load_config(path):
    from sw.vta.config import VTAConfig
    return VTAConfig.load(path)


def top(cfg):
    from hw.vta.core import VTA
    return VTA(cfg)


def manifest(cfg):
    return {"bus_width": cfg.BUS_WIDTH,
            "host_registers": "docs/vta.md (VCR map, byte offsets 0x00-0x5C)",
            "scratchpads": {"uop": [cfg.uop_depth, 32], "inp": [cfg.inp_depth, cfg.inp_elem_bits],
                            "wgt": [cfg.wgt_depth, cfg.wgt_elem_bits], "acc": [cfg.acc_depth, cfg.acc_elem_bits]},
            "macs_per_cycle": cfg.macs_per_cycle}
