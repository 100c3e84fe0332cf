"""RBE runtime: place a layer in memory and split it into engine jobs (register programs).

One engine job runs a whole layer of any image size and channel count, except that the kappa/lambda of at
most ``MAX_K_OUT`` output channels fit on chip: a wider layer becomes several jobs over groups of k_out tiles.
Every region's layout has the k_out tile outermost, so a group is just an offset into each region.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .config import RBEConfig
from .layer import RBELayer, check_arrays
from .layout import Placement, build_image, read_output, weight_block_stride
from .regs import job_registers

__all__ = ["Plan", "plan_layer"]


@dataclasses.dataclass
class Plan:
    """A layer ready for the engine.

    Attributes
    ----------
    layer : RBELayer
    image : numpy.ndarray
        uint8 memory image (byte 0 = address 0) holding x, weights, kappa/lambda and room for y.
    placement : Placement
    jobs : list of dict
        Register values of each engine job, run one after the other.
    """

    layer: RBELayer
    image: np.ndarray
    placement: Placement
    jobs: list

    def output(self, cfg: RBEConfig, image) -> np.ndarray:
        """The layer's (H_out, W_out, K_out) output from the memory image after the jobs ran."""
        return read_output(cfg, self.layer, image, self.placement)


def plan_layer(cfg: RBEConfig, layer: RBELayer, x, w, kappa, lam, *, base: int = 0, max_k_out=None) -> Plan:
    """Check, pack and place a layer; split it into jobs of at most ``max_k_out`` (default MAX_K_OUT)
    output channels.

    Raises
    ------
    ValueError
        From :meth:`RBELayer.check_config` and :func:`check_arrays` (naming the field and the allowed values).
    """
    layer.check_config(cfg)
    check_arrays(layer, x, w, kappa, lam)
    image, p = build_image(cfg, layer, x, w, kappa, lam, base)
    k = cfg.k_tile
    max_k_out = cfg.MAX_K_OUT if max_k_out is None else max_k_out
    if not 0 < max_k_out <= cfg.MAX_K_OUT or max_k_out % k:
        raise ValueError(f"max_k_out must be a multiple of {k} up to MAX_K_OUT={cfg.MAX_K_OUT}, not {max_k_out!r}")
    group = max_k_out // k
    n_kot = layer.k_out // k
    jobs = []
    for g0 in range(0, n_kot, group):
        tiles = min(group, n_kot - g0)
        sub = dataclasses.replace(layer, k_out=tiles * k)
        sub_p = Placement(
            x_base=p.x_base,
            w_base=p.w_base + g0 * (layer.k_in // k) * weight_block_stride(cfg, layer),
            norm_base=p.norm_base + g0 * k * cfg.norm_bytes,
            y_base=p.y_base + g0 * layer.n_qao * layer.h_out * layer.w_out * cfg.chunk_bytes,
            size=p.size)
        jobs.append(job_registers(cfg, sub, sub_p))
    return Plan(layer, image, p, jobs)
