"""Engine plugins of the ``accelgen`` command line: one module per engine in this package.

The CLI discovers every module here (no list to edit), so adding an engine never touches ``sim/cli.py``.
A module ``sim/engines/<name>.py`` provides

``DEFAULT_CONFIG`` : str
    Path of the default config JSON, relative to the project root (``configs/<name>/default.json``).
``load_config(path)``
    The engine's validated config dataclass; raises ``ValueError`` (naming the field) or ``OSError``.
    The config has ``name`` (short label), ``to_dict()`` and ``digest()``.
``top(cfg)``
    The synthesisable engine as a ``wiring.Component`` (no simulation models): ``accelgen verilog`` and the
    FPGA flows convert exactly this.
``manifest(cfg)``
    Engine-specific manifest entries (memory map, scratchpads, peak MAC/cycle...) as a JSON-able dict.
``add_sim_args(parser)`` and ``sim(args)``
    ``accelgen sim <name> ...``: run one job (or program) on the RTL or the golden model; returns the exit status
    (0 ok, 1 ran with another status, 2 bad input).
``add_regress_args(parser)`` and ``regress(args, cfg)``
    ``accelgen regress <name>`` (``make sim TARGET=<name>``): build the config's RTL once and run the cocotb
    regression; common options ``--config``, ``--random``, ``--seed``, ``--testcase``, ``--waves`` are added
    by the CLI (``args.random``/``args.seed`` are None when not given: the engine picks its defaults).

Optional: ``add_trace_args(parser)`` and ``trace_diff(args)`` for ``accelgen trace diff <name> ...``.
Modules must import heavy dependencies (Amaranth, cocotb, numpy models) inside these functions so that
``accelgen --help`` stays fast.
"""

import importlib
import pkgutil

__all__ = ["names", "get"]


def names() -> list[str]:
    """Names of every engine plugin, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get(name: str):
    """The plugin module of engine ``name``; raises ``ValueError`` listing the engines."""
    if name not in names():
        raise ValueError(f"unknown engine {name!r}; engines: {', '.join(names())}")
    return importlib.import_module(f"{__name__}.{name}")
