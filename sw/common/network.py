"""The network half of the engine contract: how an engine lowers the integer graph and reports a whole network.

An engine that runs networks provides, next to its job contract (:mod:`sw.common.contract`):

``sw/<engine>/lower.py``: ``lower(graph, cfg) -> Lowered``
    Maps every layer of a :class:`sw.graph.ir.Graph` (its :func:`sw.graph.ir.integer_layers` view) onto the
    engine, or raises :class:`LoweringError` naming the layer and why. An engine that can map only some layers
    returns them in ``Lowered.layers`` and lists the rest in ``Lowered.unmapped`` (layer name -> reason); the
    comparison table then still fills the other columns.
``Lowered.run_golden(inputs, options) -> NetworkResult``
    The engine's golden model on the lowered network (no RTL).
``tb/<engine>/network.py``: ``run_network_rtl(lowered, inputs, out, options, progress) -> NetworkResult``
    The same on the RTL (found through :func:`tb.backends.rtl_network`).

Both check every layer bit-exactly against the graph reference (:func:`sw.graph.reference.run`) and fill
:class:`LayerResult` rows. Shared commands (``accelgen run``, ``accelgen compare``, the network benches) use
only these names: they never special-case an engine.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable

from sw.common.contract import BadInput

__all__ = ["LoweringError", "LayerResult", "NetworkResult", "Lowered"]


class LoweringError(BadInput):
    """A graph (or one layer) the engine cannot run; the message names the layer, its op and the reason."""


@dataclasses.dataclass
class LayerResult:
    """One layer of a network run.

    Attributes
    ----------
    name, op : str
        The graph layer (:class:`sw.graph.ir.LayerParams` name and op).
    cycles : int
        Engine cycles for the layer (0 when not timed, e.g. golden).
    macs : int
        Multiply-accumulates the layer needs (graph count, not padded).
    dram_bytes : int
        Bytes moved between DRAM and the engine for the layer (0 if the engine does not count them).
    bit_exact : bool or None
        Output equals the graph reference (None: not compared).
    mismatches : int
        Elements that differ from the graph reference.
    where : str
        ``"engine"`` or where the layer ran instead (e.g. ``"host"`` for a documented fallback, whose cost is
        never hidden in the engine cycles).
    message : str
    """

    name: str
    op: str
    cycles: int = 0
    macs: int = 0
    dram_bytes: int = 0
    bit_exact: bool | None = None
    mismatches: int = 0
    where: str = "engine"
    message: str = ""

    @property
    def mac_per_cycle(self) -> float:
        return self.macs / self.cycles if self.cycles else 0.0


@dataclasses.dataclass
class NetworkResult:
    """A whole network on one engine and backend.

    Attributes
    ----------
    engine, backend : str
    layers : list of LayerResult
    outputs : dict
        Graph output name -> int array (batch first).
    peak_macs_per_cycle : float
        The engine config's peak, for utilisation.
    status : str
        ``ok`` when every layer ran and was bit-exact, else ``mismatch`` / ``error`` / ``timeout``.
    message : str
    """

    engine: str
    backend: str
    layers: list
    outputs: dict = dataclasses.field(default_factory=dict)
    peak_macs_per_cycle: float = 0.0
    status: str = "ok"
    message: str = ""

    @property
    def cycles(self) -> int:
        return sum(l.cycles for l in self.layers if l.where == "engine")

    @property
    def macs(self) -> int:
        return sum(l.macs for l in self.layers if l.where == "engine")

    @property
    def dram_bytes(self) -> int:
        return sum(l.dram_bytes for l in self.layers)

    @property
    def bit_exact(self) -> bool:
        return all(l.bit_exact is not False for l in self.layers)

    @property
    def utilization(self) -> float:
        if not self.cycles or not self.peak_macs_per_cycle:
            return 0.0
        return self.macs / (self.cycles * self.peak_macs_per_cycle)

    def summary(self) -> dict:
        """JSON-able summary (``result.json`` of ``accelgen run``)."""
        return {"engine": self.engine, "backend": self.backend, "status": self.status, "message": self.message,
                "cycles": self.cycles, "macs": self.macs, "dram_bytes": self.dram_bytes,
                "mac_per_cycle": round(self.macs / self.cycles, 3) if self.cycles else 0.0,
                "utilization": round(self.utilization, 4), "bit_exact": self.bit_exact,
                "layers": [dict(dataclasses.asdict(l), mac_per_cycle=round(l.mac_per_cycle, 3)) for l in self.layers]}

    def write(self, out) -> Path:
        path = Path(out) / "result.json"
        path.write_text(json.dumps(self.summary(), indent=1) + "\n")
        return path


@dataclasses.dataclass
class Lowered:
    """A graph mapped onto one engine config.

    Attributes
    ----------
    engine : str
    cfg : Any
        The engine config.
    graph : sw.graph.ir.Graph
    layers : list
        Engine-specific per-layer programs, in graph order (what the backends execute).
    unmapped : dict
        Layer name -> reason, for layers the engine cannot run.
    peak_macs_per_cycle : float
    run_golden : callable
        ``(inputs, options) -> NetworkResult``.
    """

    engine: str
    cfg: Any
    graph: Any
    layers: list
    unmapped: dict = dataclasses.field(default_factory=dict)
    peak_macs_per_cycle: float = 0.0
    run_golden: Callable[..., NetworkResult] | None = None
