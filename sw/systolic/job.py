"""Systolic job folders: a conv or GEMM layer with its .npy operands in, ``result.json`` + output .npy out.

Conv job (``job.json``)::

    {"engine": "systolic", "config": {...} | "config_file": "cfg.json",
     "layer": {"batch", "height", "width", "in_channels", "out_channels", "kernel_h", "kernel_w", "stride", "pad"},
     "ifmap": "ifmap.npy",        # (N, H, W, C_I) int8 values
     "weights": "weights.npy",    # (KH, KW, C_I, C_O) int8 values
     "cycle_limit": 50000000}     # optional

GEMM job: ``"gemm": {"m", "n", "k"}, "a": "a.npy" (M, K), "b": "b.npy" (K, N)`` instead of layer/ifmap/weights.

Results: ``OUTDIR/result.json`` = ``{"status", "cycles", "macs", "utilization", "counters", "message",
"backend", "cycles_cover", "reference"}`` and ``OUTDIR/ofmap.npy`` (N, H_O, W_O, C_O) or ``OUTDIR/c.npy``
(M, N), int32. See docs/systolic.md.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from sw.common.job import JOB_FILE, RESULT_FILE, STATUSES, JobError, _read_json, read_job_json

from .config import SystolicConfig
from .layer import GEMM_KEYS, LAYER_KEYS, ConvLayer, gemm_layer
from .schedule import plan

__all__ = ["SystolicJob", "load_job", "write_conv_job", "write_gemm_job", "write_result", "read_result",
           "CYCLES_COVER", "output_name"]

_CONV_KEYS = {"engine", "config", "config_file", "layer", "ifmap", "weights", "cycle_limit"}
_GEMM_KEYS = {"engine", "config", "config_file", "gemm", "a", "b", "cycle_limit"}
_RESULT_KEYS = ("status", "cycles", "macs", "utilization", "counters", "message", "backend", "cycles_cover",
                "reference")

#: What ``cycles`` counts (written into every result.json).
CYCLES_COVER = ("array compute only: from the first issued stream position to the last result word in the vector "
                "memories, summed over the runs of the layer; the DMA copies between DRAM and the on-chip memories "
                "are counted separately in counters.dma_cycles")


@dataclasses.dataclass
class SystolicJob:
    """A loaded job: ``ifmap`` is NHWC and ``weights`` KH,KW,C_I,C_O (a GEMM is a 1x1 conv over an M x 1 image)."""

    path: Path
    cfg: SystolicConfig
    layer: ConvLayer
    gemm: bool
    ifmap: np.ndarray
    weights: np.ndarray
    cycle_limit: int | None
    raw: dict

    @property
    def output_file(self) -> str:
        return output_name(self.gemm)

    def output_array(self, ofmap: np.ndarray) -> np.ndarray:
        """The array the job writes: ofmap, or C (M x N) for a GEMM."""
        return ofmap.reshape(self.layer.height, self.layer.out_channels) if self.gemm else ofmap


def output_name(gemm: bool) -> str:
    return "c.npy" if gemm else "ofmap.npy"


def _int8_array(path, key, where, shape):
    f = path / key
    if not f.is_file():
        raise JobError(f"{where}: file {key!r} not found (looked for {f})")
    try:
        a = np.load(f, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise JobError(f"{where}: {key!r} is not a readable .npy file: {e}") from None
    return a


def _check_int8(a, field, where, shape):
    if a.shape != tuple(shape):
        raise JobError(f"{where}: {field} has shape {a.shape}, the layer needs {tuple(shape)}")
    if not np.issubdtype(a.dtype, np.integer):
        raise JobError(f"{where}: {field} must hold integers (int8 values), not dtype {a.dtype}")
    if a.size and (a.min() < -128 or a.max() > 127):
        raise JobError(f"{where}: {field} values must be int8 (-128..127); found {int(a.min())}..{int(a.max())}")
    return a.astype(np.int8)


def load_job(path) -> SystolicJob:
    """Read and check a systolic job folder (or its ``job.json``).

    Raises
    ------
    JobError
        For a missing file or key, an unknown key, a bad config value, an array whose shape does not match the
        layer, values outside int8, or a layer the runtime cannot tile into the configured memories. The
        message names the field and the allowed values.
    """
    path, jf, raw = read_job_json(path, JOB_FILE)
    where = str(jf)
    gemm = "gemm" in raw
    allowed = _GEMM_KEYS if gemm else _CONV_KEYS
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise JobError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(allowed))}")
    required = ("engine", "gemm", "a", "b") if gemm else ("engine", "layer", "ifmap", "weights")
    for k in required:
        if k not in raw:
            raise JobError(f"{where}: missing key {k!r}" + ("" if gemm else " (or 'gemm' for a GEMM job)"))
    if raw["engine"] != "systolic":
        raise JobError(f"{where}: engine must be 'systolic', not {raw['engine']!r}")
    if ("config" in raw) == ("config_file" in raw):
        raise JobError(f"{where}: exactly one of 'config' (an object) or 'config_file' (a path) is required")
    if "config" in raw:
        cdict = raw["config"]
    else:
        cf = path / str(raw["config_file"])
        if not cf.is_file():
            raise JobError(f"{where}: config_file {raw['config_file']!r} not found (looked for {cf})")
        cdict = _read_json(cf)
    try:
        cfg = SystolicConfig.from_dict(cdict)
    except (TypeError, ValueError) as e:
        raise JobError(f"{where}: config: {e}") from None

    cycle_limit = raw.get("cycle_limit")
    if cycle_limit is not None and (not isinstance(cycle_limit, int) or isinstance(cycle_limit, bool)
                                    or cycle_limit < 1):
        raise JobError(f"{where}: cycle_limit must be an integer >= 1, not {cycle_limit!r}")

    if gemm:
        g = raw["gemm"]
        if not isinstance(g, dict) or set(g) != set(GEMM_KEYS):
            raise JobError(f"{where}: gemm must be an object with exactly the keys m, n, k, not {g!r}")
        try:
            layer = gemm_layer(g["m"], g["n"], g["k"])
        except ValueError as e:
            raise JobError(f"{where}: {e}") from None
        for key in ("a", "b"):
            if not isinstance(raw[key], str):
                raise JobError(f"{where}: {key} must be a .npy file name, not {raw[key]!r}")
        a = _check_int8(_int8_array(path, raw["a"], where, None), "a", where, (g["m"], g["k"]))
        b = _check_int8(_int8_array(path, raw["b"], where, None), "b", where, (g["k"], g["n"]))
        ifmap = a.reshape(1, g["m"], 1, g["k"])
        weights = b.reshape(1, 1, g["k"], g["n"])
    else:
        ld = raw["layer"]
        if not isinstance(ld, dict):
            raise JobError(f"{where}: layer must be a JSON object, not {type(ld).__name__}")
        unknown = sorted(set(ld) - set(LAYER_KEYS))
        if unknown:
            raise JobError(f"{where}: layer: unknown key {unknown[0]!r}; allowed keys: {', '.join(LAYER_KEYS)}")
        missing = [k for k in LAYER_KEYS if k not in ld and k not in ("stride", "pad")]
        if missing:
            raise JobError(f"{where}: layer: missing key {missing[0]!r}")
        try:
            layer = ConvLayer(**ld)
        except (TypeError, ValueError) as e:
            raise JobError(f"{where}: {e}") from None
        for key in ("ifmap", "weights"):
            if not isinstance(raw[key], str):
                raise JobError(f"{where}: {key} must be a .npy file name, not {raw[key]!r}")
        ifmap = _check_int8(_int8_array(path, raw["ifmap"], where, None), "ifmap", where,
                            (layer.batch, layer.height, layer.width, layer.in_channels))
        weights = _check_int8(_int8_array(path, raw["weights"], where, None), "weights", where,
                              (layer.kernel_h, layer.kernel_w, layer.in_channels, layer.out_channels))
    try:
        plan(cfg, layer)
    except ValueError as e:
        raise JobError(f"{where}: the layer cannot be tiled into this configuration: {e}") from None
    return SystolicJob(path, cfg, layer, gemm, ifmap, weights, cycle_limit, raw)


def _write_job(path, raw, arrays):
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        np.save(path / name, arr)
    (path / JOB_FILE).write_text(json.dumps(raw, indent=2) + "\n")
    load_job(path)
    return path


def write_conv_job(path, cfg: SystolicConfig, layer: ConvLayer, ifmap, weights, *, cycle_limit=None) -> Path:
    """Write a conv job folder (checked by loading it back) and return its path."""
    raw = {"engine": "systolic", "config": cfg.to_dict(), "layer": layer.to_dict(), "ifmap": "ifmap.npy",
           "weights": "weights.npy"}
    if cycle_limit is not None:
        raw["cycle_limit"] = cycle_limit
    return _write_job(path, raw, {"ifmap.npy": np.asarray(ifmap, np.int8),
                                  "weights.npy": np.asarray(weights, np.int8)})


def write_gemm_job(path, cfg: SystolicConfig, a, b, *, cycle_limit=None) -> Path:
    """Write a GEMM job folder (C = A @ B) and return its path."""
    a, b = np.asarray(a, np.int8), np.asarray(b, np.int8)
    raw = {"engine": "systolic", "config": cfg.to_dict(),
           "gemm": {"m": a.shape[0], "n": b.shape[1], "k": a.shape[1]}, "a": "a.npy", "b": "b.npy"}
    if cycle_limit is not None:
        raw["cycle_limit"] = cycle_limit
    return _write_job(path, raw, {"a.npy": a, "b.npy": b})


def write_result(outdir, job: SystolicJob, *, status, cycles, counters, message="", output=None,
                 backend="rtl", reference=None) -> Path:
    """Write ``outdir/result.json`` and, if ``output`` (the ofmap) is given, the output .npy."""
    if status not in STATUSES:
        raise JobError(f"result status must be one of {', '.join(STATUSES)}, not {status!r}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cfg, layer = job.cfg, job.layer
    util = layer.macs / (cfg.R * cfg.C * cycles) if cycles else 0.0
    res = {"status": status, "cycles": int(cycles), "macs": layer.macs, "utilization": round(util, 6),
           "counters": {k: int(v) for k, v in counters.items()}, "message": str(message), "backend": backend,
           "cycles_cover": CYCLES_COVER, "reference": reference or {}}
    (outdir / RESULT_FILE).write_text(json.dumps(res, indent=2) + "\n")
    if output is not None:
        np.save(outdir / job.output_file, job.output_array(np.asarray(output, np.int32)))
    return outdir


def read_result(outdir) -> dict:
    """``outdir/result.json`` (JobError if missing or malformed)."""
    rf = Path(outdir) / RESULT_FILE
    if not rf.is_file():
        raise JobError(f"{rf}: result file not found")
    res = _read_json(rf)
    for k in _RESULT_KEYS:
        if k not in res:
            raise JobError(f"{rf}: missing key {k!r}")
    return res
