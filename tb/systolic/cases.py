"""The systolic regression cases, derived from a configuration (shapes scale with R and C).

Each case is a conv or GEMM shape plus what the test asserts beyond bit-exactness: ``cycle_check`` (C_I is a
multiple of R: RTL cycles below the SCALE-Sim v2 WS count and within 5% of folds x T + 2R + C - 2) and
``stride_pair`` (cycles per output pixel compared with the stride-1 case of the same layer).
"""

from dataclasses import dataclass

import numpy as np

from sw.systolic.config import SystolicConfig
from sw.systolic.layer import ConvLayer, gemm_layer

__all__ = ["Case", "cases_for", "random_cases", "random_operands"]


@dataclass(frozen=True)
class Case:
    name: str
    layer: ConvLayer
    gemm: bool = False
    cycle_check: bool = False
    stride_pair: str = ""
    max_folds: int = 0


def _conv(n, h, w, ci, co, k, s=1, p=0):
    return ConvLayer(batch=n, height=h, width=w, in_channels=ci, out_channels=co, kernel_h=k, kernel_w=k,
                     stride=s, pad=p)


def random_cases(cfg: SystolicConfig, n: int, seed: int) -> list:
    """``n`` random small conv layers (batch 1-2, 1x1..5x5, stride 1-3, any padding) that the plan accepts."""
    from sw.systolic.schedule import plan
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        k = int(rng.choice([1, 2, 3, 5]))
        layer = _conv(int(rng.integers(1, 3)), int(rng.integers(k, 15)), int(rng.integers(k, 15)),
                      int(rng.integers(1, 2 * cfg.R + 1)), int(rng.integers(1, 2 * cfg.C + 2)), k,
                      int(rng.integers(1, 4)), int(rng.integers(0, k)))
        try:
            plan(cfg, layer)
        except ValueError:
            continue
        out.append(Case(f"random{len(out)}_seed{seed}", layer))
    return out


def cases_for(cfg: SystolicConfig, n_random: int = 0, seed: int = 1) -> list:
    """The fixed cases for ``cfg`` followed by ``n_random`` random layers drawn from ``seed``."""
    R, C = cfg.R, cfg.C
    out = [
        Case("gemm_ragged_37x21x19", gemm_layer(37, 21, 19), gemm=True),
        Case("gemm_ragged_5x3x7", gemm_layer(5, 3, 7), gemm=True),
        Case("gemm_100x50x30", gemm_layer(100, 50, 30), gemm=True),
        Case(f"gemm_64x{2 * C + 3}x{4 * R}", gemm_layer(64, 2 * C + 3, 4 * R), gemm=True, cycle_check=True),
        Case("conv1x1_9x7", _conv(1, 9, 7, 2 * R, C + 1, 1), cycle_check=True),
        Case("conv3x3_s1_pad1", _conv(1, 24, 24, R, C, 3, 1, 1), cycle_check=True),
        Case("conv3x3_s2_pad1", _conv(1, 24, 24, R, C, 3, 2, 1), cycle_check=True, stride_pair="conv3x3_s1_pad1"),
        Case("conv3x3_s3_pad1", _conv(1, 22, 22, R, C, 3, 3, 1), cycle_check=True),
        Case("conv3x3_s3_odd", _conv(1, 15, 13, 5, C - 1, 3, 3, 1)),
        Case("conv3x3_s1_nopad", _conv(1, 10, 10, 4, 8, 3)),
        Case("conv_ci1_3x3_pad1", _conv(1, 9, 9, 1, 5, 3, 1, 1)),
        Case("conv_ci3_3x3_s2_pad1", _conv(1, 11, 10, 3, 7, 3, 2, 1)),
        Case("conv_ci3_5x5_s1_pad2", _conv(1, 12, 12, 3, 6, 5, 1, 2)),
        Case("conv_odd_b2_17x17x18_19_s2_pad1", _conv(2, 17, 17, 18, 19, 3, 2, 1)),
    ]
    if R == 8 and C == 8:
        out.append(Case("multitile_34x34x3_16", _conv(1, 34, 34, 3, 16, 3), max_folds=12))
    if R == 16 and C == 16:
        out += [Case("gemm_64x64x64", gemm_layer(64, 64, 64), gemm=True, cycle_check=True),
                Case("gemm_128x64x256", gemm_layer(128, 64, 256), gemm=True, cycle_check=True)]
    return out + random_cases(cfg, n_random, seed)


def random_operands(layer: ConvLayer, seed: int):
    """Full-range int8 ifmap (N, H, W, C_I) and weights (KH, KW, C_I, C_O) from ``seed``."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (layer.batch, layer.height, layer.width, layer.in_channels), dtype=np.int8)
    w = rng.integers(-128, 128, (layer.kernel_h, layer.kernel_w, layer.in_channels, layer.out_channels),
                     dtype=np.int8)
    return x, w
