"""The engine registry: one module per engine in this package, each declaring an :class:`EngineSpec` as ``SPEC``.

The CLI, the FPGA flows and the benches discover every module here (no list to edit), so adding an engine never
touches shared code. A module ``sim/engines/<name>.py`` provides

``SPEC`` : EngineSpec
    Everything shared code needs to know about the engine (below).
``DEFAULT_CONFIG``, ``load_config(path)``, ``top(cfg)``, ``manifest(cfg)``
    The same as module functions (the FPGA flows use them).

The RTL backend is ``tb.<name>.backend.run_rtl`` (the testbench layer sits above this one, so it is looked up
by :func:`tb.backends.rtl` from the layers above). Modules import heavy dependencies (Amaranth, cocotb, numpy
models) inside functions so that ``accelgen --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from pathlib import Path
from typing import Any, Callable

__all__ = ["names", "get", "spec", "EngineSpec", "default_config_path", "ROOT"]


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    """What an engine declares once, for every shared command.

    Attributes
    ----------
    name : str
        Engine name (``accelgen sim NAME``).
    default_config : str
        Default config JSON, relative to the project root.
    load_config : callable
        ``path -> config``: the engine's validated config dataclass (``ValueError``/``OSError`` for bad files).
    top : callable
        ``config -> wiring.Component``: the synthesisable engine.
    load_job : callable
        ``path -> sw.common.contract.Job``; raises :class:`sw.common.contract.BadInput` naming the file/field.
    golden : callable
        The golden backend ``(job, out, options) -> Result``.
    job_help : str
        What a job is (``--job`` help).
    default_latency : int or None
        Memory read latency when ``--latency`` is not given (None: the engine has no latency option).
    default_cycle_limit : int
        Cycle limit when neither ``--cycle-limit`` nor the job gives one.
    regs : callable or None
        ``() -> sw.common.regs.RegisterMap`` (None while an engine has no table).
    metrics : tuple of str
        Result metrics printed by ``accelgen sim`` and used as regression table columns.
    backends : tuple of str
        Backend names; ``"golden"`` and ``"rtl"`` always, plus aliases (xpulpnn: ``"iss"`` for golden).
    manifest : callable
        ``config -> dict``: engine-specific manifest entries.
    lower : callable or None
        ``(graph, config) -> sw.common.network.Lowered`` for engines that run networks (see
        :mod:`sw.common.network`); None while the engine cannot lower the integer graph.
    aliases : dict
        Extra spellings of the generic options (``{"--elf": "--job"}``), kept for an engine's older commands.
    trace : bool
        The engine records an execution trace (``accelgen sim --trace``).
    energy : callable or None
        ``(graph, config) -> float``: energy per inference in microjoules from the analytic model (sw/dse), for
        engines it has a bridge for; the ``accelgen compare`` energy column.
    """

    name: str
    default_config: str
    load_config: Callable[[Any], Any]
    top: Callable[[Any], Any]
    load_job: Callable[[Any], Any]
    golden: Callable[..., Any]
    job_help: str = "job folder (job.json + inputs)"
    default_latency: int | None = None
    default_cycle_limit: int = 10_000_000
    regs: Callable[[], Any] | None = None
    metrics: tuple = ()
    backends: tuple = ("rtl", "golden")
    manifest: Callable[[Any], dict] = lambda cfg: {}
    lower: Callable[[Any, Any], Any] | None = None
    energy: Callable[[Any, Any], float] | None = None
    aliases: dict = dataclasses.field(default_factory=dict)
    trace: bool = False

    def is_golden(self, backend: str) -> bool:
        return backend != "rtl"


def names() -> list[str]:
    """Names of every engine, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get(name: str):
    """The registry module of engine ``name``; raises ``ValueError`` listing the engines."""
    if name not in names():
        raise ValueError(f"unknown engine {name!r}; engines: {', '.join(names())}")
    return importlib.import_module(f"{__name__}.{name}")


#: The project root: default configs are found relative to the code, not to the working directory.
ROOT = Path(__file__).resolve().parent.parent.parent


def default_config_path(name: str) -> Path:
    """Absolute path of engine ``name``'s default config."""
    return ROOT / get(name).DEFAULT_CONFIG


def spec(name: str) -> EngineSpec | None:
    """The :class:`EngineSpec` of engine ``name`` (None for an engine not yet on the contract)."""
    return getattr(get(name), "SPEC", None)
