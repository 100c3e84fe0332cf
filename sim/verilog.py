"""Amaranth -> Verilog, cached by a digest of the configuration and the generator sources.

``generate(name, make_top, key)`` writes ``<out_root>/<name>-<digest>/`` holding the top's Verilog,
the simulation models it instantiates, ``config.json`` (the key) and ``manifest.json``. The digest
covers the key and the source text of the engine's generator: every ``.py`` under ``hw/<name>/`` and
``hw/common/``, every project module those import (followed transitively, e.g. ``sw/<name>/config.py``),
``sim/simtop.py`` and ``sim/models/*.v``. Editing the generator invalidates the cache, editing another
engine or a golden model does not, and re-running a test does not re-elaborate anything (``make_top``
is not even called on a cache hit).
"""

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["VerilogBuild", "generate", "write_verilog", "source_digest", "REPO_ROOT"]

#: Root of the accelgen checkout (the folder holding ``hw/`` and ``sim/``).
REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True)
class VerilogBuild:
    """Generated Verilog of one configuration.

    Attributes
    ----------
    dir : Path
        Folder holding the files.
    top_name : str
        Name of the top module.
    files : tuple of Path
        Verilog files to compile (the top first, then models).
    digest : str
        Hex digest of the inputs (key + generator sources); part of ``dir``'s name.
    ports : dict
        Port name -> ``{"dir": "input"|"output", "width": int}`` of the top.
    """

    dir: Path
    top_name: str
    files: tuple
    digest: str
    ports: dict = field(default_factory=dict, compare=False)


