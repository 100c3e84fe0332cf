"""Graph folders: ``graph.json`` (structure, shapes, quantisation parameters) + ``weights.npz`` (constants).

    save(graph, "build/g")      # written to a temporary folder next to it, then renamed in
    graph = load("build/g")     # validated; GraphError names the file and field on any problem
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .ir import Graph, GraphError, Node, Tensor

__all__ = ["save", "load", "FORMAT", "GRAPH_FILE", "WEIGHTS_FILE"]

FORMAT = "accelgen-graph/1"
GRAPH_FILE = "graph.json"
WEIGHTS_FILE = "weights.npz"


def _write(graph: Graph, folder: Path):
    doc = {"format": FORMAT, **graph.to_dict(),
           "constants": {k: {"dtype": v.dtype.name, "shape": list(v.shape)} for k, v in graph.constants.items()}}
    (folder / GRAPH_FILE).write_text(json.dumps(doc, indent=1) + "\n")
    with open(folder / WEIGHTS_FILE, "wb") as f:
        np.savez(f, **graph.constants)


def save(graph: Graph, folder) -> Path:
    """Validate ``graph`` and write it to ``folder``: both files are written in a temporary folder next to it,
    then the folder is renamed in (or, if ``folder`` already exists, the two files are moved into it; other
    files there are left alone)."""
    graph.validate()
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise GraphError(f"{folder}: exists and is not a folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp", dir=folder.parent))
    try:
        _write(graph, tmp)
        if folder.is_dir():
            for f in (WEIGHTS_FILE, GRAPH_FILE):
                os.replace(tmp / f, folder / f)
        else:
            tmp.rename(folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _field(doc, key, typ, where):
    if key not in doc:
        raise GraphError(f"{where}: missing field {key!r}")
    v = doc[key]
    if not isinstance(v, typ) or isinstance(v, bool) and typ is not bool:
        raise GraphError(f"{where}: field {key!r} must be {getattr(typ, '__name__', typ)}, not {type(v).__name__}")
    return v


def load(folder) -> Graph:
    """Read and validate a graph folder."""
    folder = Path(folder)
    gpath, wpath = folder / GRAPH_FILE, folder / WEIGHTS_FILE
    for p in (gpath, wpath):
        if not p.is_file():
            raise GraphError(f"{p}: missing file")
    try:
        doc = json.loads(gpath.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GraphError(f"{gpath}: not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise GraphError(f"{gpath}: field 'format' must be {FORMAT!r}")
    try:
        with np.load(wpath, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise GraphError(f"{wpath}: unreadable or truncated npz ({e})") from None
    g = Graph(name=_field(doc, "name", str, str(gpath)))
    try:
        for i, t in enumerate(_field(doc, "tensors", list, str(gpath))):
            where = f"{gpath}: tensors[{i}]"
            if not isinstance(t, dict):
                raise GraphError(f"{where}: must be an object")
            scale = t.get("scale")
            if not isinstance(scale, (int, float, list)) or isinstance(scale, bool):
                raise GraphError(f"{where}: field 'scale' must be a number or a list of numbers")
            if isinstance(scale, list) and not all(isinstance(s, (int, float)) for s in scale):
                raise GraphError(f"{where}: field 'scale' must be a list of numbers")
            g.add_tensor(_field(t, "name", str, where), _field(t, "shape", list, where), _field(t, "dtype", str, where),
                         scale, _field(t, "zero_point", int, where))
        for i, n in enumerate(_field(doc, "nodes", list, str(gpath))):
            where = f"{gpath}: nodes[{i}]"
            if not isinstance(n, dict):
                raise GraphError(f"{where}: must be an object")
            g.nodes.append(Node(_field(n, "name", str, where), _field(n, "op", str, where),
                                _field(n, "inputs", list, where), _field(n, "output", str, where),
                                _field(n, "attrs", dict, where)))
        g.inputs = _field(doc, "inputs", list, str(gpath))
        g.outputs = _field(doc, "outputs", list, str(gpath))
        g.meta = doc.get("meta", {})
        consts = _field(doc, "constants", dict, str(gpath))
        for k, spec in consts.items():
            if k not in arrays:
                raise GraphError(f"{wpath}: constant {k!r} missing")
            a = arrays[k]
            if not isinstance(spec, dict) or a.dtype.name != spec.get("dtype") or list(a.shape) != spec.get("shape"):
                raise GraphError(f"{wpath}: constant {k!r} is {a.dtype} {list(a.shape)}, {gpath} says {spec!r}")
            g.add_constant(k, a)
        g.validate()
    except GraphError as e:
        msg = str(e)
        raise GraphError(msg if msg.startswith(str(folder)) else f"{gpath}: {msg}") from None
    return g


def tensor_from_dict(d) -> Tensor:  # convenience for tools
    return Tensor(d["name"], tuple(d["shape"]), d["dtype"], d["scale"], d["zero_point"])
