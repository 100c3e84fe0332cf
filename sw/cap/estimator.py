"""BF-IMNA-style system estimator: maps networks onto the limited-resources configuration of CAPs.

Limited-resources configuration (spec section 4): 1 GHz, 8 x 8 clusters of 8 x 8 CAPs with 4800 rows each,
a mesh at 500 MHz moving 1024 bits per transfer over 3.815 hops on average. Convolutions are lowered to GEMM
by im2col; each output element is a group of J = next_pow2(j) rows (products, then a grouped tree
reduction), G = 4800 // J groups per CAP run, all CAPs in parallel, runs repeated over time steps
(weight-stationary). ReLU follows every conv/fc layer, pooling and residual additions run on the CAPs too.

Per-run costs come from one of two sources (the report says which):

``rtl``
    The bench JSON (``make bench TARGET=cap``): cycles, compares and writes measured on the RTL for every
    op and precision; the GEMM/pool costs are fitted exactly (least squares, residual reported) to a model
    linear in the program structure (1, M, M^2, levels, levels x M, levels^2, serial row pairs) and
    evaluated at 4800 rows.
``formula``
    The paper's 2D formulas (spec section 3), with their compare/write split.

Energy: every horizontal micro-op (compare, write, load, read of all rows) costs ``rows x 3 cells x E``,
every vertical one (a row pair) ``2 x width x E``, with E = 0.24 fJ (the SRAM cell write energy of the
spec, also used for a compare: an assumption). Absolute energies are therefore far below the paper's
(which include peripheral circuits); the normalised trends are what the estimator reproduces.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from . import formulas
from .networks import HAWQ_LAYERS, network, out_size

__all__ = ["System", "CostModel", "estimate_network", "hawq_configs", "LIMITED"]

E_CELL = 0.24e-15           # J per cell access (SRAM write, spec section 4)
CELLS_PER_H_OP = 3          # cells touched per row by a horizontal micro-op (fields of a LUT pass)


class System:
    """The limited-resources configuration."""

    def __init__(self, clusters=64, caps_per_cluster=64, rows=4800, f_hz=1e9, noc_hz=500e6, noc_bits=1024,
                 hops=3.815):
        self.clusters, self.caps_per_cluster, self.rows = clusters, caps_per_cluster, rows
        self.f_hz, self.noc_hz, self.noc_bits, self.hops = f_hz, noc_hz, noc_bits, hops

    @property
    def caps(self):
        return self.clusters * self.caps_per_cluster


LIMITED = System()


def _pow2(n):
    return 1 << max(1, (int(n) - 1).bit_length())


def _levels(J):
    return J.bit_length() - 1


def gemm_features(M, G, J, segmented=False):
    L = _levels(J)
    pairs = L if segmented else G * (J - 1)       # segmentation moves every row pair of a level at once
    return [1, M, M * M, L, L * M, L * L, pairs]


def pool_features(M, G, J, segmented=False):
    L = _levels(J)
    pairs = L - 1 if segmented else G * (J // 2 - 1)
    return [1, M, L, L * M, L * L, pairs]


_FEATURES = {"matmul": gemm_features, "maxpool": pool_features, "avgpool": pool_features}


class CostModel:
    """Per-CAP-run cost: ``run(op, M, G=, J=)`` -> dict(cycles, compares, writes, vertical).

    Parameters
    ----------
    source : "rtl" or "formula"
    bench : dict, optional
        The bench JSON (needed for ``"rtl"``).
    """

    def __init__(self, source="formula", bench=None, segmented=False):
        if source not in ("rtl", "formula"):
            raise ValueError(f"source must be 'rtl' or 'formula', not {source!r}")
        self.source = source
        self.segmented = segmented
        self.fits = {}
        self.residual = 0.0
        self.elementwise = {}
        if source == "rtl":
            if not bench:
                raise ValueError("source 'rtl' needs the bench JSON (make bench TARGET=cap)")
            self._fit(bench)

    @classmethod
    def load(cls, bench_path="build/bench/cap.json", segmented=False):
        """``rtl`` costs from the bench JSON if it exists, else the formulas."""
        p = Path(bench_path)
        if p.is_file():
            return cls("rtl", json.loads(p.read_text()), segmented)
        return cls("formula", segmented=segmented)

    def describe(self):
        seg = "; segmentation modelled (row pairs of a level moved at once)" if self.segmented else ""
        return self._describe() + seg

    def _describe(self):
        if self.source == "rtl":
            return (f"per-op costs measured on the RTL (bench JSON; {len(self.elementwise)} elementwise points, "
                    f"GEMM/pool fits with max residual {self.residual:.2g} cycles)")
        return "per-op costs from the BF-IMNA 2D formulas (no bench JSON: run 'make bench TARGET=cap')"

    def _fit(self, bench):
        bad = [r["name"] for r in bench["records"] if not r["ok"]]
        if bad:
            raise ValueError(f"the bench JSON has {len(bad)} results that differ from numpy (e.g. {bad[0]})")
        recs = bench["records"]
        for r in recs:
            # ReLU is measured signed (unsigned ReLU is the identity); add and mul unsigned.
            if r["op"] in ("add", "mul", "relu") and r["name"].startswith("f_"):
                self.elementwise[(r["op"], r["bits"])] = {k: r[k] for k in ("cycles", "compares", "writes")}
        for op, feat in _FEATURES.items():
            rs = [r for r in recs if r["op"] == op and "G" in r and r["signed"] is False]
            if len(rs) < 8:
                raise ValueError(f"the bench JSON has {len(rs)} {op} points; at least 8 are needed for the fit")
            X = np.array([feat(r["bits"], r["G"], r["J"]) for r in rs], float)
            fit = {}
            for key in ("cycles", "compares", "writes", "vertical"):
                y = np.array([r[key] for r in rs], float)
                coef, *_ = np.linalg.lstsq(X, y, rcond=None)
                self.residual = max(self.residual, float(np.abs(X @ coef - y).max()))
                fit[key] = coef
            self.fits[op] = fit

    def run(self, op, M, *, G=1, J=2, signed=False):
        if self.source == "rtl":
            if op in self.fits:
                f = np.array(_FEATURES[op](M, G, J, self.segmented), float)
                return {k: max(0.0, float(f @ c)) for k, c in self.fits[op].items()}
            if (op, M) not in self.elementwise:
                raise ValueError(f"the bench JSON has no {op} at {M} bits")
            return {**self.elementwise[(op, M)], "vertical": 0}
        # Formulas, with the compare/write split of spec section 3.
        L = _levels(J)
        if op == "matmul":
            cyc = formulas.matmul(M, G, J, 1, segmented=self.segmented)
            serial = _levels(J) if self.segmented else G * (J - 1)
            return {"cycles": cyc, "compares": 4 * M * M + 4 * serial, "writes": 2 * M + 4 * M * M + 4 * serial,
                    "vertical": 8 * serial}
        if op in ("maxpool", "avgpool"):
            S, K = J, G
            cyc = formulas.formula(op, M, S=S, K=K, segmented=self.segmented)
            per = 10 if op == "maxpool" else 8
            serial = _levels(S) - 1 if self.segmented else K * (S // 2 - 1)
            return {"cycles": cyc, "compares": (cyc - 3 * M) / 2, "writes": 2 * M + (cyc - 3 * M) / 2,
                    "vertical": per * serial}
        cyc = formulas.formula(op, M)
        return {"cycles": cyc, "compares": (cyc - 3 * M) / 2, "writes": 2 * M + (cyc - 3 * M) / 2, "vertical": 0}


def _energy(c, rows, width):
    horizontal = c["cycles"] - c["vertical"]
    return (horizontal * rows * CELLS_PER_H_OP + c["vertical"] * 2 * width) * E_CELL


def _layer_gemms(layers):
    """(name, kind, i, j, u) GEMMs and (name, kind, n_windows, window) pools and (name, "add"/"relu", n)."""
    for layer in layers:
        kind, name = layer[0], layer[1]
        if kind == "conv":
            _, _, cin, cout, k, s, p, h = layer
            ho = out_size(h, k, s, p)
            yield name, "gemm", (ho * ho, k * k * cin, cout)
            yield name + ".relu", "relu", ho * ho * cout
        elif kind == "fc":
            yield name, "gemm", (1, layer[2], layer[3])
            yield name + ".relu", "relu", layer[3]
        elif kind == "maxpool":
            _, _, c, k, s, p, h = layer
            ho = out_size(h, k, s, p)
            yield name, "maxpool", (c * ho * ho, k * k)
        elif kind == "avgpool":
            yield name, "avgpool", (layer[2], layer[3] * layer[3])
        elif kind == "add":
            yield name, "add", layer[2]


def estimate_network(name, bits, cost: CostModel, system: System = LIMITED):
    """Latency (s) and energy (J) of one inference.

    Parameters
    ----------
    name : str
        A network of :mod:`sw.cap.networks`.
    bits : int or dict
        Precision of every layer, or ``{layer name: bits}`` (missing layers at 8 bits).

    Returns
    -------
    dict with ``latency_s``, ``energy_j``, ``edp``, ``layers`` (list of per-layer dicts).
    """
    layers = network(name)
    rows, caps = system.rows, system.caps
    out = []
    for lname, kind, shape in _layer_gemms(layers):
        base = lname.rsplit(".relu", 1)[0]
        M = bits.get(base, 8) if isinstance(bits, dict) else bits
        if kind == "gemm":
            i, j, u = shape
            J = _pow2(j)
            extra = 0.0
            if J > 4096:                  # fold j over runs, then reduce the partial sums
                parts = -(-j // 4096)
                J = 4096
                extra = parts
            G = max(1, rows // J)
            c = cost.run("matmul", M, G=G, J=J)
            runs = -(-(i * u * max(1, int(extra))) // G)
            width = 2 * M + _levels(J)
            noc_bits = i * u * width
        elif kind in ("maxpool", "avgpool"):
            n, S = shape
            J = _pow2(S)
            G = max(1, rows // (J // 2))
            c = cost.run(kind, M, G=G, J=J)
            runs = -(-n // G)
            width = M + _levels(J)
            noc_bits = n * M
        else:
            n = shape
            c = cost.run("relu" if kind == "relu" else "add", M)
            runs = -(-n // rows)
            width = M
            noc_bits = n * M
        steps = -(-runs // caps)
        t = steps * c["cycles"] / system.f_hz
        t_noc = math.ceil(noc_bits / system.noc_bits / system.clusters) * system.hops / system.noc_hz
        e = runs * _energy(c, rows, width)
        out.append({"layer": lname, "kind": kind, "bits": M, "runs": runs, "steps": steps,
                    "cycles_per_run": c["cycles"], "latency_s": t + t_noc, "energy_j": e})
    lat = sum(r["latency_s"] for r in out)
    en = sum(r["energy_j"] for r in out)
    return {"network": name, "latency_s": lat, "energy_j": en, "edp": lat * en, "layers": out}


#: Numeric fields a HAWQ-V3 config entry may carry (the paper's columns): ``(lo, hi)``; ``lo`` None means
#: "positive" (energies, latencies and EDPs are > 0).
HAWQ_NUMBERS = {"avg": (1, 16), "energy_vs_int8": (None, None), "latency_vs_int8": (None, None),
                "edp_js": (None, None), "top1": (0, 100)}
HAWQ_KEYS = {"name", "bits", *HAWQ_NUMBERS}


def _number(v, where, lo, hi):
    from sw.common.contract import BadInput
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise BadInput(f"{where} must be a finite number, not {v!r}")
    if lo is None and v <= 0:
        raise BadInput(f"{where} must be > 0, not {v!r}")
    if lo is not None and not lo <= v <= hi:
        raise BadInput(f"{where} must be {lo}..{hi}, not {v!r}")
    return v


def hawq_configs(path, network_name="resnet18"):
    """HAWQ-V3 configs of ResNet-18 as ``[(name, {layer: bits}, entry)]``.

    A config listing one bit width fewer than :data:`HAWQ_LAYERS` ("high" in the spec has 18 of 19) is padded
    with a 4 at the end: the published average (7.16 = 136 / 19) is met only that way.

    Raises
    ------
    BadInput
        The file is missing, empty, not UTF-8 or not JSON; it names another network than ResNet-18 (``network``
        key, or ``layers`` that are not ResNet-18's); a config has no name, a repeated name, a bit width that
        is not an integer 1..16 (the CAP's precisions), a number of widths that does not fit the 19 layers, or
        a paper number (energy, latency, EDP: positive; top-1 0..100; average 1..16) that makes no sense.
    """
    from sw.common.contract import BadInput, read_json
    from .config import MAX_BITS
    data = read_json(path, "HAWQ-V3 file")
    if network_name != "resnet18":
        raise BadInput(f"{path}: HAWQ-V3 precisions are per ResNet-18 layer; --network is {network_name}")
    if "network" in data and data["network"] != "resnet18":
        raise BadInput(f"{path}: network: the file is for {data['network']!r}; the HAWQ-V3 estimate is for resnet18")
    if "layers" in data and data["layers"] != HAWQ_LAYERS:
        raise BadInput(f"{path}: layers: not the {len(HAWQ_LAYERS)} ResNet-18 convolutions the precisions apply to "
                       f"({HAWQ_LAYERS[0]} .. {HAWQ_LAYERS[-1]}): a file for another network")
    configs = data.get("configs")
    if not isinstance(configs, list) or not configs:
        raise BadInput(f"{path}: configs must be a non-empty list of {{name, bits}} objects")
    out, names = [], set()
    for k, c in enumerate(configs):
        where = f"{path}: configs[{k}]"
        if not isinstance(c, dict):
            raise BadInput(f"{where} must be an object")
        unknown = sorted(set(c) - HAWQ_KEYS)
        if unknown:
            raise BadInput(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(HAWQ_KEYS))}")
        name = c.get("name")
        if not isinstance(name, str) or not name:
            raise BadInput(f"{where}: name must be a non-empty string, not {name!r}")
        if name in names:
            raise BadInput(f"{where}: name {name!r} appears twice")
        names.add(name)
        b = c.get("bits")
        if not isinstance(b, list):
            raise BadInput(f"{where} ({name}): bits must be a list of per-layer bit widths, not {b!r}")
        for i, x in enumerate(b):
            if isinstance(x, bool) or not isinstance(x, int) or not 1 <= x <= MAX_BITS:
                raise BadInput(f"{where} ({name}): bits[{i}] must be an integer 1..{MAX_BITS} (the CAP's "
                               f"precisions), not {x!r}")
        b = list(b)
        if len(b) == len(HAWQ_LAYERS) - 1:
            b.append(4)
        if len(b) != len(HAWQ_LAYERS):
            raise BadInput(f"{where} ({name}): {len(c['bits'])} bit widths, expected {len(HAWQ_LAYERS)} (the "
                           f"ResNet-18 convolutions {HAWQ_LAYERS[0]} .. {HAWQ_LAYERS[-1]}): a file for another "
                           f"network?")
        for key, (lo, hi) in HAWQ_NUMBERS.items():
            if key in c:
                _number(c[key], f"{where} ({name}): {key}", lo, hi)
        out.append((name, dict(zip(HAWQ_LAYERS, b)), c))
    return out


def check_bench(bench, path="bench JSON"):
    """Raise BadInput unless ``bench`` looks like ``make bench TARGET=cap``'s JSON (non-negative counts)."""
    from sw.common.contract import BadInput
    recs = bench.get("records") if isinstance(bench, dict) else None
    if not isinstance(recs, list) or not recs:
        raise BadInput(f"{path}: records must be a non-empty list (the output of 'make bench TARGET=cap')")
    for k, r in enumerate(recs):
        where = f"{path}: records[{k}]"
        if not isinstance(r, dict):
            raise BadInput(f"{where} must be an object")
        for key in ("name", "op", "bits", "signed", "ok", "cycles", "compares", "writes"):
            if key not in r:
                raise BadInput(f"{where}: missing key {key!r}")
        if isinstance(r["bits"], bool) or not isinstance(r["bits"], int) or not 1 <= r["bits"] <= 16:
            raise BadInput(f"{where}: bits must be an integer 1..16, not {r['bits']!r}")
        for key in ("cycles", "compares", "writes", "vertical", "G", "J"):
            if key in r:
                v = r[key]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    raise BadInput(f"{where}: {key} must be a non-negative number, not {v!r}")
