"""The cap engine in the registry: default config, config loader, synthesisable top, manifest and its SPEC."""

from sim.engines import EngineSpec

DEFAULT_CONFIG = "configs/cap/default.json"


def load_config(path):
    from sw.cap.config import CAPConfig
    return CAPConfig.load(path)


def top(cfg):
    from hw.cap.cap import CAP
    return CAP(cfg)


def _regs():
    from sw.cap.regs import REGS
    return REGS


def manifest(cfg):
    return {"bus_width": 64, "registers": _regs().manifest(),
            "array": [cfg.rows, cfg.cols], "program_memory": [cfg.prog_depth, 64],
            "column_buffer": [cfg.colbuf_depth, cfg.rows], "row_buffer": [cfg.rowbuf_depth, cfg.cols]}


def _load_job(path):
    from sw.cap.job import load_job
    return load_job(path)


def _golden(job, out, options):
    from sw.cap.backend import run_golden
    return run_golden(job, out, options)


SPEC = EngineSpec(
    name="cap", default_config=DEFAULT_CONFIG, load_config=load_config, top=top, load_job=_load_job,
    golden=_golden, job_help="job folder: job.json (config + operations) and the .npy inputs (docs/cap.md)",
    default_latency=2, default_cycle_limit=100_000_000, regs=_regs, metrics=("total_cycles",),
    manifest=manifest)
