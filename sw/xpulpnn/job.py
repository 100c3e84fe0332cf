"""xpulpnn jobs: an ELF program and a config.

A job is either an ELF file (run with the default config) or a folder holding ``job.json``::

    {"engine": "xpulpnn", "elf": "prog.elf", "config": {...} | "config_file": "cfg.json",
     "cycle_limit": 1000000, "trace": false}

``elf`` is relative to the folder; ``config``/``config_file`` are optional (default config); ``cycle_limit``
(alias ``max_cycles``) is optional; ``trace: true`` records the commit log (``trace.log``) as ``--trace``
does. Everything is checked up front: a missing, empty, truncated or non-ELF
file, an ELF for another architecture, a program outside the RAM of the config are :class:`BadInput`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sw.common.contract import MAX_CYCLE_LIMIT, BadInput, Job, check_int, read_json

from .config import XpulpNNConfig
from .program import Program, load_elf

__all__ = ["XpulpJob", "load_job", "write_job", "DEFAULT_CONFIG", "JOB_KEYS"]

#: The default config (relative to the project root, like every engine's).
DEFAULT_CONFIG = "configs/xpulpnn/default.json"
JOB_KEYS = ("engine", "elf", "config", "config_file", "cycle_limit", "max_cycles", "trace")


@dataclasses.dataclass
class XpulpJob(Job):
    """A loaded xpulpnn job: the checked program and the ELF it came from."""

    program: Program | None = None
    elf: Path | None = None
    config_file: Path | None = None
    trace: bool = False

    def input_paths(self) -> list[Path]:
        return [p for p in (Path(self.path), self.elf, self.config_file) if p is not None]


def _config(cdict, where) -> XpulpNNConfig:
    try:
        return XpulpNNConfig.from_dict(cdict)
    except (ValueError, TypeError) as e:
        raise BadInput(f"{where}: {e}") from None


def _default_config() -> tuple:
    root = Path(__file__).resolve().parent.parent.parent
    path = root / DEFAULT_CONFIG
    return _config(read_json(path, "xpulpnn config"), path), path


def load_job(path) -> XpulpJob:
    """An xpulpnn job from a job folder (or its ``job.json``) or an ELF file.

    Raises
    ------
    BadInput
        Naming the file and field.
    """
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{path}: job not found (a job folder with job.json, or an ELF file)")
    if path.is_file() and path.name != "job.json":
        cfg, cfg_path = _default_config()
        prog = load_elf(path, cfg)
        return XpulpJob(path, "xpulpnn", cfg, {"engine": "xpulpnn", "elf": path.name}, None, program=prog,
                        elf=path, config_file=None)
    if path.is_file():
        path = path.parent
    jf = path / "job.json"
    raw = read_json(jf, "job file")
    unknown = sorted(set(raw) - set(JOB_KEYS))
    if unknown:
        raise BadInput(f"{jf}: unknown key {unknown[0]!r}; allowed keys: {', '.join(JOB_KEYS)}")
    if raw.get("engine", "xpulpnn") != "xpulpnn":
        raise BadInput(f"{jf}: engine must be 'xpulpnn', not {raw.get('engine')!r}")
    if "config" in raw and "config_file" in raw:
        raise BadInput(f"{jf}: give 'config' (an object) or 'config_file' (a path), not both")
    cfg_path = None
    if "config" in raw:
        cfg = _config(raw["config"], f"{jf}: config")
    elif "config_file" in raw:
        if not isinstance(raw["config_file"], str) or not raw["config_file"]:
            raise BadInput(f"{jf}: config_file must be a path string, not {raw['config_file']!r}")
        cfg_path = path / raw["config_file"]
        cfg = _config(read_json(cfg_path, "xpulpnn config"), cfg_path)
    else:
        cfg, _ = _default_config()
    if "cycle_limit" in raw and "max_cycles" in raw:
        raise BadInput(f"{jf}: give 'cycle_limit' or its alias 'max_cycles', not both")
    limit = None
    for key in ("cycle_limit", "max_cycles"):
        if key in raw:
            limit = check_int(raw[key], f"{jf}: {key}", 1, MAX_CYCLE_LIMIT)
    trace = raw.get("trace", False)
    if not isinstance(trace, bool):
        raise BadInput(f"{jf}: trace must be true or false, not {trace!r}")
    elf = raw.get("elf")
    if not isinstance(elf, str) or not elf:
        raise BadInput(f"{jf}: 'elf' must name the program's ELF file (relative to the job folder), not {elf!r}")
    elf_path = path / elf
    prog = load_elf(elf_path, cfg)
    return XpulpJob(path, "xpulpnn", cfg, raw, limit, program=prog, elf=elf_path, config_file=cfg_path,
                    trace=trace)


def write_job(folder, elf, cfg: XpulpNNConfig | None = None, *, cycle_limit=None, trace=False) -> Path:
    """Write ``folder/job.json`` naming ``elf`` (a path relative to ``folder``, or absolute) and ``cfg``."""
    import json
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    raw = {"engine": "xpulpnn", "elf": str(elf)}
    if cfg is not None:
        raw["config"] = cfg.to_dict()
    if cycle_limit is not None:
        raw["cycle_limit"] = int(cycle_limit)
    if trace:
        raw["trace"] = True
    (folder / "job.json").write_text(json.dumps(raw, indent=1) + "\n")
    return folder
