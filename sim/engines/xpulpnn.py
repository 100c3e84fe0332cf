"""The xpulpnn engine in the registry: default config, config loader, synthesisable top and manifest."""

DEFAULT_CONFIG = "configs/xpulpnn/default.json"
DEFAULT_MAX_CYCLES = 1_000_000

def load_config(path):
    from sw.xpulpnn.config import XpulpNNConfig
    return XpulpNNConfig.load(path)

def top(cfg):
    from hw.xpulpnn.top import XpulpNN
    return XpulpNN(cfg)

def manifest(cfg):
    from sw.xpulpnn.config import RAM_BASE
    return {"isa": "RV32IM + Zicsr subset" + (" + XpulpV2" if cfg.xpulpv2 else "") + (" + XpulpNN" if cfg.xpulpnn else ""),
            "ram": {"base": RAM_BASE, "bytes": cfg.ram_bytes},
            "pipeline": "4 stages (F, D, X, M), full bypass, branches resolved in X",
            "macs_per_cycle": {"pv.sdotsp.b": 4, "pv.sdotsp.n": 8, "pv.sdotsp.c": 16} if cfg.xpulpnn else
                              ({"pv.sdotsp.b": 4} if cfg.xpulpv2 else {"mul": 1})}
