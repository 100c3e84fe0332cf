"""Systolic job folders: a conv or GEMM layer with its .npy operands in, ``result.json`` + output .npy out.

Conv job (``job.json``)::

    {"engine": "systolic", "config": {...} | "config_file": "cfg.json",
     "layer": {"batch", "height", "width", "in_channels", "out_channels", "kernel_h", "kernel_w", "stride", "pad"},
     "ifmap": "ifmap.npy",        # (N, H, W, C_I) int8 values
     "weights": "weights.npy",    # (KH, KW, C_I, C_O) int8 values
     "cycle_limit": 50000000}     # optional

GEMM job: ``"gemm": {"m", "n", "k"}, "a": "a.npy" (M, K), "b": "b.npy" (K, N)`` instead of layer/ifmap/weights.

The result is the contract's ``result.json`` (``sw.common.contract.Result``) with the metrics ``macs``,
``utilization``, ``cycles_cover``, ``latency`` and ``reference`` (the schedule model, SCALE-Sim v2 and the
physical bound) and the output ``ofmap`` (``ofmap.npy``, N x H_O x W_O x C_O) or ``c`` (``c.npy``, M x N), int32.
:func:`load_job` checks everything up front and raises :class:`sw.common.contract.BadInput` naming the file and
the field. See docs/systolic.md.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from sw.common.contract import MAX_CYCLE_LIMIT, BadInput, Job, Result, RunOptions, check_int, read_json, read_npy

from . import golden
from .config import SystolicConfig
from .layer import GEMM_KEYS, LAYER_KEYS, ConvLayer, gemm_layer
from .schedule import plan, reference

__all__ = ["SystolicJob", "load_job", "load_config", "write_conv_job", "write_gemm_job", "read_result",
           "run_golden", "metrics", "CYCLES_COVER", "output_name", "JOB_FILE", "DEFAULT_LATENCY",
           "DEFAULT_CYCLE_LIMIT", "MAX_ELEMENTS", "MAX_MODEL_CYCLES", "MAX_OUT_ROWS", "MAX_POSITIONS"]

ENGINE = "systolic"
JOB_FILE = "job.json"
_CONV_KEYS = {"engine", "config", "config_file", "layer", "ifmap", "weights", "cycle_limit"}
_GEMM_KEYS = {"engine", "config", "config_file", "gemm", "a", "b", "cycle_limit"}
#: DRAM read latency (cycles) the DMA's loads see unless ``--latency`` says otherwise.
DEFAULT_LATENCY = 16
#: Array cycles of one run before it counts as hung (unless the job or ``--cycle-limit`` gives another).
DEFAULT_CYCLE_LIMIT = 50_000_000
#: Largest operand or output tensor (elements): 64 Mi int8 (an ifmap file of 64 MiB) is far beyond any layer
#: a simulation finishes in reasonable time.
MAX_ELEMENTS = 1 << 26
#: Largest schedule (array cycles over all runs) a job may ask for: about 3 hours at 100 k cycles/s.
MAX_MODEL_CYCLES = 1 << 30
#: Largest output (rows; positions over the batch): planning is a search over output-row chunks, and
#: anything larger would take minutes before the simulation even starts.
MAX_OUT_ROWS = 1024
MAX_POSITIONS = 1 << 20

#: What ``cycles`` counts (written into every result.json).
CYCLES_COVER = ("array compute only: from the first issued stream position to the last result word in the vector "
                "memories, summed over the runs of the layer; the DMA copies between DRAM and the on-chip memories "
                "are counted separately in counters.dma_cycles")


@dataclasses.dataclass
class SystolicJob(Job):
    """A loaded job: ``ifmap`` is NHWC and ``weights`` KH,KW,C_I,C_O (a GEMM is a 1x1 conv over an M x 1 image)."""

    layer: ConvLayer = None
    gemm: bool = False
    ifmap: np.ndarray = None
    weights: np.ndarray = None
    config_file: Path | None = None

    @property
    def output_file(self) -> str:
        return output_name(self.gemm)

    @property
    def output_key(self) -> str:
        return "c" if self.gemm else "ofmap"

    def output_array(self, ofmap: np.ndarray) -> np.ndarray:
        """The array the job writes: ofmap, or C (M x N) for a GEMM."""
        return ofmap.reshape(self.layer.height, self.layer.out_channels) if self.gemm else ofmap

    def input_paths(self) -> list[Path]:
        """The job folder and each file it reads (naming the files too refuses an ``--out`` that holds the job:
        the output folder is replaced as a whole)."""
        names = ("a", "b") if self.gemm else ("ifmap", "weights")
        return [Path(self.path), Path(self.path) / JOB_FILE, *(Path(self.path) / self.raw[k] for k in names)] \
            + ([self.config_file] if self.config_file else [])


def output_name(gemm: bool) -> str:
    return "c.npy" if gemm else "ofmap.npy"


def load_config(path) -> SystolicConfig:
    """A :class:`SystolicConfig` from a JSON file; :class:`BadInput` naming the file and the key otherwise."""
    raw = read_json(path, "config file")
    try:
        return SystolicConfig.from_dict(raw)
    except (TypeError, ValueError) as e:
        raise BadInput(f"{path}: {e}") from None


def _int8(path: Path, field: str, shape) -> np.ndarray:
    return read_npy(path, field, kind="iu", shape=shape, lo=-128, hi=127).astype(np.int8)


def _check_size(where, layer: ConvLayer):
    if layer.out_height > MAX_OUT_ROWS or layer.positions > MAX_POSITIONS:
        raise BadInput(f"{where}: the layer has {layer.out_height:,} output rows and {layer.positions:,} output "
                       f"positions, more than the {MAX_OUT_ROWS:,} rows / {MAX_POSITIONS:,} positions a simulation "
                       f"job may have; split the layer")
    for what, n in (("ifmap", layer.batch * layer.height * layer.width * layer.in_channels),
                    ("weights", layer.kernel_h * layer.kernel_w * layer.in_channels * layer.out_channels),
                    ("ofmap", layer.positions * layer.out_channels)):
        if n > MAX_ELEMENTS:
            raise BadInput(f"{where}: the layer's {what} has {n:,} elements, more than the {MAX_ELEMENTS:,} a "
                           f"simulation job may hold; split the layer")


def load_job(path) -> SystolicJob:
    """Read and check a systolic job folder (or its ``job.json``).

    Raises
    ------
    BadInput
        For a missing, empty, non-UTF-8 or non-JSON file, a missing or unknown key, a bad config value, an
        array that is truncated, not integer, of a shape that does not match the layer or with values outside
        int8, a layer too large to simulate or one the runtime cannot tile into the configured memories, a
        cycle limit out of range. The message names the file and the field.
    """
    path = Path(path)
    if path.is_file() and path.name == JOB_FILE:
        path = path.parent
    if not path.exists():
        raise BadInput(f"{path}: job folder not found")
    if not path.is_dir():
        raise BadInput(f"{path}: a job is a folder holding {JOB_FILE}, not a file")
    jf = path / JOB_FILE
    raw = read_json(jf, "job file")
    where = str(jf)
    gemm = "gemm" in raw
    allowed = _GEMM_KEYS if gemm else _CONV_KEYS
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise BadInput(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(allowed))}")
    required = ("engine", "gemm", "a", "b") if gemm else ("engine", "layer", "ifmap", "weights")
    for k in required:
        if k not in raw:
            raise BadInput(f"{where}: missing key {k!r}" + ("" if gemm else " (or 'gemm' for a GEMM job)"))
    if raw["engine"] != ENGINE:
        raise BadInput(f"{where}: engine must be 'systolic', not {raw['engine']!r}")
    if ("config" in raw) == ("config_file" in raw):
        raise BadInput(f"{where}: exactly one of 'config' (an object) or 'config_file' (a path) is required")
    config_file = None
    if "config" in raw:
        try:
            cfg = SystolicConfig.from_dict(raw["config"])
        except (TypeError, ValueError) as e:
            raise BadInput(f"{where}: config: {e}") from None
    else:
        if not isinstance(raw["config_file"], str) or not raw["config_file"]:
            raise BadInput(f"{where}: config_file must be a file name, not {raw['config_file']!r}")
        config_file = path / raw["config_file"]
        cfg = load_config(config_file)

    cycle_limit = raw.get("cycle_limit")
    if cycle_limit is not None:
        check_int(cycle_limit, f"{where}: cycle_limit", 1, MAX_CYCLE_LIMIT)

    names = ("a", "b") if gemm else ("ifmap", "weights")
    for key in names:
        if not isinstance(raw[key], str) or not raw[key]:
            raise BadInput(f"{where}: {key} must be a .npy file name, not {raw[key]!r}")
    if gemm:
        g = raw["gemm"]
        if not isinstance(g, dict) or set(g) != set(GEMM_KEYS):
            raise BadInput(f"{where}: gemm must be an object with exactly the keys m, n, k, not {g!r}")
        try:
            layer = gemm_layer(g["m"], g["n"], g["k"])
        except ValueError as e:
            raise BadInput(f"{where}: {e}") from None
        _check_size(where, layer)
        a = _int8(path / raw["a"], "a", (g["m"], g["k"]))
        b = _int8(path / raw["b"], "b", (g["k"], g["n"]))
        ifmap = a.reshape(1, g["m"], 1, g["k"])
        weights = b.reshape(1, 1, g["k"], g["n"])
    else:
        ld = raw["layer"]
        if not isinstance(ld, dict):
            raise BadInput(f"{where}: layer must be a JSON object, not {type(ld).__name__}")
        unknown = sorted(set(ld) - set(LAYER_KEYS))
        if unknown:
            raise BadInput(f"{where}: layer: unknown key {unknown[0]!r}; allowed keys: {', '.join(LAYER_KEYS)}")
        missing = [k for k in LAYER_KEYS if k not in ld and k not in ("stride", "pad")]
        if missing:
            raise BadInput(f"{where}: layer: missing key {missing[0]!r}")
        try:
            layer = ConvLayer(**ld)
        except (TypeError, ValueError) as e:
            raise BadInput(f"{where}: {e}") from None
        _check_size(where, layer)
        ifmap = _int8(path / raw["ifmap"], "ifmap", (layer.batch, layer.height, layer.width, layer.in_channels))
        weights = _int8(path / raw["weights"], "weights",
                        (layer.kernel_h, layer.kernel_w, layer.in_channels, layer.out_channels))
    try:
        p = plan(cfg, layer)
    except ValueError as e:
        raise BadInput(f"{where}: the layer cannot be tiled into this configuration: {e}") from None
    if p.model_cycles() > MAX_MODEL_CYCLES:
        raise BadInput(f"{where}: the layer needs {p.model_cycles():,} array cycles, more than the "
                       f"{MAX_MODEL_CYCLES:,} a simulation job may take; split the layer")
    return SystolicJob(path, ENGINE, cfg, raw, cycle_limit, layer, gemm, ifmap, weights, config_file)


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


def metrics(job: SystolicJob, cycles: int, latency=None) -> dict:
    """The systolic result metrics: MACs, utilization, what ``cycles`` covers, the reference numbers."""
    cfg, layer = job.cfg, job.layer
    util = layer.macs / (cfg.R * cfg.C * cycles) if cycles else 0.0
    out = {"macs": layer.macs, "utilization": round(util, 6), "cycles_cover": CYCLES_COVER,
           "reference": reference(cfg, layer)}
    if latency is not None:
        out["latency"] = latency
    return out


def read_result(outdir) -> dict:
    """``outdir/result.json`` as a dict (:class:`BadInput` if missing or malformed)."""
    return Result.read(outdir).to_dict()


def run_golden(job: SystolicJob, out, options: RunOptions = RunOptions()) -> Result:
    """The golden backend: the output by direct integer convolution; ``cycles`` from the schedule model."""
    ofmap = golden.conv2d(job.layer, job.ifmap, job.weights)
    np.save(Path(out) / job.output_file, job.output_array(np.asarray(ofmap, np.int32)))
    ref = reference(job.cfg, job.layer)
    return Result(ENGINE, "golden", "ok", ref["model_cycles"], {}, {job.output_key: job.output_file},
                  f"cycles from the schedule model (sw.systolic.schedule.run_cycles); SCALE-Sim v2 WS "
                  f"{ref['scalesim_ws_cycles']:,}, folds x T + 2R + C - 2 = {ref['ideal_cycles']:,}, bound MACs/(R*C) "
                  f"= {ref['physical_bound']:,}, folds {ref['folds']}, runs {ref['runs']}",
                  metrics(job, ref["model_cycles"]))
