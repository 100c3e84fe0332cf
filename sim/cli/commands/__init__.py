"""Extra top-level ``accelgen`` commands: one module per command group in this package.

Each module defines ``register(subparsers)``, which adds its parser(s) to the ``accelgen`` sub-command
parsers and sets ``func`` (a callable taking the parsed args and returning the exit status). The CLI
discovers the modules, so a new command never edits ``sim/cli.py``. Import heavy dependencies inside ``func``.
"""

import importlib
import pkgutil

__all__ = ["modules"]


def modules():
    """The command modules, sorted by name."""
    return [importlib.import_module(f"{__name__}.{m.name}")
            for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name) if not m.name.startswith("_")]
