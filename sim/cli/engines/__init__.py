"""The command-line half of each engine: ``accelgen sim|regress|trace diff ENGINE`` (one module per engine).

The registry half (default config, config loader, top, manifest) is :mod:`sim.engines`; these modules add what
needs the testbenches (``tb``) and so sits above them in the layers.
"""

import importlib

from sim import engines as _registry

__all__ = ["names", "get"]


def names() -> list[str]:
    """Names of every engine, sorted (those of :mod:`sim.engines`)."""
    return _registry.names()


def get(name: str):
    """The command-line module of engine ``name``; raises ``ValueError`` listing the engines."""
    _registry.get(name)
    return importlib.import_module(f"{__name__}.{name}")
