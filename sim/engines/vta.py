"""The vta engine in the registry: default config, config loader, synthesisable top, manifest and SPEC."""

from sim.engines import EngineSpec

DEFAULT_CONFIG = "configs/vta/default.json"


def load_config(path):
    from sw.vta.config import VTAConfig
    return VTAConfig.load(path)


def top(cfg):
    from hw.vta.core import VTA
    return VTA(cfg)


def _regs():
    from sw.vta.regs import REGS
    return REGS


def manifest(cfg):
    return {"bus_width": cfg.BUS_WIDTH,
            "registers": _regs().manifest(),
            "scratchpads": {"uop": [cfg.uop_depth, 32], "inp": [cfg.inp_depth, cfg.inp_elem_bits],
                            "wgt": [cfg.wgt_depth, cfg.wgt_elem_bits], "acc": [cfg.acc_depth, cfg.acc_elem_bits]},
            "macs_per_cycle": cfg.macs_per_cycle}


def _load_job(path):
    from sw.vta.job import load_job
    return load_job(path)


def _golden(job, out, options):
    from sw.vta.backend import run_golden
    return run_golden(job, out, options)


def _lower(graph, cfg):
    from sw.vta.lower import lower
    return lower(graph, cfg)


def _energy(graph, cfg):
    """Analytic-model energy per inference (uJ): VTA's bridge (sw/dse/bridges.py), best blocking per layer."""
    from sw.dse.bridges import _vta_layer, vta_arch, vta_spatial
    from sw.dse.graph_energy import graph_energy_uj
    return graph_energy_uj(graph, vta_arch(cfg), lambda layer: (_vta_layer(cfg, layer), vta_spatial(cfg)))


SPEC = EngineSpec(
    name="vta",
    default_config=DEFAULT_CONFIG,
    load_config=load_config,
    top=top,
    load_job=_load_job,
    golden=_golden,
    job_help="job folder (job.json + dram.bin; docs/jobs.md)",
    default_latency=32,
    default_cycle_limit=50_000_000,
    regs=_regs,
    metrics=("macs", "mac_per_cycle"),
    manifest=manifest,
    lower=_lower,
    energy=_energy,
)
