"""Where the RTL backend of every engine lives: ``tb.<engine>.backend.run_rtl(job, out, options) -> Result``.

The testbench layer sits above the engine registry (:mod:`sim.engines`), so the registry cannot name its RTL
backend; the layers above it (the CLI, the benches, ``accelgen compare``) find it here by convention.
"""

import importlib

__all__ = ["rtl"]


def rtl(engine: str):
    """The RTL backend callable of ``engine``."""
    return importlib.import_module(f"tb.{engine}.backend").run_rtl
