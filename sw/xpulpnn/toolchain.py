"""Build C and assembly programs for the core with the RISC-V toolchain installed by the project.

The compiler is clang from the ``ziglang`` wheel (``python -m ziglang cc``), targeting
``riscv32-freestanding-none`` with ``generic_rv32+m``; lld links with ``env/link.ld`` (RAM at 0x8000_0000).
The include path holds ``env/`` (``riscv_test.h``, ``test_macros.h``) and the generated ``xpulpnn_insn.h``
(assembler macros and C macros of every custom instruction, from :func:`sw.xpulpnn.isa.asm_header`).
Linker relaxation is off so that hardware-loop macros can compute label offsets at assembly time.

Outputs are cached under ``build/xpulpnn/elf`` by a digest of the sources, flags and headers.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from sw.xpulpnn.isa import asm_header

__all__ = ["ENV_DIR", "LINK_LD", "CFLAGS", "ToolchainError", "compile_program", "include_dir", "compiler"]

ENV_DIR = Path(__file__).resolve().parent / "env"
LINK_LD = ENV_DIR / "link.ld"
CRT0 = ENV_DIR / "crt0.S"
RUNTIME = ENV_DIR / "runtime.c"
_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = _ROOT / "build" / "xpulpnn"

CFLAGS = ("-target", "riscv32-freestanding-none", "-mcpu=generic_rv32+m", "-mno-relax", "-ffreestanding",
          "-fno-builtin", "-nostdlib", "-static", "-O2", "-Wall")


class ToolchainError(RuntimeError):
    """The compiler or linker failed; the message holds its output."""


def compiler():
    """The C compiler command (a list)."""
    return [sys.executable, "-m", "ziglang", "cc"]


def include_dir(build_dir=BUILD_DIR) -> Path:
    """Folder with the generated ``xpulpnn_insn.h`` (rewritten only when its text changes)."""
    inc = Path(build_dir) / "include"
    inc.mkdir(parents=True, exist_ok=True)
    header = inc / "xpulpnn_insn.h"
    text = asm_header()
    if not header.exists() or header.read_text() != text:
        tmp = header.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(header)
    return inc


def compile_program(sources, out=None, *, c_runtime=None, defines=(), extra_flags=(), linker_script=LINK_LD,
                    build_dir=BUILD_DIR, include_dirs=(), depends=()):
    """Compile and link ``sources`` into an ELF (cached).

    Parameters
    ----------
    sources : list of path-like
        ``.S``/``.c`` files.
    out : path-like, optional
        Output ELF; default ``build/xpulpnn/elf/<stem>-<digest>.elf``.
    c_runtime : bool, optional
        Link ``crt0.S`` and ``runtime.c`` (C programs with ``main``). Default: when any source is ``.c``.
    defines : iterable of str
        ``NAME`` or ``NAME=VALUE`` preprocessor definitions.
    extra_flags : iterable of str
    linker_script : path-like
        Default ``env/link.ld`` (RAM at 0x8000_0000).
    include_dirs : iterable of path-like
        Searched before ``env/`` (e.g. a riscv-tests checkout's ``env/p`` so that its ``riscv_test.h`` wins).
    depends : iterable of path-like
        Further files the build reads (``#include``d sources, headers) whose contents key the cache.

    Returns
    -------
    Path
        The ELF file.

    Raises
    ------
    ToolchainError
        On a compile or link error.
    FileNotFoundError
        If a source does not exist.
    """
    sources = [Path(s).resolve() for s in sources]
    for s in sources:
        if not s.exists():
            raise FileNotFoundError(f"no source file {s}")
    if c_runtime is None:
        c_runtime = any(s.suffix == ".c" for s in sources)
    inc = include_dir(build_dir)
    srcs = sources + ([CRT0, RUNTIME] if c_runtime else [])
    includes = [Path(d).resolve() for d in include_dirs]
    flags = [*CFLAGS, *(f"-I{d}" for d in includes), f"-I{ENV_DIR}", f"-I{inc}", *(f"-D{d}" for d in defines),
             *extra_flags, f"-T{linker_script}"]
    h = hashlib.sha256(" ".join(flags).encode())
    for f in [*srcs, Path(linker_script), inc / "xpulpnn_insn.h", *sorted(ENV_DIR.glob("*.h")),
              *(hdr for d in includes for hdr in sorted(d.glob("*.h"))), *map(Path, depends)]:
        h.update(f.read_bytes())
    for s in sources:   # headers next to the sources
        for hdr in sorted(s.parent.glob("*.h")):
            h.update(hdr.read_bytes())
    digest = h.hexdigest()[:12]
    if out is None:
        out = Path(build_dir) / "elf" / f"{sources[0].stem}-{digest}.elf"
    out = Path(out)
    stamp = out.with_suffix(out.suffix + ".digest")
    if out.exists() and stamp.exists() and stamp.read_text() == digest:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [*compiler(), *flags, *map(str, srcs), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise ToolchainError(f"building {out.name} failed:\n{' '.join(cmd)}\n{r.stderr[-4000:]}")
    stamp.write_text(digest)
    return out
