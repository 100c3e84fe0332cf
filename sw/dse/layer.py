"""The 7-loop convolution of a layer, O[b][k][x][y] += I[b][c][x+fx][y+fy] * W[k][c][fx][fy].

Loop names follow the Interstellar paper: B (batch), K (output channels), C (input channels), Y, X (output
rows and columns), FY, FX (filter rows and columns). FC layers are convolutions with X = Y = FX = FY = 1.
"""

from __future__ import annotations

import dataclasses
import math
import json
from pathlib import Path

__all__ = ["LOOPS", "TENSORS", "IRRELEVANT", "Layer", "DseError", "load_layers", "loop_index", "read_json"]

LOOPS = ("B", "K", "C", "Y", "X", "FY", "FX")
TENSORS = ("IF", "OF", "FL")
# Loops whose index does not appear in a tensor's subscript: iterating them re-uses the same element. FX/FY
# count as irrelevant to IF as in the paper (the sliding-window overlap is folded into the innermost count).
IRRELEVANT = {"IF": ("FX", "FY", "K"), "OF": ("FX", "FY", "C"), "FL": ("X", "Y", "B")}
_ALIASES = {"F_X": "FX", "F_Y": "FY", "N": "B"}
MAX_BOUND = 1 << 20


class DseError(ValueError):
    """A layer, architecture, mapping or energy table that is inconsistent; the message names the field."""


def loop_index(name) -> int:
    """Index of loop ``name`` in :data:`LOOPS` (accepts F_X/F_Y and N as aliases)."""
    key = _ALIASES.get(str(name).upper(), str(name).upper()) if isinstance(name, str) else name
    if key not in LOOPS:
        raise DseError(f"unknown loop {name!r}; allowed loops: {', '.join(LOOPS)} (aliases F_X, F_Y, N)")
    return LOOPS.index(key)


def read_json(path):
    """Parsed JSON of ``path``; DseError naming the file otherwise."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DseError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise DseError(f"{path}: not valid JSON: {e}") from None


def _positive_int(d, key, where, default=None):
    v = d.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise DseError(f"{where}: {key} must be a positive integer, not {v!r}")
    return v


@dataclasses.dataclass(frozen=True)
class Layer:
    """One convolution (or FC) layer as a 7-loop nest.

    Parameters
    ----------
    name : str
    B, K, C, Y, X, FY, FX : int
        Loop bounds (X, Y are the output width and height).
    stride_y, stride_x : int
        Convolution strides.

    Raises
    ------
    DseError
        If a bound or stride is not a positive integer.
    """

    name: str
    B: int
    K: int
    C: int
    Y: int
    X: int
    FY: int
    FX: int
    stride_y: int = 1
    stride_x: int = 1

    def __post_init__(self):
        for key in LOOPS + ("stride_y", "stride_x"):
            _positive_int({key: getattr(self, key)}, key, f"layer {self.name!r}")
            if getattr(self, key) > MAX_BOUND:
                raise DseError(f"layer {self.name!r}: {key} = {getattr(self, key):,} is beyond any DNN layer "
                               f"(limit {MAX_BOUND:,}): the search would take hours")

    @property
    def bounds(self) -> tuple:
        """Loop bounds in :data:`LOOPS` order."""
        return tuple(getattr(self, n) for n in LOOPS)

    @property
    def macs(self) -> int:
        return math.prod(self.bounds)

    @property
    def in_height(self) -> int:
        """Input rows touched by the convolution (padding included)."""
        return (self.Y - 1) * self.stride_y + self.FY

    @property
    def in_width(self) -> int:
        return (self.X - 1) * self.stride_x + self.FX

    @property
    def sizes(self) -> dict:
        """Elements of each tensor: IF (padded input), OF, FL."""
        return {"IF": self.B * self.C * self.in_height * self.in_width,
                "OF": self.B * self.K * self.Y * self.X,
                "FL": self.K * self.C * self.FY * self.FX}

    def with_batch(self, batch: int) -> "Layer":
        return dataclasses.replace(self, B=batch, name=f"{self.name}_b{batch}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict, where="layer") -> "Layer":
        """Read a layer from accelgen keys (B, K, C, Y, X, FY, FX, stride) or from the keys of
        sw/data/resnet18_layers.json (batch, out_channels, in_channels, out_height, out_width, kernel, stride)."""
        if not isinstance(d, dict):
            raise DseError(f"{where}: a layer must be a JSON object, not {type(d).__name__}")
        name = str(d.get("name", "layer"))
        where = f"{where} {name!r}"
        if "out_channels" in d:
            k = _positive_int(d, "kernel", where)
            s = _positive_int(d, "stride", where, 1)
            return cls(name=name, B=_positive_int(d, "batch", where, 1), K=_positive_int(d, "out_channels", where),
                       C=_positive_int(d, "in_channels", where), Y=_positive_int(d, "out_height", where),
                       X=_positive_int(d, "out_width", where), FY=k, FX=k, stride_y=s, stride_x=s)
        kw = {"name": name}
        allowed = set(LOOPS) | set(_ALIASES) | {"name", "stride", "stride_x", "stride_y", "description"}
        for key in d:
            if key not in allowed:
                raise DseError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(sorted(allowed))}")
        for key in d:
            if key in LOOPS or key in _ALIASES:
                kw[LOOPS[loop_index(key)]] = _positive_int(d, key, where)
        missing = [n for n in LOOPS if n not in kw and n != "B"]
        if missing:
            raise DseError(f"{where}: missing loop bound(s) {', '.join(missing)}")
        kw.setdefault("B", 1)
        stride = _positive_int(d, "stride", where, 1)
        kw["stride_x"] = _positive_int(d, "stride_x", where, stride)
        kw["stride_y"] = _positive_int(d, "stride_y", where, stride)
        return cls(**kw)


def load_layers(path) -> list:
    """Layers of a JSON file holding one layer object, a list, or ``{"layers": [...]}``."""
    d = read_json(path)
    items = d.get("layers", [d]) if isinstance(d, dict) else d
    if not isinstance(items, list) or not items:
        raise DseError(f"{path}: expected a layer object, a list of layers or {{\"layers\": [...]}}")
    return [Layer.from_dict(x, where=str(path)) for x in items]
