"""One convolution layer as the RBE runs it, with every check on its shape and precisions.

The arithmetic (docs/rbe.md, spec section 2 and 4): activations unsigned, < 2^QA; weights signed,
|w| <= 2^(QW-1) - 1; y = saturate((kappa * acc + lambda) >>> shift) to QAO bits, unsigned with ReLU and
two's complement without.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .config import RBEConfig

__all__ = ["RBELayer", "MODES", "PRECISIONS", "MAX_SHIFT", "check_arrays"]

MODES = ("3x3", "1x1")
PRECISIONS = range(2, 9)
#: Largest normalisation shift (a 6-bit register field).
MAX_SHIFT = 63
#: Largest image side (16-bit register fields).
MAX_SIDE = 4096


def _int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


@dataclasses.dataclass(frozen=True)
class RBELayer:
    """A convolution layer: ``mode`` "3x3" (valid, stride 1) or "1x1".

    Parameters
    ----------
    mode : str
        "3x3" or "1x1".
    qa, qw, qao : int
        Activation, weight and output precisions in bits, each 2..8.
    k_in, k_out : int
        Channels; multiples of the config's BINCONV_WIDTH (32 by default).
    height, width : int
        Input image size (at least 3 in 3x3 mode).
    relu : bool
        Clip outputs to [0, 2^QAO - 1] (else to the signed QAO-bit range).
    shift : int
        Arithmetic right shift after kappa * acc + lambda, 0..63.

    Raises
    ------
    ValueError
        Naming the field and the allowed values.
    """

    mode: str
    qa: int
    qw: int
    qao: int
    k_in: int
    k_out: int
    height: int
    width: int
    relu: bool
    shift: int

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"layer.mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        for key in ("qa", "qw", "qao"):
            v = getattr(self, key)
            if not _int(v) or v not in PRECISIONS:
                raise ValueError(f"layer.{key} must be an integer precision from 2 to 8 bits, not {v!r}")
        if not isinstance(self.relu, bool):
            raise ValueError(f"layer.relu must be true or false, not {self.relu!r}")
        if not _int(self.shift) or not 0 <= self.shift <= MAX_SHIFT:
            raise ValueError(f"layer.shift must be an integer from 0 to {MAX_SHIFT}, not {self.shift!r}")
        lo = 3 if self.mode == "3x3" else 1
        for key in ("height", "width"):
            v = getattr(self, key)
            if not _int(v) or not lo <= v <= MAX_SIDE:
                raise ValueError(f"layer.{key} must be an integer from {lo} to {MAX_SIDE} in {self.mode} mode, "
                                 f"not {v!r}")
        for key in ("k_in", "k_out"):
            v = getattr(self, key)
            if not _int(v) or v <= 0:
                raise ValueError(f"layer.{key} must be a positive integer, not {v!r}")

    @classmethod
    def from_dict(cls, d: dict) -> "RBELayer":
        if not isinstance(d, dict):
            raise ValueError(f"layer must be a JSON object, not {type(d).__name__}")
        fields = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise ValueError(f"layer: unknown key {unknown[0]!r}; allowed keys: {', '.join(fields)}")
        missing = [f for f in fields if f not in d]
        if missing:
            raise ValueError(f"layer: missing key {missing[0]!r}")
        return cls(**d)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    # --- derived -----------------------------------------------------------------------------------
    @property
    def fs(self) -> int:
        return 3 if self.mode == "3x3" else 1

    @property
    def h_out(self) -> int:
        return self.height - self.fs + 1

    @property
    def w_out(self) -> int:
        return self.width - self.fs + 1

    @property
    def n_qa(self) -> int:
        """4-bit activation tiles of the input (passes per k_in tile)."""
        return -(-self.qa // 4)

    @property
    def n_qao(self) -> int:
        """4-bit tiles of the output (chunks stored per pixel and k_out tile)."""
        return -(-self.qao // 4)

    @property
    def w_offset(self) -> int:
        """Offset making weights unsigned: W' = W + 2^(QW-1) - 1."""
        return (1 << (self.qw - 1)) - 1

    @property
    def macs(self) -> int:
        return self.h_out * self.w_out * self.k_out * self.k_in * self.fs * self.fs

    def raw_acc_max(self) -> int:
        """Largest accumulator value of the unsigned-weight sum (sum of W' * x over the receptive field)."""
        return self.k_in * self.fs * self.fs * ((1 << self.qw) - 2) * ((1 << self.qa) - 1)

    def check_config(self, cfg: RBEConfig):
        """Errors for a layer this configuration cannot run in one job (the runtime splits K_out itself).

        Raises
        ------
        ValueError
            Channels not a multiple of the channel tile, or an accumulator that could overflow.
        """
        for key in ("k_in", "k_out"):
            v = getattr(self, key)
            if v % cfg.k_tile:
                raise ValueError(f"layer.{key}={v} must be a multiple of {cfg.k_tile} (BINCONV_WIDTH); "
                                 f"pad the channels with zeros to {-(-v // cfg.k_tile) * cfg.k_tile}")
        if self.raw_acc_max() >= 1 << (cfg.ACC_WIDTH - 1):
            raise ValueError(f"layer.k_in={self.k_in} at qa={self.qa}, qw={self.qw} can accumulate up to "
                             f"{self.raw_acc_max():,}, which overflows the {cfg.ACC_WIDTH}-bit signed accumulator "
                             f"(ACC_WIDTH); split k_in")

    def out_range(self) -> tuple[int, int]:
        if self.relu:
            return 0, (1 << self.qao) - 1
        return -(1 << (self.qao - 1)), (1 << (self.qao - 1)) - 1


def _check(name, arr, shape, lo, hi, what):
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, not {type(arr).__name__}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, not {arr.dtype}")
    if tuple(arr.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, not {tuple(arr.shape)}")
    if arr.size:
        a = arr.astype(np.int64)
        bad = np.argwhere((a < lo) | (a > hi))
        if len(bad):
            idx = tuple(int(i) for i in bad[0])
            raise ValueError(f"{name}{list(idx)} = {int(a[idx])} is outside {what} [{lo}, {hi}]")


def check_arrays(layer: RBELayer, x, w, kappa, lam):
    """Check shapes and value ranges of a layer's tensors.

    Raises
    ------
    ValueError
        Naming the array, the first offending index and value, and the allowed range.
    """
    _check("x", x, (layer.height, layer.width, layer.k_in), 0, (1 << layer.qa) - 1, f"QA={layer.qa} bits")
    m = layer.w_offset
    _check("w", w, (layer.k_out, layer.fs, layer.fs, layer.k_in), -m, m, f"QW={layer.qw} bits (symmetric)")
    _check("kappa", kappa, (layer.k_out,), 0, 0xFFFF, "uint16")
    _check("lambda", lam, (layer.k_out,), -(1 << 31), (1 << 31) - 1, "int32")