def _module_file(dotted):
    """The project file of module ``dotted`` (``pkg/mod.py`` or ``pkg/mod/__init__.py``), or None."""
    base = REPO_ROOT.joinpath(*dotted.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _imports_of(path):
    """Project files imported by the Python file ``path`` (absolute imports of hw, sw, sim, tb, fpga)."""
    import ast
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (SyntaxError, UnicodeDecodeError):
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    found = []
    for dotted in names:
        if dotted.split(".")[0] in ("hw", "sw", "sim", "tb", "fpga"):
            parts = dotted.split(".")
            for i in range(1, len(parts) + 1):   # the package __init__ files run too
                f = _module_file(".".join(parts[:i]))
                if f is not None:
                    found.append(f)
    return found


def _source_files(engine=None, extra_files=()):
    if engine is None:
        roots = sorted((REPO_ROOT / "hw").rglob("*.py"))
    else:   # a fixture outside hw/ (e.g. tb/common/memcopy.py) comes in through extra_files
        roots = sorted((REPO_ROOT / "hw" / engine).rglob("*.py")) + sorted((REPO_ROOT / "hw" / "common").rglob("*.py"))
    roots += [REPO_ROOT / "sim" / "simtop.py"]
    roots += [Path(p).resolve() for p in extra_files if str(p).endswith(".py")]
    seen, todo = set(), list(roots)
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo += _imports_of(f)
    return sorted(seen) + sorted(MODELS_DIR.glob("*.v"))


def source_digest(key, extra_files=(), *, engine=None):
    """Digest of ``key`` (JSON-serialisable) and of the generator sources.

    Parameters
    ----------
    key : dict
        The configuration; serialised with sorted keys.
    extra_files : iterable of path-like
        More files whose content enters the digest (e.g. the engine's module outside ``hw/``); the project
        modules a ``.py`` file among them imports enter too.
    engine : str, optional
        Engine folder under ``hw/``: only its generator sources (and what they import) enter the digest.
        Without it every ``.py`` under ``hw/`` does.

    Returns
    -------
    str
        16 hex digits of a SHA-256.
    """
    try:
        key_text = json.dumps(key, sort_keys=True, default=str)
    except TypeError as e:
        raise TypeError(f"key must be JSON-serialisable: {e}") from None
    h = hashlib.sha256(key_text.encode())
    for path in dict.fromkeys([*_source_files(engine, extra_files), *(Path(p).resolve() for p in extra_files)]):
        path = Path(path).resolve()
        try:
            rel = path.relative_to(REPO_ROOT)
        except ValueError:
            rel = path
        h.update(b"\0" + str(rel).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _ports_of(top):
    from amaranth.hdl import Value
    from amaranth.lib import wiring
    ports = {"clk": {"dir": "input", "width": 1}, "rst": {"dir": "input", "width": 1}}
    if isinstance(top, wiring.Component):
        for path, member, value in top.signature.flatten(top):
            name = "__".join(str(p) for p in path)
            ports[name] = {"dir": "input" if member.flow == wiring.In else "output",
                           "width": len(Value.cast(value))}
    return ports


def _atomic_write(path, text):
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_verilog(component, path, *, name=None):
    """Convert one component to Verilog (no simulation wrapper), e.g. for ``make verilog``.

    Parameters
    ----------
    component : wiring.Component
        The design.
    path : path-like
        Output ``.v`` file; parent folders are created.
    name : str, optional
        Module name; defaults to the file's stem.

    Returns
    -------
    Path
        The file written.
    """
    from amaranth.back import verilog
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = verilog.convert(component, name=name or path.stem, emit_src=False)
    _atomic_write(path, text)
    return path


def generate(name, make_top, key, out_root="build/verilog", *, models=(), extra_files=()):
    """Generate (or reuse) the Verilog of one configuration.

    Parameters
    ----------
    name : str
        Short name of the design, e.g. ``"memcopy"``; also the Verilog top module name.
    make_top : callable
        Called with no arguments on a cache miss; returns the Amaranth top (usually a
        :class:`sim.simtop.SimTop`).
    key : dict
        Everything that selects the configuration (JSON-serialisable). Saved as ``config.json``.
    out_root : path-like
        Cache root; the build lives in ``<out_root>/<name>-<digest>``.
    models : iterable of path-like
        Extra Verilog files to copy alongside. The DRAM model is added automatically for a SimTop.
    extra_files : iterable of path-like
        Files outside ``hw/`` whose content must enter the digest (e.g. a fixture engine's module).

    Returns
    -------
    VerilogBuild

    Raises
    ------
    ValueError
        If ``name`` is not a valid Verilog identifier.
    """
    if not name.isidentifier():
        raise ValueError(f"name must be a Verilog identifier, not {name!r}")
    models = [Path(p).resolve() for p in models]
    digest = source_digest({"name": name, "key": key, "models": [p.name for p in models]},
                           extra_files=[*extra_files, *models], engine=name)
    out = Path(out_root).resolve() / f"{name}-{digest}"
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text())
        except json.JSONDecodeError:
            manifest = {}
        if manifest.get("digest") == digest:
            return VerilogBuild(out, name, tuple(out / f for f in manifest["files"]), digest,
                                manifest.get("ports", {}))

    from amaranth import __version__ as amaranth_version
    from amaranth.back import verilog
    from sim.progress import step
    from sim.simtop import DRAM_MODEL, SimTop

    t0 = time.monotonic()
    with step(f"Verilog generation of {name} ({digest})", "new configuration or changed generator source"):
        top = make_top()
        if isinstance(top, SimTop) and DRAM_MODEL not in models:
            models.append(DRAM_MODEL)
        ports = _ports_of(top)
        text = verilog.convert(top, name=name, emit_src=False)
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / f"{name}.v", text)
    files = [f"{name}.v"]
    for model in models:
        shutil.copyfile(model, out / model.name)
        files.append(model.name)
    _atomic_write(out / "config.json", json.dumps(key, indent=2, sort_keys=True, default=str) + "\n")
    manifest = {
        "name": name,
        "digest": digest,
        "amaranth": amaranth_version,
        "files": files,
        "ports": ports,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.monotonic() - t0, 3),
    }
    # The manifest is written last: its presence marks a complete folder.
    _atomic_write(manifest_path, json.dumps(manifest, indent=2) + "\n")
    return VerilogBuild(out, name, tuple(out / f for f in files), digest, ports)
