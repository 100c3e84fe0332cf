"""Energy per inference of an integer graph (sw/graph) on an engine bridged into the analytic model.

Generic over the engine: the caller (the engine's registry entry, ``EngineSpec.energy``) passes its bridge, an
:class:`~sw.dse.arch.Arch` and a function mapping a :class:`~sw.dse.layer.Layer` to ``(padded layer, spatial
unrolling)``. Every conv2d/dense layer of the graph gets its best blocking (:func:`sw.dse.search.search_blocking`);
a grouped convolution counts as ``groups`` convolutions of its group size. Pools, adds and requantisation are not
in the model (they move few bytes and do no MACs).
"""

from __future__ import annotations

from .layer import Layer
from .search import search_blocking

__all__ = ["graph_layers_of", "graph_energy_uj"]


def graph_layers_of(graph) -> list:
    """``[(Layer, instances)]`` of the conv2d/dense layers of ``graph`` (batch from the input shape)."""
    from sw.graph.ir import integer_layers
    out = []
    for lp in integer_layers(graph):
        if lp.op == "conv2d":
            n, c = lp.in_shape[0], lp.in_shape[1]
            m, _, kh, kw = lp.weights.shape
            g = int(lp.attrs.get("groups", 1))
            sy, sx = lp.attrs.get("strides", [1, 1])
            _, _, y, x = lp.out_shape
            out.append((Layer(lp.name, n, m // g, c // g, y, x, kh, kw, sy, sx), g))
        elif lp.op == "dense":
            n, k = lp.in_shape[0], lp.in_shape[-1]
            out.append((Layer(lp.name, n, lp.weights.shape[0], k, 1, 1, 1, 1), 1))
    return out


def graph_energy_uj(graph, arch, work_and_spatial) -> float:
    """Total energy (microjoules) of one pass of ``graph``'s conv/dense layers on ``arch``."""
    total = 0.0
    for layer, count in graph_layers_of(graph):
        work, spatial = work_and_spatial(layer)
        r = search_blocking(work, arch, spatial, name=f"{arch.name}-{layer.name}").result
        total += float(r.total) * count / 1e6
    return total
