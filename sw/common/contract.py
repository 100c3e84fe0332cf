"""The engine contract: what every engine's job, run options, result and backends look like.

Data flows one way: a job folder (``job.json`` + input files) is loaded and validated once into a :class:`Job`;
a backend (``golden`` in ``sw/<engine>``, ``rtl`` in ``tb/<engine>``) runs it with :class:`RunOptions` into a
fresh folder and returns a :class:`Result`; the driver (``accelgen sim``/``regress``) moves the folder into
place only when it is complete. The rules here are the ones every engine gets for free:

- :class:`BadInput` (exit status 2) names the file or field and what is allowed; nothing else is a user error.
- Input files are read through :func:`read_json`, :func:`read_npy` and :func:`read_bytes`, which turn empty,
  truncated, non-UTF-8 or mistyped files into :class:`BadInput`.
- Outputs go through :func:`staged_output`: written to a temporary sibling folder, renamed into place when
  complete; a failure leaves the previous results intact. :func:`check_output_path` refuses an output folder
  that is (or is inside) an input folder, or that cannot be written.
- :class:`RunOptions` is the one typed object that carries run options (memory latency, cycle limit, waves,
  seed) from the command line to the cocotb test (serialised in :data:`RunOptions.ENV`), so an option
  cannot be honoured in one entry point and lost in another.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

__all__ = ["BadInput", "RunOptions", "Result", "Job", "Backend", "STATUSES", "RESULT_FILE", "RESULT_SCHEMA",
           "read_json", "read_bytes", "read_npy", "check_output_path", "staged_output", "check_int",
           "MAX_CYCLE_LIMIT", "MAX_LATENCY"]

RESULT_FILE = "result.json"
#: ``ok``: ran and finished; ``timeout``: stopped at the cycle limit; ``error``: the engine or the
#: simulation failed (the message says what waits on what); ``mismatch``: ran, but the outputs differ from
#: the golden model.
STATUSES = ("ok", "timeout", "error", "mismatch")
#: 1 .. 65,535 cycles: the DRAM models' latency counters are 16 bits.
MAX_LATENCY = 65535
#: 2**40 cycles: at 1 M simulated cycles/s about 13 days; anything larger is a typo.
MAX_CYCLE_LIMIT = 1 << 40


class BadInput(ValueError):
    """Bad user input (a config, job, file, option or output path); the message names it and what is allowed.

    Commands print it as one line and exit with status 2.
    """


def check_int(value, field: str, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int, or :class:`BadInput` naming ``field`` and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise BadInput(f"{field} must be an integer, not {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"{lo}..{hi}" if lo is not None and hi is not None else (f">= {lo}" if lo is not None else f"<= {hi}")
        raise BadInput(f"{field} must be {rng}, not {value}")
    return value


# ---------------------------------------------------------------------------------------------------- input files
def read_bytes(path, what: str = "file", *, min_size: int = 1) -> bytes:
    """Bytes of ``path``; :class:`BadInput` if it is missing, a folder, unreadable or shorter than ``min_size``."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{path}: {what} not found")
    if not path.is_file():
        raise BadInput(f"{path}: {what} is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: cannot read {what}: {e.strerror or e}") from None
    if len(data) < min_size:
        raise BadInput(f"{path}: {what} is empty" if not data else
                       f"{path}: {what} has {len(data)} bytes, at least {min_size} needed")
    return data


