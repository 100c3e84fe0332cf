"""The systolic engine in the registry: default config, config loader, synthesisable top, manifest and ``SPEC``."""

from sim.engines import EngineSpec

DEFAULT_CONFIG = "configs/systolic/default.json"


def load_config(path):
    from sw.systolic.job import load_config as load
    return load(path)


def top(cfg):
    from hw.systolic.core import Systolic
    return Systolic(cfg)


def manifest(cfg):
    from sw.systolic.regs import register_map
    regs = register_map(cfg)
    return {"array": [cfg.R, cfg.C], "word_size": cfg.W, "bus_width": cfg.bus_width,
            "host_registers": {r.name: r.offset for r in regs},
            "registers": regs.manifest(),
            "vector_memories": [cfg.n_mems, cfg.MEM_DEPTH, cfg.word_bits],
            "weight_banks": [cfg.R, cfg.WGT_DEPTH, cfg.wgt_word_bits],
            "accumulators": [cfg.C, cfg.ACC_DEPTH, 32],
            "macs_per_cycle": cfg.macs_per_cycle}


def _load_job(path):
    from sw.systolic.job import load_job
    return load_job(path)


def _golden(job, out, options):
    from sw.systolic.job import run_golden
    return run_golden(job, out, options)


def _regs():
    from sw.systolic.regs import REGS
    return REGS


SPEC = EngineSpec(
    name="systolic", default_config=DEFAULT_CONFIG, load_config=load_config, top=top, load_job=_load_job,
    golden=_golden, job_help="job folder (job.json + .npy operands: ifmap/weights, or a/b for a GEMM)",
    default_latency=16, default_cycle_limit=50_000_000, regs=_regs, metrics=("macs", "utilization"),
    manifest=manifest)
