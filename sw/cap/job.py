"""CAP job folders: ``job.json`` (engine, config, a list of operations on ``.npy`` inputs) in, ``op<k>.npy`` and
``result.json`` out (see docs/cap.md)::

    {"engine": "cap", "config": {...} | "config_file": "cfg.json", "cycle_limit": 1000000 (optional),
     "ops": [{"op": "add", "bits": 8, "signed": true, "inputs": {"a": "a.npy", "b": "b.npy"}},
             {"op": "maxpool", "bits": 4, "signed": false, "inputs": {"a": "x.npy"}, "window": 4}, ...]}

result.json is the contract's (:class:`sw.common.contract.Result`): status, cycles (micro-op cycles of every
run, the CYCLES counter summed), counters (the register table's counters summed over the job), outputs
(``op<k>`` -> ``op<k>.npy``), message, and the metrics ``ops`` (per operation: op, bits, signed, cycles,
compares, writes, reads, runs) and, on the RTL, ``total_cycles`` (every simulated cycle: DMA transfers and
host accesses too).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from sw.common.contract import MAX_CYCLE_LIMIT, BadInput, Job, check_int, read_json, read_npy
from sw.common.job import JobError

from .config import CAPConfig
from .programs import check_inputs

__all__ = ["CapJob", "load_job", "load_cap_job", "write_cap_job", "write_cap_result", "read_cap_result",
           "JobError", "MAX_ELEMENTS", "MAX_MATMUL_MACS"]

_TOP = {"engine", "config", "config_file", "ops", "cycle_limit"}
_OP = {"op", "bits", "signed", "inputs", "window"}
#: Largest input array (elements): the runtime folds any size over runs, but beyond this a job takes hours.
MAX_ELEMENTS = 1 << 20
#: Largest matmul (i * j * u multiply-accumulates) for the same reason.
MAX_MATMUL_MACS = 1 << 24
#: Largest number of operations in one job.
MAX_OPS = 1024


@dataclasses.dataclass
class CapJob(Job):
    """A loaded CAP job: ``ops`` is a list of dicts with checked numpy ``arrs``."""

    ops: list = dataclasses.field(default_factory=list)

    @property
    def config(self) -> CAPConfig:
        return self.cfg


def load_job(path) -> CapJob:
    """Read and check a CAP job folder (or its ``job.json``).

    Raises
    ------
    JobError
        (a :class:`~sw.common.contract.BadInput`) for a missing, empty, non-UTF-8 or non-JSON job file, an
        unknown or missing key, a bad config, an input that is not an integer ``.npy`` array (empty,
        truncated, pickled), values outside the op's M-bit range, shapes that do not match, or a size that
        would take hours; the message names the file, the op index and the field.
    """
    path = Path(path)
    if path.is_file() and path.name == "job.json":
        path = path.parent
    jf = path / "job.json"
    if not path.exists():
        raise JobError(f"{path}: job folder not found")
    if not path.is_dir():
        raise JobError(f"{path}: a CAP job is a folder holding job.json, not a file")
    try:
        raw = read_json(jf, "job file")
    except BadInput as e:
        raise JobError(str(e)) from None
    unknown = sorted(set(raw) - _TOP)
    if unknown:
        raise JobError(f"{jf}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(_TOP))}")
    if raw.get("engine") != "cap":
        raise JobError(f"{jf}: engine must be 'cap', not {raw.get('engine')!r}")
    if ("config" in raw) == ("config_file" in raw):
        raise JobError(f"{jf}: exactly one of 'config' (an object) or 'config_file' (a path) is required")
    if "config" in raw:
        cdict, cwhere = raw["config"], f"{jf}: config"
    else:
        if not isinstance(raw["config_file"], str):
            raise JobError(f"{jf}: config_file must be a path string, not {raw['config_file']!r}")
        cpath = path / raw["config_file"]
        try:
            cdict = read_json(cpath, "config file")
        except BadInput as e:
            raise JobError(str(e)) from None
        cwhere = f"{cpath}"
    try:
        cfg = CAPConfig.from_dict(cdict)
    except (ValueError, TypeError) as e:
        raise JobError(f"{cwhere}: {e}") from None
    cycle_limit = None
    if "cycle_limit" in raw:
        try:
            cycle_limit = check_int(raw["cycle_limit"], "cycle_limit", 1, MAX_CYCLE_LIMIT)
        except BadInput as e:
            raise JobError(f"{jf}: {e}") from None
    ops = raw.get("ops")
    if not isinstance(ops, list) or not ops:
        raise JobError(f"{jf}: ops must be a non-empty list of operations")
    if len(ops) > MAX_OPS:
        raise JobError(f"{jf}: ops has {len(ops)} operations; at most {MAX_OPS} per job")
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
        signed = o.get("signed", False)
        try:        # op, bits and signed first: their messages are clearer than an input's
            check_inputs(o["op"], o["bits"], signed, {}, o.get("window"))
        except ValueError as e:
            if "missing input" not in str(e) and "window" not in str(e):
                raise JobError(f"{where}: {e}") from None
        inputs = {}
        for name, fname in o["inputs"].items():
            if not isinstance(fname, str) or not fname:
                raise JobError(f"{where}: input {name}: must name a .npy file, not {fname!r}")
            f = path / fname
            if not f.is_file():
                raise JobError(f"{where}: input {name}: file {fname!r} not found (looked for {f})")
            try:
                inputs[name] = read_npy(f, f"ops[{k}].inputs.{name}", kind="iub")
            except BadInput as e:
                raise JobError(str(e)) from None
            if inputs[name].size > MAX_ELEMENTS:
                raise JobError(f"{f}: ops[{k}].inputs.{name}: {inputs[name].size:,} elements; at most "
                               f"{MAX_ELEMENTS:,} per input (larger jobs would run for hours)")
        try:
            arrs = check_inputs(o["op"], o["bits"], signed, inputs, o.get("window"))
        except ValueError as e:
            raise JobError(f"{where}: {e}") from None
        if o["op"] == "matmul":
            (i, j), u = arrs["a"].shape, arrs["b"].shape[1]
            if i * j * u > MAX_MATMUL_MACS:
                raise JobError(f"{where}: matmul of {i}x{j} by {j}x{u} is {i * j * u:,} multiply-accumulates; at "
                               f"most {MAX_MATMUL_MACS:,} per op (larger jobs would run for hours)")
        out.append({"op": o["op"], "bits": o["bits"], "signed": signed, "window": o.get("window"), "arrs": arrs})
    return CapJob(path, "cap", cfg, raw, cycle_limit, ops=out)


#: The old name.
load_cap_job = load_job


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


def op_outputs(outputs) -> dict:
    return {f"op{k}": f"op{k}.npy" for k in range(len(outputs))}


def cap_result(backend, status, message, op_results, outputs=(), out=None, **metrics):
    """The :class:`~sw.common.contract.Result` of a job (writes ``out/op<k>.npy`` when ``out`` is given)."""
    from sw.common.contract import Result
    from .regs import REGS
    if out is not None:
        for k, arr in enumerate(outputs):
            np.save(Path(out) / f"op{k}.npy", np.asarray(arr, np.int64))
    counters = {name: int(sum(r.get(name, 0) for r in op_results)) for name in REGS.counters()}
    return Result("cap", backend, status, counters["cycles"], counters, op_outputs(outputs), message,
                  {"ops": list(op_results), **metrics})


def write_cap_result(out, status, message, op_results, outputs=(), backend="golden"):
    """Write ``out/result.json`` and ``out/op<k>.npy`` for each output array."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cap_result(backend, status, message, op_results, outputs, out).write(out)
    return out


def read_cap_result(out) -> dict:
    """result.json of an output folder (a dict), with ``outputs`` replaced by the list of arrays."""
    out = Path(out)
    res = read_json(out / "result.json", "result file")
    res["outputs"] = [np.load(out / f"op{k}.npy") for k in range(len(res.get("ops", [])))
                      if (out / f"op{k}.npy").exists()]
    return res


def op_result(o, counters, runs):
    return {"op": o["op"], "bits": o["bits"], "signed": o["signed"], **{k: int(v) for k, v in counters.items()},
            "runs": runs}