def read_json(path, what: str = "JSON file") -> dict:
    """A JSON object from ``path``; :class:`BadInput` naming the file for any other content."""
    data = read_bytes(path, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(f"{path}: {what} is not UTF-8 text (byte {e.start})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: {what} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    if not isinstance(value, dict):
        raise BadInput(f"{path}: {what} must hold a JSON object, not {type(value).__name__}")
    return value


def read_npy(path, field: str, *, kind: str = "iu", ndim: int | None = None, shape=None,
             lo: int | None = None, hi: int | None = None) -> np.ndarray:
    """An array from an ``.npy`` file, checked.

    Parameters
    ----------
    path : path-like
    field : str
        What the file is (the job key), for messages.
    kind : str
        Allowed numpy dtype kinds (``"iu"``: integers; ``"f"``: floats).
    ndim, shape : optional
        Required rank or exact shape (``None`` entries in ``shape`` match anything).
    lo, hi : int, optional
        Allowed value range (checked on integer arrays).

    Raises
    ------
    BadInput
        Missing, empty, truncated or non-npy file, a pickled/object array, a wrong dtype, rank, shape or range.
    """
    path = Path(path)
    head = read_bytes(path, f"{field} file")[:6]
    if head != b"\x93NUMPY":
        what = "an .npz archive" if head[:2] == b"PK" else "no .npy header"
        raise BadInput(f"{path}: {field}: not a valid .npy array ({what})")
    try:
        a = np.load(path, allow_pickle=False)
    except ValueError as e:
        msg = str(e)
        if "pickle" in msg or "Object arrays" in msg:
            raise BadInput(f"{path}: {field}: object arrays are not allowed") from None
        raise BadInput(f"{path}: {field}: not a valid .npy array ({msg.splitlines()[0][:120]})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise BadInput(f"{path}: {field}: not a valid .npy array ({str(e)[:120] or type(e).__name__})") from None
    if a.dtype.kind not in kind:
        want = {"i": "signed integers", "u": "unsigned integers", "f": "floats", "b": "booleans"}
        raise BadInput(f"{path}: {field}: dtype {a.dtype} not allowed; allowed: "
                       + ", ".join(want.get(k, k) for k in kind))
    if ndim is not None and a.ndim != ndim:
        raise BadInput(f"{path}: {field}: must have {ndim} dimensions, has shape {a.shape}")
    if shape is not None:
        if len(shape) != a.ndim or any(s is not None and s != t for s, t in zip(shape, a.shape)):
            want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
            raise BadInput(f"{path}: {field}: shape must be {want}, not {a.shape}")
    if a.size and a.dtype.kind in "iu" and (lo is not None or hi is not None):
        amin, amax = int(a.min()), int(a.max())
        if (lo is not None and amin < lo) or (hi is not None and amax > hi):
            raise BadInput(f"{path}: {field}: values must lie in {lo}..{hi}, found {amin}..{amax}")
    return a


# ---------------------------------------------------------------------------------------------------- outputs
def _inside(a: Path, b: Path) -> bool:
    try:
        a.relative_to(b)
        return True
    except ValueError:
        return False


def check_output_path(out, protect=(), allow=()) -> Path:
    """Resolved ``out``, or :class:`BadInput` when writing there would lose data or cannot succeed.

    Refused: ``out`` equal to or inside a protected (input) folder, or equal to an input file, unless it is
    one of ``allow`` (the engine's default output folder inside the job, ``JOB/out-BACKEND``, which no input
    uses); ``out`` an existing file; or an output folder whose first existing ancestor is not a writable folder.
    """
    out = Path(out).resolve()
    allowed = {Path(a).resolve() for a in allow}
    for p in protect:
        p = Path(p).resolve()
        if out in allowed:
            break
        if out == p or (p.is_dir() and _inside(out, p)):
            raise BadInput(f"{out}: --out is (inside) the input {p}; choose another output folder so no input "
                           f"is overwritten")
        if p.is_file() and _inside(p, out):
            raise BadInput(f"{out}: --out holds the input {p}; choose another output folder")
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: output path exists and is not a folder")
    anc = out.parent
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir():
        raise BadInput(f"{out}: cannot create the output folder: {anc} is not a folder")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise BadInput(f"{out}: cannot write the output folder: {anc} is not writable")
    return out


@contextlib.contextmanager
def staged_output(out, protect=(), allow=()):
    """Context manager yielding a temporary folder that replaces ``out`` when the block completes.

    The temporary folder is a sibling of ``out`` (same file system, so the final rename is atomic). If the
    block raises, the temporary folder is removed and ``out`` keeps its previous content.
    """
    out = check_output_path(out, protect, allow)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as e:
        raise BadInput(f"{out}: cannot create the output folder: {e.strerror or e}") from None
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- options
@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Options of one run, the same for every engine and backend.

    Attributes
    ----------
    latency : int or None
        Memory read latency in cycles (1..65535); ``None``: the engine's default.
    cycle_limit : int or None
        Stop with status ``timeout`` after this many cycles; ``None``: the job's or the engine's default.
    waves : bool
        Record a waveform (RTL).
    seed : int or None
        Seed for anything random in the run (0 .. 2**32 - 1).
    trace : bool
        Record an execution trace where the engine has one.
    """

    latency: int | None = None
    cycle_limit: int | None = None
    waves: bool = False
    seed: int | None = None
    trace: bool = False

    #: Environment variable that carries the options to the cocotb test (JSON).
    ENV = "ACCELGEN_RUN_OPTIONS"

    def __post_init__(self):
        if self.latency is not None:
            check_int(self.latency, "--latency", 1, MAX_LATENCY)
        if self.cycle_limit is not None:
            check_int(self.cycle_limit, "--cycle-limit", 1, MAX_CYCLE_LIMIT)
        if self.seed is not None:
            check_int(self.seed, "--seed", 0, (1 << 32) - 1)

    def with_defaults(self, **defaults) -> "RunOptions":
        """A copy where each ``None`` field named in ``defaults`` takes the default."""
        return dataclasses.replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "RunOptions":
        d = json.loads(text)
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise BadInput(f"run options: unknown field {sorted(unknown)[0]!r}")
        return cls(**d)

    def to_env(self) -> dict:
        """``{RunOptions.ENV: json}`` for the simulator's environment."""
        return {self.ENV: self.to_json()}

    @classmethod
    def from_env(cls, environ=None) -> "RunOptions":
        """The options a driver put in the environment (defaults if none): call this in cocotb tests."""
        environ = os.environ if environ is None else environ
        return cls.from_json(environ[cls.ENV]) if cls.ENV in environ else cls()

    @classmethod
    def from_args(cls, args) -> "RunOptions":
        """From parsed command-line arguments (missing attributes stay at their defaults)."""
        return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
                      if getattr(args, f.name, None) is not None})


# ---------------------------------------------------------------------------------------------------- results
#: The JSON schema of every engine's ``result.json``. Engine metrics (``macs``, ``mac_per_cycle``,
#: ``utilization``...) sit at the top level next to the common keys.
RESULT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "accelgen result",
    "type": "object",
    "required": ["engine", "backend", "status", "cycles", "counters", "outputs", "message"],
    "properties": {
        "engine": {"type": "string"},
        "backend": {"type": "string"},
        "status": {"enum": list(STATUSES)},
        "cycles": {"type": "integer", "minimum": 0},
        "counters": {"type": "object", "additionalProperties": {"type": ["integer", "number", "string"]}},
        "outputs": {"type": "object", "additionalProperties": {"type": "string"}},
        "message": {"type": "string"},
    },
    "additionalProperties": True,
}


