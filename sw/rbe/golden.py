"""Two RBE reference models, written from the specification (never from the RTL).

:func:`golden` is plain integer arithmetic: a valid stride-1 convolution followed by the normalisation and
quantisation of spec section 4. :func:`bitserial` follows the hardware decomposition of spec section 2:
BinConv popcounts of weight and activation bit-planes, Blocks summing 4 activation bits, shifts by weight
bit + activation bit (+4 for the upper activation tile), unsigned weights W' = W + 2^(QW-1) - 1 and the
offset correction (2^(QW-1) - 1) * sum(x). Tests check that both agree.
"""

from __future__ import annotations

import numpy as np

from .config import RBEConfig
from .layer import RBELayer

__all__ = ["conv", "normquant", "golden", "bitserial_acc", "bitserial"]


def conv(x, w, layer: RBELayer) -> np.ndarray:
    """Valid stride-1 convolution: (H_out, W_out, K_out) int64."""
    x = np.asarray(x, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    acc = np.zeros((layer.h_out, layer.w_out, layer.k_out), dtype=np.int64)
    for fi in range(layer.fs):
        for fj in range(layer.fs):
            acc += x[fi:fi + layer.h_out, fj:fj + layer.w_out, :] @ w[:, fi, fj, :].T
    return acc


def normquant(acc, kappa, lam, layer: RBELayer) -> np.ndarray:
    """y = saturate((kappa * acc + lambda) >>> shift) per output channel; int32."""
    t = (np.asarray(kappa, dtype=np.int64) * np.asarray(acc, dtype=np.int64)
         + np.asarray(lam, dtype=np.int64)) >> layer.shift
    lo, hi = layer.out_range()
    return np.clip(t, lo, hi).astype(np.int32)


def golden(x, w, kappa, lam, layer: RBELayer) -> np.ndarray:
    """The layer's output (H_out, W_out, K_out) by plain integer arithmetic."""
    return normquant(conv(x, w, layer), kappa, lam, layer)


def _planes(a, nbits, k):
    """Bit-planes of ``a`` (..., K) packed in k-bit words: (nbits, ..., K/k) uint64."""
    a = np.asarray(a, dtype=np.int64)
    weights = (np.uint64(1) << np.arange(k, dtype=np.uint64))
    shaped = a.reshape(*a.shape[:-1], a.shape[-1] // k, k)
    return np.stack([(((shaped >> j) & 1).astype(np.uint64) * weights).sum(axis=-1, dtype=np.uint64)
                     for j in range(nbits)])


def bitserial_acc(x, w, layer: RBELayer, cfg: RBEConfig) -> np.ndarray:
    """The accumulator after all k_in tiles, computed as the hardware decomposes it (int64).

    Per k_in tile and 4-bit activation tile q: a BinConv is popcount(W'_i AND x_j) over k channels; a Block
    sums its 4 BinConvs (activation bits b = 0..3) shifted by b; every Block sum is shifted by i + 4q; the
    offset (2^(QW-1) - 1) * sum(x) over the receptive field and the tile is subtracted once per tile.
    """
    k = cfg.k_tile
    wu = np.asarray(w, dtype=np.int64) + layer.w_offset                          # unsigned W'
    if wu.min(initial=0) < 0 or wu.max(initial=0) > (1 << layer.qw) - 2:
        raise ValueError("weights outside the QW-bit symmetric range")
    xp = _planes(x, 4 * layer.n_qa, k)                                            # (j, H, W, kt)
    wp = _planes(wu, layer.qw, k)                                                 # (i, Ko, fs, fs, kt)
    ones = np.uint64((1 << k) - 1)
    ho, wo = layer.h_out, layer.w_out
    acc = np.zeros((ho, wo, layer.k_out), dtype=np.int64)
    for kt in range(layer.k_in // k):
        for q in range(layer.n_qa):
            for fi in range(layer.fs):
                for fj in range(layer.fs):
                    xs = xp[4 * q:4 * q + 4, fi:fi + ho, fj:fj + wo, kt]          # (b, ho, wo)
                    for i in range(layer.qw):
                        wv = wp[i, :, fi, fj, kt]                                 # (Ko,)
                        block = np.zeros((ho, wo, layer.k_out), dtype=np.int64)
                        for b in range(4):
                            pc = np.bitwise_count(xs[b][:, :, None] & wv[None, None, :]).astype(np.int64)
                            block += pc << b
                        acc += block << (i + 4 * q)
                    # offset: an all-ones weight word, bit 0, accumulated as S - 2^(QW-1) * S
                    s = sum(np.bitwise_count(xs[b] & ones).astype(np.int64) << b for b in range(4)) << (4 * q)
                    acc -= (s * layer.w_offset)[:, :, None]
    return acc


def bitserial(x, w, kappa, lam, layer: RBELayer, cfg: RBEConfig) -> np.ndarray:
    """The layer's output from :func:`bitserial_acc` and the same normalisation/quantisation rule."""
    return normquant(bitserial_acc(x, w, layer, cfg), kappa, lam, layer)
