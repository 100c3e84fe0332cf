"""Golden model of the systolic engine, written from the layer definition (never from the RTL).

``conv2d`` is a direct NHWC convolution with zero padding and floor output size in exact integer arithmetic;
``gemm`` is ``A @ B``. The results are int32 (the plan refuses reductions that could overflow).
"""

import numpy as np

from .layer import ConvLayer

__all__ = ["conv2d", "gemm"]


def conv2d(layer: ConvLayer, ifmap: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``ofmap[n, oh, ow, co] = sum_{kh, kw, ci} x[n, oh*s + kh - p, ow*s + kw - p, ci] * w[kh, kw, ci, co]``."""
    x = np.asarray(ifmap, dtype=np.int64)
    w = np.asarray(weights, dtype=np.int64)
    p, s = layer.pad, layer.stride
    x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    ho, wo = layer.out_height, layer.out_width
    out = np.zeros((layer.batch, ho, wo, layer.out_channels), dtype=np.int64)
    for kh in range(layer.kernel_h):
        for kw in range(layer.kernel_w):
            win = x[:, kh:kh + s * (ho - 1) + 1:s, kw:kw + s * (wo - 1) + 1:s, :]
            out += np.tensordot(win, w[kh, kw], axes=([3], [0]))
    return out.astype(np.int32)


def gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.asarray(a, dtype=np.int64) @ np.asarray(b, dtype=np.int64)).astype(np.int32)
