"""The layers hold: imports run sw -> hw -> sim -> tb -> fpga -> bench -> CLI, and no file names a machine path.

Every import statement is read from the source (function-local imports too, which is where back edges used to
hide), so a test fails as soon as one runs back up. Each test also proves it can fail on an injected case.
"""

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Layer rank of a module: a module may import only modules of its own or a lower rank.
#: ``sim.cli`` (the command line) sits on top although it lives in the ``sim`` folder.
LAYERS = [("sw", 0), ("hw", 1), ("sim", 2), ("tb", 3), ("fpga", 4), ("bench", 5), ("sim.cli", 6)]
PACKAGES = ("sw", "hw", "sim", "tb", "fpga", "bench")


def rank(module: str):
    best = None
    for prefix, r in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, r)
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str):
    """``(line, imported module)`` of every import in ``source``, at any depth (relative ones resolved)."""
    tree = ast.parse(source)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[:-node.level] if not module.endswith("__init__") else module.split(".")
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
            # ``from sim import cli`` imports sim.cli
            out += [(node.lineno, f"{name}.{a.name}") for a in node.names if a.name != "*"]
    return out


def back_edges(files):
    """Imports that run up the layers, as ``"file:line: a -> b"`` lines."""
    bad = []
    for path, source in files:
        mod = module_name(path)
        mine = rank(mod)
        if mine is None:
            continue
        for line, name in imports_of(source, mod):
            if mine[0] == "hw" and ".golden" in f"{name}.":
                bad.append(f"{path.relative_to(ROOT)}:{line}: {mod} (hw) imports the golden model {name}")
                continue
            theirs = rank(name)
            if theirs is None or theirs[1] <= mine[1]:
                continue
            # ``from sim import engines`` names the package sim (rank 2) and sim.engines; only real modules count.
            bad.append(f"{path.relative_to(ROOT)}:{line}: {mod} ({mine[0]}) imports {name} ({theirs[0]})")
    return bad


def project_files():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            yield path, path.read_text()


def test_imports_run_down_the_layers():
    bad = back_edges(project_files())
    assert not bad, "imports that run back up the layers:\n" + "\n".join(bad)


@pytest.mark.parametrize("where,stmt", [("sw/common/contract.py", "def f():\n    from tb.backends import rtl\n"),
                                        ("hw/common/regfile.py", "from sw.vta.golden import run\n"),
                                        ("sim/engines/vta.py", "def f():\n    from tb.vta.harness import vta_build\n"),
                                        ("tb/vta/harness.py", "from sim.cli import main\n"),
                                        ("fpga/flow.py", "import bench.fpga\n")])
def test_an_injected_back_edge_is_caught(where, stmt):
    files = [(p, s + ("\n" + stmt if p == ROOT / where else "")) for p, s in project_files()]
    bad = back_edges(files)
    assert any(b.startswith(where) for b in bad), bad


def test_layer_ranks():
    assert rank("sim.cli.commands.dse")[1] > rank("bench.vta")[1] > rank("fpga.flow")[1] > rank("tb.vta")[1]
    assert rank("sim.engines.vta")[1] < rank("tb.vta.harness")[1]
    assert rank("sw.graph")[1] < rank("hw.vta")[1]


#: A path of this machine (or any other): /work/..., /tmp/..., /root/..., /home/..., or the reference folder.
ABS_PATH = re.compile(r"(^|[^A-Za-z0-9_.\-])/(work|tmp|root|home|Users)/|\.\./shared/")


def absolute_paths(files):
    hits = []
    for name, text in files:
        for n, line in enumerate(text.splitlines(), 1):
            if ABS_PATH.search(line) and "tempfile" not in line:
                hits.append(f"{name}:{n}: {line.strip()[:100]}")
    return hits


def tracked_text_files():
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    this = Path(__file__).relative_to(ROOT).as_posix()
    for name in names:
        p = ROOT / name
        if name == this or not p.is_file() or p.suffix in (".npy", ".npz", ".bin", ".png", ".elf", ".onnx"):
            continue
        try:
            yield name, p.read_text()
        except UnicodeDecodeError:
            continue


def test_no_absolute_machine_paths():
    hits = absolute_paths(tracked_text_files())
    assert not hits, "absolute machine paths (find data relative to the code):\n" + "\n".join(hits)


def test_an_injected_absolute_path_is_caught():
    files = [("bench/x.py", 'LAYERS = "/work/shared/data/resnet18_layers.json"\n'),
             ("docs/x.md", "see ../shared/specs/vta.md\n"), ("ok.py", "x = Path(tempfile.mkdtemp()) / 'a'\n")]
    assert [h.split(":")[0] for h in absolute_paths(files)] == ["bench/x.py", "docs/x.md"]
