"""Bit-plane memory layouts of the RBE (docs/rbe.md, "Data layouts"), with packers and unpackers.

All words are ``k = BINCONV_WIDTH`` bits (32 by default), little-endian; bit t of a word is channel
``k*tile + t``.

Activations (input x and output y, the same layout so a layer's output is the next layer's input):
    chunk ``((kt * n_q + q) * H + h) * W + w`` of ``N_BINCONVS * k`` bits (16 bytes by default);
    word b of the chunk holds bit ``4*q + b`` of ``x[h, w, k*kt + t]`` (q is the 4-bit activation tile).
Weights, 3x3 mode: word ``(((kot * n_kit + kit) * k + c) * QW + i) * 9 + r`` holds bit i of
    ``W'[k*kot + c, r // 3, r % 3, k*kit + t]`` with ``W' = W + 2^(QW-1) - 1`` (the 9 words of one (c, i)
    are the 288-bit word broadcast in one cycle).
Weights, 1x1 mode: word ``((kot * n_kit + kit) * k + c) * 9 + r`` holds bit r of ``W'[k*kot + c, 0, 0, k*kit + t]``
    for r < QW and is zero for r >= QW.
Each (k_out tile, k_in tile) block of weight words starts on a bus beat (zero bytes pad the previous one).
Normalisation: 8 bytes per output channel: lambda (int32), kappa (uint16), 2 zero bytes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .config import N_TAPS, RBEConfig
from .layer import RBELayer

__all__ = ["pack_act", "unpack_act", "pack_weights", "unpack_weights", "pack_norm", "act_bytes", "weight_bytes",
           "weight_block_words", "weight_block_stride",
           "Placement", "place", "build_image", "read_output"]


def _pack_bits(bits, k):
    """(..., k) of 0/1 -> (..., k/8) bytes, bit t of the word = bits[..., t]."""
    return np.packbits(bits.astype(np.uint8), axis=-1, bitorder="little").reshape(*bits.shape[:-1], k // 8)


def _unpack_bits(raw, k):
    return np.unpackbits(raw, axis=-1, bitorder="little", count=k)


def act_bytes(cfg: RBEConfig, height, width, channels, bits) -> int:
    return (channels // cfg.k_tile) * (-(-bits // 4)) * height * width * cfg.chunk_bytes


def pack_act(x, bits, cfg: RBEConfig) -> bytes:
    """Pack an (H, W, K) activation tensor of ``bits``-bit values (two's complement patterns allowed)."""
    x = np.asarray(x).astype(np.int64) & ((1 << bits) - 1)
    h, w, ch = x.shape
    k = cfg.k_tile
    if ch % k:
        raise ValueError(f"channels ({ch}) must be a multiple of {k} to pack")
    n_q = -(-bits // 4)
    xt = x.reshape(h, w, ch // k, k).transpose(2, 0, 1, 3)                     # (kt, h, w, t)
    planes = np.stack([(xt >> (4 * q + b)) & 1 for q in range(n_q) for b in range(cfg.N_BINCONVS)], axis=1)
    planes = planes.reshape(ch // k, n_q, cfg.N_BINCONVS, h, w, k).transpose(0, 1, 3, 4, 2, 5)
    return _pack_bits(planes, k).tobytes()


def unpack_act(raw, height, width, channels, bits, cfg: RBEConfig, *, signed=False) -> np.ndarray:
    """Inverse of :func:`pack_act`: (H, W, K) int32, sign-extended from ``bits`` when ``signed``."""
    k = cfg.k_tile
    n_q = -(-bits // 4)
    need = act_bytes(cfg, height, width, channels, bits)
    arr = np.frombuffer(bytes(raw[:need]), dtype=np.uint8)
    if arr.size != need:
        raise ValueError(f"activation data has {arr.size} bytes, needs {need}")
    bits_arr = _unpack_bits(arr.reshape(channels // k, n_q, height, width, cfg.N_BINCONVS, k // 8), k)
    val = np.zeros((channels // k, height, width, k), dtype=np.int64)
    for q in range(n_q):
        for b in range(cfg.N_BINCONVS):
            if 4 * q + b < bits:
                val |= bits_arr[:, q, :, :, b, :].astype(np.int64) << (4 * q + b)
    if signed:
        val = np.where(val >= 1 << (bits - 1), val - (1 << bits), val)
    return val.transpose(1, 2, 0, 3).reshape(height, width, channels).astype(np.int32)


def weight_block_words(cfg: RBEConfig, layer: RBELayer) -> int:
    """Broadcast weight words (one per cycle) of one (k_out tile, k_in tile) block."""
    return cfg.k_tile * (layer.qw if layer.mode == "3x3" else 1)


def weight_block_stride(cfg: RBEConfig, layer: RBELayer) -> int:
    """Bytes from one weight block to the next: the block rounded up to a whole bus beat."""
    return _align(weight_block_words(cfg, layer) * cfg.weight_word_bits // 8, cfg.port_bytes)


def weight_bytes(cfg: RBEConfig, layer: RBELayer) -> int:
    return (layer.k_out // cfg.k_tile) * (layer.k_in // cfg.k_tile) * weight_block_stride(cfg, layer)


def _blocks(raw, cfg, layer):
    n = (layer.k_out // cfg.k_tile) * (layer.k_in // cfg.k_tile)
    used = weight_block_words(cfg, layer) * cfg.weight_word_bits // 8
    return n, used, weight_block_stride(cfg, layer)


def pack_weights(w, layer: RBELayer, cfg: RBEConfig) -> bytes:
    """Pack signed weights (K_out, FS, FS, K_in) in the layout of ``layer.mode`` (offset by 2^(QW-1) - 1)."""
    k = cfg.k_tile
    wp = np.asarray(w).astype(np.int64) + layer.w_offset
    ko, fs, _, ki = wp.shape
    wt = wp.reshape(ko // k, k, fs * fs, ki // k, k).transpose(0, 3, 1, 2, 4)   # (kot, kit, c, tap, t)
    if layer.mode == "3x3":
        bits = np.stack([(wt >> i) & 1 for i in range(layer.qw)], axis=3)       # (kot, kit, c, i, tap, t)
    else:
        bits = np.zeros((*wt.shape[:3], N_TAPS, k), dtype=np.int64)             # (kot, kit, c, r, t)
        for r in range(layer.qw):
            bits[:, :, :, r, :] = (wt[:, :, :, 0, :] >> r) & 1
    n, used, stride = _blocks(None, cfg, layer)
    out = np.zeros((n, stride), dtype=np.uint8)
    out[:, :used] = _pack_bits(bits, k).reshape(n, used)
    return out.tobytes()


def unpack_weights(raw, layer: RBELayer, cfg: RBEConfig) -> np.ndarray:
    """Inverse of :func:`pack_weights`: signed (K_out, FS, FS, K_in) int32."""
    k = cfg.k_tile
    n_kot, n_kit = layer.k_out // k, layer.k_in // k
    n, used, stride = _blocks(raw, cfg, layer)
    arr = np.frombuffer(bytes(raw[:weight_bytes(cfg, layer)]), dtype=np.uint8).reshape(n, stride)[:, :used]
    if layer.mode == "3x3":
        bits = _unpack_bits(arr.reshape(n_kot, n_kit, k, layer.qw, N_TAPS, k // 8), k).astype(np.int64)
        wt = sum(bits[:, :, :, i] << i for i in range(layer.qw))               # (kot, kit, c, tap, t)
    else:
        bits = _unpack_bits(arr.reshape(n_kot, n_kit, k, N_TAPS, k // 8), k).astype(np.int64)
        wt = sum(bits[:, :, :, r] << r for r in range(layer.qw))[:, :, :, None, :]
    fs = layer.fs
    w = wt.transpose(0, 2, 3, 1, 4).reshape(layer.k_out, fs, fs, layer.k_in)
    return (w - layer.w_offset).astype(np.int32)


def pack_norm(kappa, lam) -> bytes:
    rec = np.zeros(len(kappa), dtype=[("lam", "<i4"), ("kappa", "<u2"), ("pad", "<u2")])
    rec["lam"] = np.asarray(lam).astype(np.int64)
    rec["kappa"] = np.asarray(kappa).astype(np.int64)
    return rec.tobytes()


def _align(n, a):
    return -(-n // a) * a


@dataclasses.dataclass(frozen=True)
class Placement:
    """Byte addresses (all aligned to a bus beat) of one layer's regions in the engine's memory."""
    x_base: int
    w_base: int
    norm_base: int
    y_base: int
    size: int


def place(cfg: RBEConfig, layer: RBELayer, base: int = 0) -> Placement:
    """Regions x, w, norm, y one after the other from ``base``, each aligned to a bus beat."""
    a = cfg.port_bytes
    x_base = _align(base, a)
    w_base = _align(x_base + act_bytes(cfg, layer.height, layer.width, layer.k_in, layer.qa), a)
    norm_base = _align(w_base + weight_bytes(cfg, layer), a)
    y_base = _align(norm_base + layer.k_out * cfg.norm_bytes, a)
    end = _align(y_base + act_bytes(cfg, layer.h_out, layer.w_out, layer.k_out, layer.qao), a)
    return Placement(x_base, w_base, norm_base, y_base, end)


def build_image(cfg: RBEConfig, layer: RBELayer, x, w, kappa, lam, base: int = 0):
    """(memory image as uint8 array, :class:`Placement`) of one layer; the y region is zero."""
    p = place(cfg, layer, base)
    img = np.zeros(p.size, dtype=np.uint8)
    for addr, data in ((p.x_base, pack_act(x, layer.qa, cfg)), (p.w_base, pack_weights(w, layer, cfg)),
                       (p.norm_base, pack_norm(kappa, lam))):
        img[addr:addr + len(data)] = np.frombuffer(data, dtype=np.uint8)
    return img, p


def read_output(cfg: RBEConfig, layer: RBELayer, image, placement: Placement) -> np.ndarray:
    """The (H_out, W_out, K_out) output of ``layer`` from a memory image (signed when ReLU is off)."""
    return unpack_act(np.asarray(image, dtype=np.uint8)[placement.y_base:], layer.h_out, layer.w_out,
                      layer.k_out, layer.qao, cfg, signed=not layer.relu)
