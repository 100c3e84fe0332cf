"""RBE job folders: ``job.json`` + ``x.npy``, ``w.npy``, ``kappa.npy``, ``lambda.npy`` in; ``y.npy`` and
``result.json`` out (docs/rbe.md, "Jobs").

``job.json``: ``{"engine": "rbe", "config": {...} | "config_file": "...", "layer": {mode, qa, qw, qao, k_in, k_out,
height, width, relu, shift}, "x": "x.npy", "w": "w.npy", "kappa": "kappa.npy", "lambda": "lambda.npy",
"cycle_limit": N (optional)}``.
``result.json``: ``{"status", "cycles", "macs", "mac_per_cycle", "binary_ops_per_cycle", "counters", "message"}``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from ..common.job import JOB_FILE, RESULT_FILE, STATUSES, JobError, _read_json, read_job_json
from .config import RBEConfig
from .golden import golden
from .layer import RBELayer
from .runtime import Plan, plan_layer

__all__ = ["ENGINE", "RBEJob", "load_job", "write_job", "write_result", "read_result", "run_golden", "Y_FILE"]

ENGINE = "rbe"
Y_FILE = "y.npy"
_TOP_KEYS = {"engine", "config", "config_file", "layer", "x", "w", "kappa", "lambda", "cycle_limit"}
_ARRAYS = ("x", "w", "kappa", "lambda")
_RESULT_KEYS = ("status", "cycles", "macs", "mac_per_cycle", "binary_ops_per_cycle", "counters", "message")


@dataclasses.dataclass
class RBEJob:
    """A loaded, checked RBE job (tensors in range, layer runnable on ``cfg``)."""

    path: Path
    cfg: RBEConfig
    layer: RBELayer
    x: np.ndarray
    w: np.ndarray
    kappa: np.ndarray
    lam: np.ndarray
    cycle_limit: int | None

    def plan(self) -> Plan:
        return plan_layer(self.cfg, self.layer, self.x, self.w, self.kappa, self.lam)


def _load_npy(path: Path, key: str, jf: Path):
    if not path.is_file():
        raise JobError(f"{jf}: {key} file {path.name!r} not found (looked for {path})")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise JobError(f"{path}: not a readable .npy array ({e})") from None


def load_job(path) -> RBEJob:
    """Read and check an RBE job folder (or its ``job.json``).

    Raises
    ------
    JobError
        Missing files or keys, unknown keys, a bad config, a bad layer (precision outside 2..8, channels not a
        multiple of the channel tile, ...), arrays of the wrong shape or values outside the declared precision.
        The message names the file and the field.
    """
    path, jf, raw = read_job_json(path, JOB_FILE)
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise JobError(f"{jf}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(_TOP_KEYS))}")
    for key in ("engine", "layer", *_ARRAYS):
        if key not in raw:
            raise JobError(f"{jf}: missing key {key!r}")
    if raw["engine"] != ENGINE:
        raise JobError(f"{jf}: engine must be {ENGINE!r} for an RBE job, not {raw['engine']!r}")
    if ("config" in raw) == ("config_file" in raw):
        raise JobError(f"{jf}: exactly one of 'config' (an object) or 'config_file' (a path) is required")
    cdict = raw["config"] if "config" in raw else _read_json(path / str(raw["config_file"]))
    try:
        cfg = RBEConfig.from_dict(cdict)
    except (ValueError, TypeError) as e:
        raise JobError(f"{jf}: config: {e}") from None
    try:
        layer = RBELayer.from_dict(raw["layer"])
    except (ValueError, TypeError) as e:
        raise JobError(f"{jf}: {e}") from None
    arrays = {}
    for key in _ARRAYS:
        if not isinstance(raw[key], str):
            raise JobError(f"{jf}: {key} must be a file name, not {raw[key]!r}")
        arrays[key] = _load_npy(path / raw[key], key, jf)
    limit = raw.get("cycle_limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise JobError(f"{jf}: cycle_limit must be a positive integer, not {limit!r}")
    job = RBEJob(path, cfg, layer, arrays["x"], arrays["w"], arrays["kappa"], arrays["lambda"], limit)
    try:
        job.plan()
    except ValueError as e:
        raise JobError(f"{jf}: {e}") from None
    return job


def write_job(path, cfg: RBEConfig, layer: RBELayer, x, w, kappa, lam, cycle_limit=None) -> Path:
    """Write a job folder (checked by loading it back) and return its path."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    names = {"x": "x.npy", "w": "w.npy", "kappa": "kappa.npy", "lambda": "lambda.npy"}
    for key, arr, dtype in (("x", x, np.uint8), ("w", w, np.int8), ("kappa", kappa, np.uint16),
                            ("lambda", lam, np.int32)):
        np.save(path / names[key], np.asarray(arr).astype(dtype))
    raw = {"engine": ENGINE, "config": cfg.to_dict(), "layer": layer.to_dict(), **names}
    if cycle_limit is not None:
        raw["cycle_limit"] = cycle_limit
    (path / JOB_FILE).write_text(json.dumps(raw, indent=2) + "\n")
    load_job(path)
    return path


def write_result(outdir, status: str, cycles: int, macs: int, bin_ops: int, counters: dict, message: str,
                 y=None) -> Path:
    """Write ``outdir/result.json`` (and ``y.npy`` when ``y`` is given); return ``outdir``."""
    if status not in STATUSES:
        raise JobError(f"result status must be one of {', '.join(STATUSES)}, not {status!r}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cycles = int(cycles)
    res = {"status": status, "cycles": cycles, "macs": int(macs),
           "mac_per_cycle": round(macs / cycles, 3) if cycles else 0.0,
           "binary_ops_per_cycle": round(bin_ops / cycles, 3) if cycles else 0.0,
           "counters": {str(k): int(v) for k, v in counters.items()}, "message": str(message)}
    (outdir / RESULT_FILE).write_text(json.dumps(res, indent=2) + "\n")
    if y is not None:
        np.save(outdir / Y_FILE, np.asarray(y, dtype=np.int32))
    return outdir


def read_result(outdir) -> dict:
    """``result.json`` of ``outdir`` plus ``"y"`` (the output array, or None)."""
    outdir = Path(outdir)
    rf = outdir / RESULT_FILE
    if not rf.is_file():
        raise JobError(f"{rf}: result file not found")
    res = _read_json(rf)
    missing = [k for k in _RESULT_KEYS if k not in res]
    if missing:
        raise JobError(f"{rf}: missing key {missing[0]!r}")
    if res["status"] not in STATUSES:
        raise JobError(f"{rf}: status must be one of {', '.join(STATUSES)}, not {res['status']!r}")
    yf = outdir / Y_FILE
    res["y"] = np.load(yf, allow_pickle=False) if yf.is_file() else None
    return res


def run_golden(job: RBEJob) -> np.ndarray:
    return golden(job.x, job.w, job.kappa, job.lam, job.layer)