def _jsonable(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


@dataclasses.dataclass
class Result:
    """What one run produced.

    Attributes
    ----------
    engine, backend : str
    status : str
        One of :data:`STATUSES`.
    cycles : int
        Cycles the run took (0 for an untimed golden model).
    counters : dict
        Hardware counters by name (the engine's register map names them).
    outputs : dict
        Output name -> file name inside the output folder (``{"ofmap": "ofmap.npy"}``).
    message : str
        Empty when all is well; otherwise what happened, e.g. what waits on what at a timeout.
    metrics : dict
        Engine metrics written at the top level of ``result.json`` (``macs``, ``mac_per_cycle``...).
    """

    engine: str
    backend: str
    status: str
    cycles: int = 0
    counters: dict = dataclasses.field(default_factory=dict)
    outputs: dict = dataclasses.field(default_factory=dict)
    message: str = ""
    metrics: dict = dataclasses.field(default_factory=dict)

    _KEYS = ("engine", "backend", "status", "cycles", "counters", "outputs", "message")

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"result status must be one of {', '.join(STATUSES)}, not {self.status!r}")
        clash = set(self.metrics) & set(self._KEYS)
        if clash:
            raise ValueError(f"result metric {sorted(clash)[0]!r} clashes with a common key")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        d = {"engine": self.engine, "backend": self.backend, "status": self.status, "cycles": int(self.cycles),
             "counters": _jsonable(self.counters), "outputs": dict(self.outputs), "message": str(self.message)}
        d.update(_jsonable(self.metrics))
        return d

    def write(self, out) -> Path:
        """Write ``out/result.json``; return its path."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / RESULT_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def from_dict(cls, d: dict, where: str = "result") -> "Result":
        missing = [k for k in cls._KEYS if k not in d]
        if missing:
            raise BadInput(f"{where}: missing key {missing[0]!r}")
        return cls(**{k: d[k] for k in cls._KEYS}, metrics={k: v for k, v in d.items() if k not in cls._KEYS})

    @classmethod
    def read(cls, out) -> "Result":
        path = Path(out) / RESULT_FILE
        return cls.from_dict(read_json(path, "result file"), str(path))


# ---------------------------------------------------------------------------------------------------- jobs
@dataclasses.dataclass
class Job:
    """Base of every engine's loaded job.

    Attributes
    ----------
    path : Path
        The job folder (or file, for engines whose job is one file).
    engine : str
    cfg : Any
        The engine's validated config dataclass.
    raw : dict
        ``job.json`` as read.
    cycle_limit : int or None
        The job's own cycle bound.
    """

    path: Path
    engine: str
    cfg: Any
    raw: dict
    cycle_limit: int | None

    def input_paths(self) -> list[Path]:
        """The files and folders the job reads: never written by any run (``--out`` may not lie there)."""
        return [Path(self.path)]


class Backend(Protocol):
    """A way to run an engine's jobs: ``golden`` (``sw/<engine>``) or ``rtl`` (``tb/<engine>``).

    ``run(job, out, options)`` writes the output files into ``out`` (a fresh folder the driver moves into
    place afterwards) and returns the :class:`Result`; it raises :class:`BadInput` only for input the job
    loader could not see (e.g. a job too large for the simulated memory).
    """

    def __call__(self, job: Job, out: Path, options: RunOptions) -> Result: ...


JobLoader = Callable[[Any], Job]
