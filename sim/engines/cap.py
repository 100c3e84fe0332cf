"""The cap engine in the registry: default config, config loader, synthesisable top and manifest."""

DEFAULT_CONFIG = "configs/cap/default.json"


def load_config(path):
    from sw.cap.config import CAPConfig
    return CAPConfig.load(path)


def top(cfg):
    from hw.cap.cap import CAP
    return CAP(cfg)


def manifest(cfg):
    return {"bus_width": 64, "host_registers": "docs/cap.md (register map, byte offsets 0x00-0x38)",
            "array": [cfg.rows, cfg.cols], "program_memory": [cfg.prog_depth, 64],
            "column_buffer": [cfg.colbuf_depth, cfg.rows], "row_buffer": [cfg.rowbuf_depth, cfg.cols]}
