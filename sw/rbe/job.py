"""RBE job folders: ``job.json`` + ``x.npy``, ``w.npy``, ``kappa.npy``, ``lambda.npy`` in; ``y.npy`` and
``result.json`` out (docs/rbe.md, "Jobs").

``job.json``: ``{"engine": "rbe", "config": {...} | "config_file": "...", "layer": {mode, qa, qw, qao, k_in, k_out,
height, width, relu, shift}, "x": "x.npy", "w": "w.npy", "kappa": "kappa.npy", "lambda": "lambda.npy",
"cycle_limit": N (optional)}``.

:func:`load_job` checks everything up front (files through the contract's safe readers, shapes, value ranges,
the accumulator width, the memory the layer needs) and raises :class:`sw.common.contract.BadInput` naming the
file and the field. The result is the contract's ``result.json`` with the metrics ``macs``, ``mac_per_cycle``
and ``binary_ops_per_cycle`` and the output ``y`` (``y.npy``, int32, H_out x W_out x K_out).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from ..common.contract import (MAX_CYCLE_LIMIT, BadInput, Job, Result, RunOptions, check_int, read_json, read_npy)
from .config import RBEConfig
from .golden import golden
from .layer import RBELayer, check_arrays
from .layout import place
from .runtime import Plan, plan_layer

__all__ = ["ENGINE", "RBEJob", "load_job", "load_config", "write_job", "read_result", "run_golden", "metrics",
           "Y_FILE", "JOB_FILE", "MEMORY_BYTES_LOG2", "MEMORY_BYTES", "DEFAULT_LATENCY", "DEFAULT_CYCLE_LIMIT"]

ENGINE = "rbe"
JOB_FILE = "job.json"
Y_FILE = "y.npy"
#: Bytes of simulated memory (16 MiB): every layer of the benchmarks fits; a job needing more is refused.
MEMORY_BYTES_LOG2 = 24
MEMORY_BYTES = 1 << MEMORY_BYTES_LOG2
#: Memory read latency in cycles unless ``--latency`` says otherwise (the RBE sits next to a cluster L1 memory).
DEFAULT_LATENCY = 8
#: Cycles per engine job before a run counts as hung (unless the job or ``--cycle-limit`` gives another).
DEFAULT_CYCLE_LIMIT = 20_000_000
_TOP_KEYS = {"engine", "config", "config_file", "layer", "x", "w", "kappa", "lambda", "cycle_limit"}
_ARRAYS = ("x", "w", "kappa", "lambda")


@dataclasses.dataclass
class RBEJob(Job):
    """A loaded, checked RBE job (tensors in range, layer runnable on ``cfg`` and fits the simulated memory)."""

    layer: RBELayer = None
    x: np.ndarray = None
    w: np.ndarray = None
    kappa: np.ndarray = None
    lam: np.ndarray = None
    config_file: Path | None = None
    files: tuple = ()

    def plan(self) -> Plan:
        return plan_layer(self.cfg, self.layer, self.x, self.w, self.kappa, self.lam)

    def input_paths(self) -> list[Path]:
        """The job folder and each file it reads (naming the files too refuses an ``--out`` that holds the job:
        the output folder is replaced as a whole)."""
        return [Path(self.path), Path(self.path) / JOB_FILE, *self.files] \
            + ([self.config_file] if self.config_file else [])


def load_config(path) -> RBEConfig:
    """An :class:`RBEConfig` from a JSON file; :class:`BadInput` naming the file and the key otherwise."""
    raw = read_json(path, "config file")
    try:
        return RBEConfig.from_dict(raw)
    except (TypeError, ValueError) as e:
        raise BadInput(f"{path}: {e}") from None


def _folder(path) -> tuple[Path, Path]:
    path = Path(path)
    if path.is_file() and path.name == JOB_FILE:
        path = path.parent
    if not path.exists():
        raise BadInput(f"{path}: job folder not found")
    if not path.is_dir():
        raise BadInput(f"{path}: a job is a folder holding {JOB_FILE}, not a file")
    return path, path / JOB_FILE


def load_job(path) -> RBEJob:
    """Read and check an RBE job folder (or its ``job.json``).

    Raises
    ------
    BadInput
        Missing, empty, non-UTF-8 or non-JSON files; missing or unknown keys; a bad config; a bad layer
        (precision outside 2..8, channels not a multiple of the channel tile, an accumulator that could overflow);
        arrays that are truncated, of the wrong dtype or shape or with values outside the declared precision; a
        layer that needs more than the simulated memory; a cycle limit out of range. The message names the file
        and the field.
    """
    path, jf = _folder(path)
    raw = read_json(jf, "job file")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise BadInput(f"{jf}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(_TOP_KEYS))}")
    for key in ("engine", "layer", *_ARRAYS):
        if key not in raw:
            raise BadInput(f"{jf}: missing key {key!r}")
    if raw["engine"] != ENGINE:
        raise BadInput(f"{jf}: engine must be {ENGINE!r} for an RBE job, not {raw['engine']!r}")
    if ("config" in raw) == ("config_file" in raw):
        raise BadInput(f"{jf}: exactly one of 'config' (an object) or 'config_file' (a path) is required")
    config_file = None
    if "config" in raw:
        try:
            cfg = RBEConfig.from_dict(raw["config"])
        except (ValueError, TypeError) as e:
            raise BadInput(f"{jf}: config: {e}") from None
    else:
        if not isinstance(raw["config_file"], str) or not raw["config_file"]:
            raise BadInput(f"{jf}: config_file must be a file name, not {raw['config_file']!r}")
        config_file = path / raw["config_file"]
        cfg = load_config(config_file)
    try:
        layer = RBELayer.from_dict(raw["layer"])
        layer.check_config(cfg)
    except (ValueError, TypeError) as e:
        raise BadInput(f"{jf}: {e}") from None
    limit = raw.get("cycle_limit")
    if limit is not None:
        check_int(limit, f"{jf}: cycle_limit", 1, MAX_CYCLE_LIMIT)
    need = place(cfg, layer).size
    if need > MEMORY_BYTES:
        raise BadInput(f"{jf}: layer: the layer needs {need:,} bytes of memory (x, weights, kappa/lambda, y), "
                       f"more than the simulated {MEMORY_BYTES:,}; split it into smaller layers")
    shapes = {"x": (layer.height, layer.width, layer.k_in), "w": (layer.k_out, layer.fs, layer.fs, layer.k_in),
              "kappa": (layer.k_out,), "lambda": (layer.k_out,)}
    arrays, files = {}, {}
    for key in _ARRAYS:
        if not isinstance(raw[key], str) or not raw[key]:
            raise BadInput(f"{jf}: {key} must be a file name, not {raw[key]!r}")
        files[key] = path / raw[key]
        arrays[key] = read_npy(files[key], key, kind="iu", shape=shapes[key])
    try:
        check_arrays(layer, arrays["x"], arrays["w"], arrays["kappa"], arrays["lambda"])
    except ValueError as e:
        name = str(e).split("[")[0].split(" ")[0]
        raise BadInput(f"{files.get(name, jf)}: {e}") from None
    arrays = {k: a.astype(np.int64) for k, a in arrays.items()}
    return RBEJob(path, ENGINE, cfg, raw, limit, layer, arrays["x"], arrays["w"], arrays["kappa"],
                  arrays["lambda"], config_file, tuple(files.values()))


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


def metrics(macs: int, cycles: int, bin_ops: int) -> dict:
    """The RBE's result metrics: MACs, MAC/cycle and one-bit MACs/cycle (0 when untimed)."""
    return {"macs": int(macs), "mac_per_cycle": round(macs / cycles, 3) if cycles else 0.0,
            "binary_ops_per_cycle": round(bin_ops / cycles, 3) if cycles else 0.0}


def read_result(outdir) -> dict:
    """``result.json`` of ``outdir`` as a dict plus ``"y"`` (the output array, or None)."""
    outdir = Path(outdir)
    res = Result.read(outdir).to_dict()
    yf = outdir / Y_FILE
    res["y"] = np.load(yf, allow_pickle=False) if yf.is_file() else None
    return res


def run_golden(job: RBEJob, out, options: RunOptions = RunOptions()) -> Result:
    """The golden backend: ``y.npy`` by plain integer arithmetic (:func:`sw.rbe.golden.golden`); no timing."""
    y = golden(job.x, job.w, job.kappa, job.lam, job.layer)
    np.save(Path(out) / Y_FILE, np.asarray(y, dtype=np.int32))
    return Result(ENGINE, "golden", "ok", 0, {}, {"y": Y_FILE}, "golden model: no timing",
                  metrics(job.layer.macs, 0, 0))
