"""CAP job folders: ``job.json`` (engine, config, a list of operations on ``.npy`` inputs) in, ``op<k>.npy`` and
``result.json`` out (see docs/cap.md)::

    {"engine": "cap", "config": {...} | "config_file": "cfg.json",
     "ops": [{"op": "add", "bits": 8, "signed": true, "inputs": {"a": "a.npy", "b": "b.npy"}},
             {"op": "maxpool", "bits": 4, "signed": false, "inputs": {"a": "x.npy"}, "window": 4}, ...]}

result.json: ``{"status": "ok"|"error", "message": str, "cycles": total, "ops": [{"op", "bits", "signed",
"cycles", "compares", "writes", "reads", "runs"}, ...]}``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from sw.common.job import JobError, _read_json, read_job_json

from .config import CAPConfig
from .programs import check_inputs

__all__ = ["CapJob", "load_cap_job", "write_cap_job", "write_cap_result", "read_cap_result", "JobError"]

_TOP = {"engine", "config", "config_file", "ops"}
_OP = {"op", "bits", "signed", "inputs", "window"}


@dataclasses.dataclass
class CapJob:
    """A loaded CAP job: ``ops`` is a list of dicts with checked numpy ``arrs``."""

    path: Path
    config: CAPConfig
    ops: list


def load_cap_job(path) -> CapJob:
    """Read and check a CAP job folder.

    Raises
    ------
    JobError
        For a missing file, an unknown or missing key, a bad config, an input that is not an integer
        ``.npy`` array, values outside the op's M-bit range, or shapes that do not match; the message
        names the file, the op index and the field.
    """
    path, jf, raw = read_job_json(path)
    unknown = sorted(set(raw) - _TOP)
    if unknown:
        raise JobError(f"{jf}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(_TOP))}")
    if raw.get("engine") != "cap":
        raise JobError(f"{jf}: engine must be 'cap', not {raw.get('engine')!r}")
    if ("config" in raw) == ("config_file" in raw):
        raise JobError(f"{jf}: exactly one of 'config' (an object) or 'config_file' (a path) is required")
    cdict = raw["config"] if "config" in raw else _read_json(path / str(raw["config_file"]))
    try:
        cfg = CAPConfig.from_dict(cdict)
    except (ValueError, TypeError) as e:
        raise JobError(f"{jf}: config: {e}") from None
    ops = raw.get("ops")
    if not isinstance(ops, list) or not ops:
        raise JobError(f"{jf}: ops must be a non-empty list of operations")
    out = []
    for k, o in enumerate(ops):
        where = f"{jf}: ops[{k}]"
        if not isinstance(o, dict):
            raise JobError(f"{where} must be an object")
        bad = sorted(set(o) - _OP)
        if bad:
            raise JobError(f"{where}: unknown key {bad[0]!r}; allowed keys: {', '.join(sorted(_OP))}")
        for key in ("op", "bits", "inputs"):
            if key not in o:
                raise JobError(f"{where}: missing key {key!r}")
        if not isinstance(o["inputs"], dict):
            raise JobError(f"{where}: inputs must map names (a, b) to .npy files")
        inputs = {}
        for name, fname in o["inputs"].items():
            f = path / str(fname)
            if not f.is_file():
                raise JobError(f"{where}: input {name}: file {fname!r} not found (looked for {f})")
            try:
                inputs[name] = np.load(f, allow_pickle=False)
            except (ValueError, OSError) as e:
                raise JobError(f"{where}: input {name}: {fname!r} is not a .npy array: {e}") from None
        signed = o.get("signed", False)
        try:
            arrs = check_inputs(o["op"], o["bits"], signed, inputs, o.get("window"))
        except ValueError as e:
            raise JobError(f"{where}: {e}") from None
        out.append({"op": o["op"], "bits": o["bits"], "signed": signed, "window": o.get("window"), "arrs": arrs})
    return CapJob(path, cfg, out)


def write_cap_job(path, cfg: CAPConfig, ops) -> Path:
    """Write a job folder from ``ops`` = [{"op", "bits", "signed", "inputs": {name: array}, "window"?}]."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    raw_ops = []
    for k, o in enumerate(ops):
        files = {}
        for name, arr in o["inputs"].items():
            fname = f"op{k}_{name}.npy"
            np.save(path / fname, np.asarray(arr))
            files[name] = fname
        entry = {"op": o["op"], "bits": o["bits"], "signed": o.get("signed", False), "inputs": files}
        if o.get("window") is not None:
            entry["window"] = o["window"]
        raw_ops.append(entry)
    (path / "job.json").write_text(json.dumps({"engine": "cap", "config": cfg.to_dict(), "ops": raw_ops},
                                              indent=1) + "\n")
    return path


def write_cap_result(out, status, message, op_results, outputs=()):
    """Write ``out/result.json`` and ``out/op<k>.npy`` for each output array."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for k, arr in enumerate(outputs):
        np.save(out / f"op{k}.npy", np.asarray(arr, np.int64))
    res = {"status": status, "message": message, "cycles": int(sum(r["cycles"] for r in op_results)),
           "ops": op_results}
    (out / "result.json").write_text(json.dumps(res, indent=1) + "\n")
    return out


def read_cap_result(out) -> dict:
    """result.json of an output folder, with ``outputs`` (list of arrays) added."""
    out = Path(out)
    res = _read_json(out / "result.json")
    res["outputs"] = [np.load(out / f"op{k}.npy") for k in range(len(res.get("ops", [])))
                      if (out / f"op{k}.npy").exists()]
    return res


def op_result(o, counters, runs):
    return {"op": o["op"], "bits": o["bits"], "signed": o["signed"], **{k: int(v) for k, v in counters.items()},
            "runs": runs}
