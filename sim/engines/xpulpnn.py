"""The xpulpnn engine in the registry: default config, config loader, synthesisable top, manifest and its SPEC.

Its job is an ELF program (+ config): ``accelgen sim xpulpnn --job X`` with X a job folder (job.json naming the
ELF and config) or an ELF file; the golden backend is the instruction-set simulator (alias ``iss``).
"""

from sim.engines import EngineSpec

DEFAULT_CONFIG = "configs/xpulpnn/default.json"
DEFAULT_MAX_CYCLES = 1_000_000


def load_config(path):
    from sw.xpulpnn.config import XpulpNNConfig
    return XpulpNNConfig.load(path)


def top(cfg):
    from hw.xpulpnn.top import XpulpNN
    return XpulpNN(cfg)


def manifest(cfg):
    from sw.xpulpnn import regs
    from sw.xpulpnn.config import RAM_BASE
    return {"isa": "RV32IM + Zicsr subset" + (" + XpulpV2" if cfg.xpulpv2 else "") + (" + XpulpNN" if cfg.xpulpnn else ""),
            "ram": {"base": RAM_BASE, "bytes": cfg.ram_bytes},
            "pipeline": "4 stages (F, D, X, M), full bypass, branches resolved in X",
            "macs_per_cycle": {"pv.sdotsp.b": 4, "pv.sdotsp.n": 8, "pv.sdotsp.c": 16} if cfg.xpulpnn else
                              ({"pv.sdotsp.b": 4} if cfg.xpulpv2 else {"mul": 1}),
            "registers": "none on a host bus: the core starts at reset and ends on a write to tohost",
            "csrs": [c for c in regs.manifest() if cfg.xpulpv2 or not c["needs"]]}


def _load_job(path):
    from sw.xpulpnn.job import load_job
    return load_job(path)


def _golden(job, out, options):
    from sw.xpulpnn.backend import run_golden
    return run_golden(job, out, options)


SPEC = EngineSpec(
    # old spellings of ``accelgen sim xpulpnn`` (``--elf``, ``--max-cycles``) and its ``--trace`` flag
    aliases={"--elf": "--job", "--max-cycles": "--cycle-limit"}, trace=True,
    name="xpulpnn", default_config=DEFAULT_CONFIG, load_config=load_config, top=top, load_job=_load_job,
    golden=_golden, job_help="job folder (job.json naming the ELF, config, cycle_limit) or an ELF file "
                             "(RV32 linked at 0x80000000 with a 'tohost' symbol; default config)",
    default_latency=None, default_cycle_limit=DEFAULT_MAX_CYCLES, regs=None,
    metrics=("instret", "tohost"), backends=("rtl", "golden", "iss"), manifest=manifest)
