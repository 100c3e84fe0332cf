"""Engine-independent job folders: ``job.json`` + ``dram.bin`` in, ``result.json`` + ``dram.bin`` out.

A job is everything an engine needs to run one program: the engine name, its configuration, a DRAM
image (byte 0 is address 0) and where the instruction stream sits in it. The same format serves the
golden model and the RTL co-simulation, and is meant to be reused by later engines; nothing here
knows about VTA instructions (engine-specific checks live next to the engine, e.g. ``sw.vta.job``).
See docs/jobs.md.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from sw.common.contract import BadInput

__all__ = ["JobError", "Job", "load_job", "read_job_json", "write_job", "write_result", "read_result",
           "JOB_FILE", "RESULT_FILE", "DRAM_FILE", "INSN_BYTES", "STATUSES"]

JOB_FILE = "job.json"
RESULT_FILE = "result.json"
DRAM_FILE = "dram.bin"
# Instructions are 128-bit words; the stream must start on a 16-byte boundary.
INSN_BYTES = 16
STATUSES = ("ok", "timeout", "error")

_TOP_KEYS = {"engine", "config", "config_file", "dram", "insn", "cycle_limit"}
_DRAM_KEYS = {"file", "size"}
_INSN_KEYS = {"addr", "count"}
_RESULT_KEYS = {"status", "cycles", "counters", "message"}


class JobError(BadInput):
    """A malformed job or result folder; the message names the file and the field (exit status 2)."""


@dataclasses.dataclass
class Job:
    """A loaded job.

    Attributes
    ----------
    path : Path
        The job folder.
    engine : str
        Engine name, e.g. ``"vta"``.
    config : dict
        Engine configuration keys (already read from ``config_file`` if the job used one).
    dram : numpy.ndarray
        ``uint8`` DRAM image of exactly ``size`` bytes (the file zero-extended).
    insn_addr, insn_count : int
        Byte address and number of 16-byte instructions.
    cycle_limit : int or None
        Optional bound on simulated cycles.
    raw : dict
        ``job.json`` as read.
    """

    path: Path
    engine: str
    config: dict
    dram: np.ndarray
    insn_addr: int
    insn_count: int
    cycle_limit: int | None
    raw: dict

    @property
    def size(self) -> int:
        return int(self.dram.size)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_keys(d, allowed, required, where):
    if not isinstance(d, dict):
        raise JobError(f"{where} must be a JSON object, not {type(d).__name__}")
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise JobError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(allowed))}")
    for k in required:
        if k not in d:
            raise JobError(f"{where}: missing key {k!r}")


def _int_field(d, key, where, *, minimum=None):
    v = d[key]
    if not _is_int(v):
        raise JobError(f"{where}: {key} must be an integer, not {v!r}")
    if minimum is not None and v < minimum:
        raise JobError(f"{where}: {key} must be >= {minimum}, not {v}")
    return v


def _read_json(path):
    """A JSON object from ``path``; JobError naming the file otherwise."""
    try:
        value = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise JobError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise JobError(f"{path}: must hold a JSON object, not {type(value).__name__}")
    return value


def read_job_json(path, job_file=JOB_FILE):
    """``(folder, job_file_path, raw dict)`` of a job folder (or of its job file itself).

    Raises
    ------
    JobError
        If the job file is missing or is not a JSON object.
    """
    path = Path(path)
    if path.is_file() and path.name == job_file:
        path = path.parent
    jf = path / job_file
    if not jf.is_file():
        raise JobError(f"{jf}: job file not found")
    return path, jf, _read_json(jf)


def load_job(path) -> Job:
    """Read and check a job folder.

    Parameters
    ----------
    path : str or Path
        The job folder (containing ``job.json``), or the ``job.json`` file itself.

    Raises
    ------
    JobError
        For missing files, missing or unknown keys, wrong types, a non-positive DRAM size, a DRAM file
        longer than ``size``, an instruction address not 16-byte aligned, or an instruction range
        outside ``[0, size)``. The message names the field and the allowed values.
    """
    path, jf, raw = read_job_json(path)
    _check_keys(raw, _TOP_KEYS, ("engine", "dram", "insn"), str(jf))

    engine = raw["engine"]
    if not isinstance(engine, str) or not engine:
        raise JobError(f"{jf}: engine must be a non-empty string, not {engine!r}")

    if ("config" in raw) == ("config_file" in raw):
        raise JobError(f"{jf}: exactly one of 'config' (an object) or 'config_file' (a path) is required")
    if "config" in raw:
        config = raw["config"]
        if not isinstance(config, dict):
            raise JobError(f"{jf}: config must be a JSON object, not {type(config).__name__}")
    else:
        cf = raw["config_file"]
        if not isinstance(cf, str):
            raise JobError(f"{jf}: config_file must be a path string, not {cf!r}")
        cpath = path / cf
        if not cpath.is_file():
            raise JobError(f"{jf}: config_file {cf!r} not found (looked for {cpath})")
        config = _read_json(cpath)

    where = f"{jf}: dram"
    _check_keys(raw["dram"], _DRAM_KEYS, ("file", "size"), where)
    size = _int_field(raw["dram"], "size", where, minimum=1)
    dfile = raw["dram"]["file"]
    if not isinstance(dfile, str):
        raise JobError(f"{where}: file must be a path string, not {dfile!r}")
    dpath = path / dfile
    if not dpath.is_file():
        raise JobError(f"{where}: file {dfile!r} not found (looked for {dpath})")
    data = dpath.read_bytes()
    if len(data) > size:
        raise JobError(f"{where}: file {dfile!r} has {len(data)} bytes, more than size={size}")
    dram = np.zeros(size, dtype=np.uint8)
    dram[:len(data)] = np.frombuffer(data, dtype=np.uint8)

    where = f"{jf}: insn"
    _check_keys(raw["insn"], _INSN_KEYS, ("addr", "count"), where)
    addr = _int_field(raw["insn"], "addr", where, minimum=0)
    count = _int_field(raw["insn"], "count", where, minimum=0)
    if addr % INSN_BYTES:
        raise JobError(f"{where}: addr must be a multiple of {INSN_BYTES}, not {addr}")
    if addr + count * INSN_BYTES > size:
        raise JobError(f"{where}: instructions [{addr}, {addr + count * INSN_BYTES}) lie outside the "
                       f"DRAM image [0, {size})")

    cycle_limit = raw.get("cycle_limit")
    if cycle_limit is not None:
        cycle_limit = _int_field(raw, "cycle_limit", str(jf), minimum=1)
    return Job(path=path, engine=engine, config=config, dram=dram, insn_addr=addr, insn_count=count,
               cycle_limit=cycle_limit, raw=raw)


def write_job(path, engine: str, config: dict, dram, insn_addr: int, insn_count: int,
              cycle_limit: int | None = None, size: int | None = None) -> Path:
    """Write a job folder and return its path.

    Parameters
    ----------
    path : str or Path
        Folder to create (parents too); existing ``job.json``/``dram.bin`` are overwritten.
    engine : str
        Engine name.
    config : dict
        Engine configuration, stored inline under ``"config"``.
    dram : bytes or numpy.ndarray
        DRAM image (any dtype; its raw bytes are written).
    insn_addr, insn_count : int
        Instruction stream location.
    cycle_limit : int, optional
        Bound on simulated cycles.
    size : int, optional
        DRAM size in bytes; defaults to ``len(dram)`` rounded up to 4096.

    Raises
    ------
    JobError
        If the written folder would not load (the result is checked with :func:`load_job`).
    """
    path = Path(path)
    data = dram.tobytes() if isinstance(dram, np.ndarray) else bytes(dram)
    if size is None:
        size = max(4096, -(-len(data) // 4096) * 4096)
    path.mkdir(parents=True, exist_ok=True)
    (path / DRAM_FILE).write_bytes(data)
    raw = {"engine": engine, "config": dict(config), "dram": {"file": DRAM_FILE, "size": size},
           "insn": {"addr": insn_addr, "count": insn_count}}
    if cycle_limit is not None:
        raw["cycle_limit"] = cycle_limit
    (path / JOB_FILE).write_text(json.dumps(raw, indent=2) + "\n")
    load_job(path)
    return path


def write_result(outdir, status: str, cycles: int, counters: dict, message: str,
                 dram: np.ndarray | None) -> Path:
    """Write ``outdir/result.json`` and, if ``dram`` is given, ``outdir/dram.bin``; return ``outdir``.

    Raises
    ------
    JobError
        If ``status`` is not one of ``ok``, ``timeout``, ``error`` or ``cycles`` is not an integer.
    """
    if status not in STATUSES:
        raise JobError(f"result status must be one of {', '.join(STATUSES)}, not {status!r}")
    if not _is_int(cycles) and not isinstance(cycles, np.integer):
        raise JobError(f"result cycles must be an integer, not {cycles!r}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    res = {"status": status, "cycles": int(cycles),
           "counters": {str(k): (int(v) if isinstance(v, (int, np.integer)) else v) for k, v in counters.items()},
           "message": str(message)}
    (outdir / RESULT_FILE).write_text(json.dumps(res, indent=2) + "\n")
    if dram is not None:
        (outdir / DRAM_FILE).write_bytes(np.asarray(dram).tobytes())
    return outdir


def read_result(outdir) -> dict:
    """Read ``outdir/result.json``; adds ``"dram"`` (uint8 array, or None if there is no dram.bin).

    Raises
    ------
    JobError
        If the file is missing, malformed, or has a missing/unknown key or an invalid status.
    """
    outdir = Path(outdir)
    rf = outdir / RESULT_FILE
    if not rf.is_file():
        raise JobError(f"{rf}: result file not found")
    try:
        res = json.loads(rf.read_text())
    except json.JSONDecodeError as e:
        raise JobError(f"{rf}: not valid JSON: {e}") from None
    _check_keys(res, _RESULT_KEYS, sorted(_RESULT_KEYS), str(rf))
    if res["status"] not in STATUSES:
        raise JobError(f"{rf}: status must be one of {', '.join(STATUSES)}, not {res['status']!r}")
    df = outdir / DRAM_FILE
    res["dram"] = np.frombuffer(df.read_bytes(), dtype=np.uint8).copy() if df.is_file() else None
    return res
