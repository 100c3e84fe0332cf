"""VTA job folders: ``job.json`` + ``dram.bin`` in, ``result.json`` + ``dram.bin`` out (docs/jobs.md).

A job is everything VTA needs to run one program: its configuration, a DRAM image (byte 0 is address 0)
and where the instruction stream sits in it. :func:`load_job` checks everything before any simulation
(keys, types, the configuration, the image size against the simulated DRAM, the instruction range, and the
static bounds of every LOAD/STORE) and raises :class:`JobError` (a :class:`~sw.common.contract.BadInput`)
naming the file and field. The same folder serves the golden model and the RTL co-simulation.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from ..common.contract import (BadInput, Job as _ContractJob, MAX_CYCLE_LIMIT, Result, read_bytes, read_json,
                               STATUSES as _CONTRACT_STATUSES)
from ..common.job import JobError, read_job_json
from .config import VTAConfig, MemId, Opcode
from .isa import decode_insn, InsnError, MemInsn

__all__ = ["Job", "VTAJob", "load_job", "write_job", "write_result", "read_result", "config_of", "validate",
           "insn_words", "ENGINE", "JOB_FILE", "RESULT_FILE", "DRAM_FILE", "INSN_BYTES", "STATUSES",
           "DRAM_BYTES_LOG2", "DRAM_CAPACITY", "DEFAULT_LATENCY", "DEFAULT_CYCLE_LIMIT", "JobError"]

ENGINE = "vta"
JOB_FILE = "job.json"
RESULT_FILE = "result.json"
DRAM_FILE = "dram.bin"
#: Instructions are 128-bit words; the stream must start on a 16-byte boundary.
INSN_BYTES = 16
#: Result statuses (the contract's: ok, timeout, error, mismatch).
STATUSES = _CONTRACT_STATUSES
#: Bytes of simulated DRAM (64 MiB): enough for any single layer job; a larger image is refused up front.
DRAM_BYTES_LOG2 = 26
DRAM_CAPACITY = 1 << DRAM_BYTES_LOG2
#: DRAM read latency (cycles) of an RTL run unless ``--latency`` asks for another.
DEFAULT_LATENCY = 32
#: Cycle limit of an RTL run unless ``--cycle-limit`` or the job's ``cycle_limit`` gives one.
DEFAULT_CYCLE_LIMIT = 50_000_000

_TOP_KEYS = {"engine", "config", "config_file", "dram", "insn", "cycle_limit"}
_DRAM_KEYS = {"file", "size"}
_INSN_KEYS = {"addr", "count"}
_RESULT_KEYS = {"status", "cycles", "counters", "message"}


@dataclasses.dataclass
class VTAJob(_ContractJob):
    """A loaded, validated VTA job (``engine``, ``cfg``, ``raw``, ``cycle_limit``, ``path`` as the contract's Job).

    Attributes
    ----------
    config : dict
        Configuration keys as written (``cfg`` is the validated :class:`VTAConfig`).
    dram : numpy.ndarray
        ``uint8`` DRAM image of exactly ``size`` bytes (the file zero-extended).
    insn_addr, insn_count : int
        Byte address and number of 16-byte instructions.
    """

    config: dict = dataclasses.field(default_factory=dict)
    dram: np.ndarray = dataclasses.field(default=None, repr=False)
    insn_addr: int = 0
    insn_count: int = 0

    @property
    def size(self) -> int:
        return int(self.dram.size)

    def input_paths(self) -> list[Path]:
        """The job folder and every file it reads (so ``--out`` may neither lie in the folder nor hold it)."""
        folder = Path(self.path)
        paths = [folder, folder / JOB_FILE, folder / self.raw["dram"]["file"]]
        cf = self.raw.get("config_file")
        if isinstance(cf, str):
            paths.append(folder / cf)
        return paths


#: The VTA job class (``sw.common.job.Job`` re-exports it).
Job = VTAJob


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


def _int_field(d, key, where, *, minimum=None, maximum=None):
    v = d[key]
    if not _is_int(v):
        raise JobError(f"{where}: {key} must be an integer, not {v!r}")
    if minimum is not None and v < minimum:
        raise JobError(f"{where}: {key} must be >= {minimum}, not {v}")
    if maximum is not None and v > maximum:
        raise JobError(f"{where}: {key} must be <= {maximum:,}, not {v:,}")
    return v


def _as_job_error(e: BadInput) -> JobError:
    return e if isinstance(e, JobError) else JobError(str(e))


def load_job(path) -> VTAJob:
    """Read and check a VTA job folder.

    Parameters
    ----------
    path : str or Path
        The job folder (containing ``job.json``), or the ``job.json`` file itself.

    Raises
    ------
    JobError
        For missing, empty, non-UTF-8 or non-JSON files, missing or unknown keys, wrong types, an engine
        other than ``"vta"``, a bad configuration (naming the key), a DRAM size outside 1..64 MiB, a DRAM
        file longer than ``size`` or ending before the instructions (truncated), an instruction address
        not 16-byte aligned, no instructions, an instruction range outside ``[0, size)``, a LOAD/STORE
        outside the image or a scratchpad, or a cycle limit outside 1..2**40. The message names the field.
    """
    try:
        return _load_job(path)
    except BadInput as e:
        raise _as_job_error(e) from None


def _load_job(path) -> VTAJob:
    path, jf, raw = read_job_json(path)
    _check_keys(raw, _TOP_KEYS, ("engine", "dram", "insn"), str(jf))

    engine = raw["engine"]
    if not isinstance(engine, str) or not engine:
        raise JobError(f"{jf}: engine must be a non-empty string, not {engine!r}")
    if engine != ENGINE:
        raise JobError(f"{jf}: engine must be {ENGINE!r} for a VTA job, not {engine!r}")

    if ("config" in raw) == ("config_file" in raw):
        raise JobError(f"{jf}: exactly one of 'config' (an object) or 'config_file' (a path) is required")
    if "config" in raw:
        config, where = raw["config"], f"{jf}: config"
        if not isinstance(config, dict):
            raise JobError(f"{where} must be a JSON object, not {type(config).__name__}")
    else:
        cf = raw["config_file"]
        if not isinstance(cf, str):
            raise JobError(f"{jf}: config_file must be a path string, not {cf!r}")
        cpath = path / cf
        if not cpath.is_file():
            raise JobError(f"{jf}: config_file {cf!r} not found (looked for {cpath})")
        config, where = read_json(cpath, "config file"), str(cpath)
    try:
        cfg = VTAConfig.from_dict(config)
    except (ValueError, TypeError) as e:
        raise JobError(f"{where}: {e}") from None

    where = f"{jf}: dram"
    _check_keys(raw["dram"], _DRAM_KEYS, ("file", "size"), where)
    size = _int_field(raw["dram"], "size", where, minimum=1, maximum=DRAM_CAPACITY)
    dfile = raw["dram"]["file"]
    if not isinstance(dfile, str):
        raise JobError(f"{where}: file must be a path string, not {dfile!r}")
    dpath = path / dfile
    if not dpath.exists():
        raise JobError(f"{where}: file {dfile!r} not found (looked for {dpath})")
    data = read_bytes(dpath, "DRAM image", min_size=0)
    if len(data) > size:
        raise JobError(f"{where}: file {dfile!r} has {len(data)} bytes, more than size={size}")

    where = f"{jf}: insn"
    _check_keys(raw["insn"], _INSN_KEYS, ("addr", "count"), where)
    addr = _int_field(raw["insn"], "addr", where, minimum=0)
    count = _int_field(raw["insn"], "count", where, minimum=1)
    if addr % INSN_BYTES:
        raise JobError(f"{where}: addr must be a multiple of {INSN_BYTES}, not {addr}")
    end = addr + count * INSN_BYTES
    if end > size:
        raise JobError(f"{where}: instructions [{addr}, {end}) lie outside the DRAM image [0, {size})")
    if end > len(data):
        raise JobError(f"{dpath}: DRAM image has {len(data)} bytes but the instructions end at byte {end} "
                       f"(truncated file?)")
    dram = np.zeros(size, dtype=np.uint8)
    dram[:len(data)] = np.frombuffer(data, dtype=np.uint8)

    cycle_limit = raw.get("cycle_limit")
    if cycle_limit is not None:
        cycle_limit = _int_field(raw, "cycle_limit", str(jf), minimum=1, maximum=MAX_CYCLE_LIMIT)
    job = VTAJob(path=path, engine=engine, cfg=cfg, raw=raw, cycle_limit=cycle_limit, config=config,
                 dram=dram, insn_addr=addr, insn_count=count)
    try:
        validate(cfg, job)
    except JobError as e:
        raise JobError(f"{jf}: {e}") from None
    return job


def write_job(path, engine: str, config: dict, dram, insn_addr: int, insn_count: int,
              cycle_limit: int | None = None, size: int | None = None) -> Path:
    """Write a job folder and return its path.

    Parameters
    ----------
    path : str or Path
        Folder to create (parents too); existing ``job.json``/``dram.bin`` are overwritten.
    engine : str
        Engine name (``"vta"``).
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


def _backend_of(outdir: Path) -> str:
    name = outdir.name
    return name[4:] if name.startswith("out-") and name[4:] in ("rtl", "golden") else "rtl"


def write_result(outdir, status: str, cycles: int, counters: dict, message: str,
                 dram: np.ndarray | None, *, backend: str | None = None, metrics: dict | None = None) -> Path:
    """Write ``outdir/result.json`` (the contract's schema) and, if ``dram`` is given, ``outdir/dram.bin``.

    ``backend`` defaults to the folder name's suffix (``out-golden`` -> golden), else ``"rtl"``.
    Returns ``outdir``.

    Raises
    ------
    JobError
        If ``status`` is not a result status or ``cycles`` is not an integer.
    """
    if status not in STATUSES:
        raise JobError(f"result status must be one of {', '.join(STATUSES)}, not {status!r}")
    if not _is_int(cycles) and not isinstance(cycles, np.integer):
        raise JobError(f"result cycles must be an integer, not {cycles!r}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    counters = {str(k): (int(v) if isinstance(v, (int, np.integer)) else v) for k, v in counters.items()}
    outputs = {}
    if dram is not None:
        (outdir / DRAM_FILE).write_bytes(np.asarray(dram).tobytes())
        outputs["dram"] = DRAM_FILE
    Result(ENGINE, backend or _backend_of(outdir), status, int(cycles), counters, outputs, str(message),
           metrics=dict(metrics or {})).write(outdir)
    return outdir


def read_result(outdir) -> dict:
    """Read ``outdir/result.json``; adds ``"dram"`` (uint8 array, or None if there is no dram.bin).

    Reads the contract's schema (``engine``, ``backend``, ``outputs`` and metrics kept in the dict) and the
    older four-key form.

    Raises
    ------
    JobError
        If the file is missing, empty, malformed, or lacks a key, or has an invalid status.
    """
    outdir = Path(outdir)
    rf = outdir / RESULT_FILE
    if not rf.is_file():
        raise JobError(f"{rf}: result file not found")
    try:
        res = read_json(rf, "result file")
    except BadInput as e:
        raise _as_job_error(e) from None
    for k in sorted(_RESULT_KEYS):
        if k not in res:
            raise JobError(f"{rf}: missing key {k!r}")
    if res["status"] not in STATUSES:
        raise JobError(f"{rf}: status must be one of {', '.join(STATUSES)}, not {res['status']!r}")
    df = outdir / DRAM_FILE
    res["dram"] = np.frombuffer(df.read_bytes(), dtype=np.uint8).copy() if df.is_file() else None
    return res


# ---------------------------------------------------------------------------------------------------- checks
def config_of(job) -> VTAConfig:
    """The :class:`VTAConfig` of a loaded ``job`` (already validated by :func:`load_job`).

    Raises
    ------
    JobError
        If the job is not a VTA job or its configuration is invalid (the message names the key).
    """
    if job.engine != ENGINE:
        raise JobError(f"{job.path}: engine must be {ENGINE!r} for a VTA job, not {job.engine!r}")
    if isinstance(getattr(job, "cfg", None), VTAConfig):
        return job.cfg
    try:
        return VTAConfig.from_dict(job.config)
    except (ValueError, TypeError) as e:
        raise JobError(f"{job.path}: config: {e}") from None


def insn_words(dram: np.ndarray, insn_addr: int, insn_count: int) -> list[int]:
    """The 128-bit instruction words (little-endian) stored at ``insn_addr``."""
    raw = dram[insn_addr:insn_addr + insn_count * INSN_BYTES].tobytes()
    return [int.from_bytes(raw[i:i + INSN_BYTES], "little") for i in range(0, len(raw), INSN_BYTES)]


def _mem_bounds(cfg: VTAConfig, insn: MemInsn, index: int, size: int):
    what = f"instruction {index} ({Opcode.NAMES[insn.opcode]} {MemId.NAMES[insn.memory_type]})"
    if insn.x_size == 0 and insn.opcode == Opcode.LOAD:
        return  # synchronisation no-op: touches nothing
    eb = cfg.elem_bytes(insn.memory_type)
    if insn.y_size > 0 and insn.x_size > 0:
        first = insn.dram_base * eb
        last = (insn.dram_base + (insn.y_size - 1) * insn.x_stride + insn.x_size) * eb
        if last > size:
            raise JobError(f"{what}: dram_base={insn.dram_base}, y_size={insn.y_size}, x_size={insn.x_size}, "
                           f"x_stride={insn.x_stride} touch DRAM bytes [{first}, {last}) outside the image [0, {size})")
    if insn.opcode == Opcode.LOAD:
        rows = insn.y_pad_0 + insn.y_size + insn.y_pad_1
        n = rows * (insn.x_pad_0 + insn.x_size + insn.x_pad_1)
    else:
        n = insn.y_size * insn.x_size
    sram_mem = MemId.ACC if insn.memory_type == MemId.OUT else insn.memory_type
    depth = cfg.sram_depth(sram_mem)
    if insn.sram_base + n > depth:
        raise JobError(f"{what}: sram_base={insn.sram_base} + {n} elements exceeds the "
                       f"{MemId.NAMES[sram_mem]} scratchpad depth {depth}")


def validate(cfg: VTAConfig, job) -> None:
    """Check, before simulation, that instructions and data lie inside the DRAM image and scratchpads.

    Words that fail to decode are skipped: an unknown opcode is reported at run time (status ``error``).

    Raises
    ------
    JobError
        Naming the instruction index and field that falls outside.
    """
    size = job.size
    end = job.insn_addr + job.insn_count * INSN_BYTES
    if job.insn_addr % INSN_BYTES or end > size:
        raise JobError(f"{job.path}: insn range [{job.insn_addr}, {end}) outside the DRAM image [0, {size}) "
                       f"or not {INSN_BYTES}-byte aligned")
    for i, word in enumerate(insn_words(job.dram, job.insn_addr, job.insn_count)):
        try:
            insn = decode_insn(cfg, word, i)
        except InsnError:
            continue
        if isinstance(insn, MemInsn):
            _mem_bounds(cfg, insn, i, size)
