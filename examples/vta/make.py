"""Write this folder's VTA job: one ResNet-like layer (3x3 conv, 32 -> 32 channels, 14x14, pad 1, ReLU).

Compiled with the VTA compiler (``sw.vta.compile``) for the default configuration (1x16x16, 64-bit bus); the
folder holds the job (``job.json`` + ``dram.bin``), the layer record (``layer.json``) and the numpy reference
output (``expected.npy``). Run from the repository root::

    .venv/bin/python examples/vta/make.py
    accelgen sim vta --job examples/vta [--backend golden] [--latency 200]
"""

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from sw.vta.compile import compile_network  # noqa: E402
from sw.vta.config import VTAConfig  # noqa: E402
from sw.vta.network import load_network  # noqa: E402

NETWORK = {"name": "resnet_like", "seed": 14, "input": {"channels": 32, "height": 14, "width": 14},
           "layers": [{"name": "conv3x3", "type": "conv2d", "out_channels": 32, "kernel": 3, "pad": 1,
                       "shift": 10, "relu": True, "wmax": 31}]}
FILES = ("job.json", "dram.bin", "layer.json", "expected.npy")


def main():
    cfg = VTAConfig.load(ROOT / "configs" / "vta" / "default.json")
    with tempfile.TemporaryDirectory() as tmp:
        m = compile_network(load_network(NETWORK), cfg, tmp)
        job = Path(tmp) / m["layers"][0]["job"]
        for f in FILES:
            shutil.copy(job / f, HERE / f)
    print(f"wrote {HERE}: {', '.join(FILES)} ({m['layers'][0]['macs']:,} MACs, {m['layers'][0]['insns']} instructions)")


if __name__ == "__main__":
    main()
