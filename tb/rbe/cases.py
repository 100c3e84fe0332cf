"""RBE test cases: layers with seeded random or edge-value tensors, shared by the cocotb regression, the
pytest golden-model tests and the benchmark. Expected outputs are computed by :mod:`sw.rbe.golden`."""

from __future__ import annotations

import dataclasses
import itertools
import random

import numpy as np

from sw.rbe.config import RBEConfig
from sw.rbe.golden import conv
from sw.rbe.layer import RBELayer

__all__ = ["Case", "make_case", "KINDS", "precision_grid", "sampled_grid", "regression_cases"]

KINDS = ("random", "zeros", "max", "negmin")


@dataclasses.dataclass
class Case:
    name: str
    layer: RBELayer
    x: np.ndarray
    w: np.ndarray
    kappa: np.ndarray
    lam: np.ndarray
    seed: int


def make_case(name, *, mode, qa, qw, qao, k_in, k_out, height, width, relu, seed, kind="random") -> Case:
    """A layer whose shift puts the outputs across the QAO range (some saturate, most do not).

    ``kind``: "random"; "zeros" (all activations 0); "max" (activations and weights at their maximum);
    "negmin" (activations at their maximum, every weight at its most negative value).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    rng = np.random.default_rng(seed)
    fs = 3 if mode == "3x3" else 1
    m = (1 << (qw - 1)) - 1
    x = rng.integers(0, 1 << qa, (height, width, k_in))
    w = rng.integers(-m, m + 1, (k_out, fs, fs, k_in))
    if kind == "zeros":
        x[:] = 0
    elif kind in ("max", "negmin"):
        x[:] = (1 << qa) - 1
        w[:] = m if kind == "max" else -m
    kappa = rng.integers(1, 1 << 16, k_out)
    lam = rng.integers(-(1 << 20), 1 << 20, k_out)
    if kind != "random":
        kappa[:] = rng.integers(1, 1 << 8, k_out)
    probe = RBELayer(mode, qa, qw, qao, k_in, k_out, height, width, relu, 0)
    spread = int(np.abs(conv(x, w, probe) * kappa[None, None, :]).max(initial=0) + (1 << 20))
    # Shift so the largest |kappa * acc| lands a little above the output range: saturation is exercised
    # on the extremes while most values stay inside.
    shift = max(0, min(63, spread.bit_length() - qao))
    layer = dataclasses.replace(probe, shift=shift)
    return Case(name, layer, x.astype(np.int64), w.astype(np.int64), kappa, lam, seed)


def precision_grid():
    """Every (qa, qw, qao) in 2..8."""
    return list(itertools.product(range(2, 9), repeat=3))


def sampled_grid(n, seed):
    """``n`` distinct (qa, qw, qao) drawn from the full grid with ``seed``, always including the corners."""
    grid = precision_grid()
    corners = [(2, 2, 2), (8, 8, 8), (4, 4, 4), (2, 8, 5), (8, 2, 3)]
    rest = [p for p in grid if p not in corners]
    random.Random(seed).shuffle(rest)
    return corners + rest[:max(0, n - len(corners))]


def regression_cases(cfg: RBEConfig, *, n_grid, seed):
    """The CI regression: sampled precisions in both modes with ReLU on and off, channels 32/64/96 and
    several image sizes (including partial edge tiles), and the edge-value cases."""
    c = max(cfg.k_tile, 32)       # 32, 64 and 96 channels (multiples of every BINCONV_WIDTH)
    cases = []
    sizes = [(5, 5), (7, 4), (4, 9), (6, 6)]
    chans = [(c, c), (2 * c, c), (c, 3 * c), (3 * c, 2 * c)]
    for n, (qa, qw, qao) in enumerate(sampled_grid(n_grid, seed)):
        for mode in ("3x3", "1x1"):
            relu = (n + (mode == "1x1")) % 2 == 0
            h, w = sizes[n % len(sizes)]
            ki, ko = chans[(n + (mode == "1x1")) % len(chans)]
            cases.append(make_case(f"{mode}_a{qa}w{qw}o{qao}_{'relu' if relu else 'signed'}_{ki}x{ko}_{h}x{w}",
                                   mode=mode, qa=qa, qw=qw, qao=qao, k_in=ki, k_out=ko, height=h, width=w,
                                   relu=relu, seed=seed * 1000 + n * 2 + (mode == "1x1")))
    for n, kind in enumerate(("zeros", "max", "negmin")):
        for mode in ("3x3", "1x1"):
            for relu in (True, False):
                cases.append(make_case(f"edge_{kind}_{mode}_{'relu' if relu else 'signed'}", mode=mode, qa=8, qw=8,
                                       qao=8 if relu else 5, k_in=2 * c, k_out=c, height=5, width=4, relu=relu,
                                       seed=seed * 1000 + 500 + n, kind=kind))
    return cases
