"""Rebuild the example's ELF from dot.S with the project's toolchain (clang from ziglang):

    python examples/xpulpnn/make.py

dot.elf is committed so that ``accelgen sim xpulpnn --job examples/xpulpnn`` works without a toolchain.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sw.xpulpnn.toolchain import LINK_LD, compile_program  # noqa: E402


def main():
    elf = compile_program([HERE / "dot.S"], HERE / "dot.elf", linker_script=LINK_LD, c_runtime=False)
    print(f"wrote {elf.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
