"""Layout transforms between framework tensors and vector-memory words.

``NCHW``/``NHWC`` are the framework layouts; ``HWCN`` words are the paper's on-chip layout: one word per
(h, w, c) holding W batch elements (batch innermost, padded with zeros to a multiple of W). The engine's
runtime uses the block-batched generalisation (:func:`sw.systolic.schedule.input_image`), which fills the W
lanes with spatial blocks when the batch is smaller than W; for ``N == W`` and one block per image the two agree.
"""

import numpy as np

__all__ = ["nchw_to_nhwc", "nhwc_to_nchw", "nhwc_to_hwcn_words", "hwcn_words_to_nhwc"]


def nchw_to_nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x).transpose(0, 2, 3, 1))


def nhwc_to_nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x).transpose(0, 3, 1, 2))


def nhwc_to_hwcn_words(x: np.ndarray, W: int) -> np.ndarray:
    """``(N, H, W_, C)`` -> words ``(ceil(N / W), C, H, W_, W)``: per batch group and channel (one vector memory
    each), the H x W_ plane of W-lane words, lane ``b`` = image ``group * W + b``."""
    x = np.asarray(x)
    n = x.shape[0]
    groups = -(-n // W)
    pad = np.zeros((groups * W - n, *x.shape[1:]), x.dtype)
    xp = np.concatenate([x, pad]).reshape(groups, W, *x.shape[1:])      # g, b, h, w, c
    return np.ascontiguousarray(xp.transpose(0, 4, 2, 3, 1))


def hwcn_words_to_nhwc(words: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`nhwc_to_hwcn_words` for a batch of ``n`` images."""
    g, c, h, w, lanes = words.shape
    x = words.transpose(0, 4, 2, 3, 1).reshape(g * lanes, h, w, c)
    return np.ascontiguousarray(x[:n])
