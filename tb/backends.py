"""Where the RTL backends of every engine live: ``tb.<engine>.backend.run_rtl(job, out, options) -> Result`` for
jobs and ``tb.<engine>.network.run_network_rtl(lowered, inputs, out, options, progress)`` for whole networks.

The testbench layer sits above the engine registry (:mod:`sim.engines`), so the registry cannot name its RTL
backend; the layers above it (the CLI, the benches, ``accelgen compare``) find it here by convention.
"""

import importlib

__all__ = ["rtl", "rtl_network"]


def rtl(engine: str):
    """The RTL backend callable of ``engine``."""
    return importlib.import_module(f"tb.{engine}.backend").run_rtl


def rtl_network(engine: str):
    """The RTL network runner of ``engine``: ``tb.<engine>.network.run_network_rtl`` (see sw.common.network)."""
    return importlib.import_module(f"tb.{engine}.network").run_network_rtl
