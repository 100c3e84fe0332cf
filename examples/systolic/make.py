"""Write this folder's systolic job: a ResNet-like 3x3 convolution on the default 16x16 array (W = 8).

1 x 14 x 14 x 32 -> 32 channels, 3x3 kernel, stride 1, pad 1, full-range int8 operands (seed 7). Run from the
repository root::

    .venv/bin/python examples/systolic/make.py
    accelgen sim systolic --job examples/systolic [--backend golden] [--latency 64]
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import numpy as np  # noqa: E402

from sw.systolic.config import SystolicConfig  # noqa: E402
from sw.systolic.job import write_conv_job  # noqa: E402
from sw.systolic.layer import ConvLayer  # noqa: E402

LAYER = ConvLayer(batch=1, height=14, width=14, in_channels=32, out_channels=32, kernel_h=3, kernel_w=3, stride=1,
                  pad=1)
SEED = 7


def main():
    rng = np.random.default_rng(SEED)
    x = rng.integers(-128, 128, (LAYER.batch, LAYER.height, LAYER.width, LAYER.in_channels), dtype=np.int8)
    w = rng.integers(-128, 128, (LAYER.kernel_h, LAYER.kernel_w, LAYER.in_channels, LAYER.out_channels),
                     dtype=np.int8)
    write_conv_job(HERE, SystolicConfig(), LAYER, x, w)
    print(f"wrote {HERE}: {LAYER}")


if __name__ == "__main__":
    main()
