"""Layer shapes of the systolic engine: convolutions and GEMMs (a GEMM is a 1x1 convolution)."""

from __future__ import annotations

import dataclasses

__all__ = ["ConvLayer", "gemm_layer", "LAYER_KEYS", "GEMM_KEYS"]

LAYER_KEYS = ("batch", "height", "width", "in_channels", "out_channels", "kernel_h", "kernel_w", "stride", "pad")
GEMM_KEYS = ("m", "n", "k")


@dataclasses.dataclass(frozen=True)
class ConvLayer:
    """A convolution with zero padding and floor output size (NHWC input, KH x KW x C_I x C_O filter).

    Raises
    ------
    ValueError
        If a field is not a positive integer (``pad`` may be 0), or the output would be empty.
    """

    batch: int
    height: int
    width: int
    in_channels: int
    out_channels: int
    kernel_h: int
    kernel_w: int
    stride: int = 1
    pad: int = 0

    def __post_init__(self):
        for f in LAYER_KEYS:
            v = getattr(self, f)
            lo = 0 if f == "pad" else 1
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"layer.{f} must be an integer >= {lo}, not {v!r}")
        if self.pad >= max(self.kernel_h, self.kernel_w) and self.pad > 0:
            raise ValueError(f"layer.pad must be smaller than the kernel ({self.kernel_h}x{self.kernel_w}), "
                             f"not {self.pad}")
        if self.out_height < 1 or self.out_width < 1:
            raise ValueError(f"layer: a {self.kernel_h}x{self.kernel_w} kernel with pad {self.pad} does not fit "
                             f"a {self.height}x{self.width} input (output would be {self.out_height}x{self.out_width})")

    @property
    def out_height(self) -> int:
        return (self.height + 2 * self.pad - self.kernel_h) // self.stride + 1

    @property
    def out_width(self) -> int:
        return (self.width + 2 * self.pad - self.kernel_w) // self.stride + 1

    @property
    def positions(self) -> int:
        """Output pixels over the batch: the T (rows of the lowered matrix) of the GEMM view."""
        return self.batch * self.out_height * self.out_width

    @property
    def k(self) -> int:
        """Reduction length of the GEMM view: KH * KW * C_I."""
        return self.kernel_h * self.kernel_w * self.in_channels

    @property
    def macs(self) -> int:
        return self.positions * self.k * self.out_channels

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def gemm_layer(m: int, n: int, k: int) -> ConvLayer:
    """C (M x N) = A (M x K) @ B (K x N) as a 1x1 convolution over an M x 1 image with K channels."""
    for name, v in (("m", m), ("n", n), ("k", k)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"gemm.{name} must be an integer >= 1, not {v!r}")
    return ConvLayer(batch=1, height=m, width=1, in_channels=k, out_channels=n, kernel_h=1, kernel_w=1)
