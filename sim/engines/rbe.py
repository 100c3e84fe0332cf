"""The rbe engine in the registry: default config, config loader, synthesisable top, manifest and ``SPEC``."""

from sim.engines import EngineSpec

DEFAULT_CONFIG = "configs/rbe/default.json"


def load_config(path):
    from sw.rbe.job import load_config as load
    return load(path)


def top(cfg):
    from hw.rbe.engine import RBE
    return RBE(cfg)


def manifest(cfg):
    from sw.rbe.regs import REGS
    return {"port_width": cfg.PORT_WIDTH,
            "host_registers": "32-bit words at byte offsets (the 'registers' table; docs/rbe.md)",
            "registers": REGS.manifest(),
            "cores": cfg.N_CORES, "blocks_per_core": cfg.N_BLOCKS, "binconvs_per_block": cfg.N_BINCONVS,
            "binconv_width": cfg.BINCONV_WIDTH, "bin_ops_per_cycle": cfg.bin_ops_per_cycle,
            "peak_mac_per_cycle_3x3_a4w2": cfg.ideal_mac_per_cycle("3x3", 4, 2)}


def _load_job(path):
    from sw.rbe.job import load_job
    return load_job(path)


def _golden(job, out, options):
    from sw.rbe.job import run_golden
    return run_golden(job, out, options)


def _regs():
    from sw.rbe.regs import REGS
    return REGS


SPEC = EngineSpec(
    name="rbe", default_config=DEFAULT_CONFIG, load_config=load_config, top=top, load_job=_load_job,
    golden=_golden, job_help="job folder (job.json + x.npy, w.npy, kappa.npy, lambda.npy)",
    default_latency=8, default_cycle_limit=20_000_000, regs=_regs,
    metrics=("macs", "mac_per_cycle", "binary_ops_per_cycle"), manifest=manifest)
