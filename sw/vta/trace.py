"""Trace-based validation (spec section 7): compare the scratchpad writes of the golden model and the RTL.

Both traces are lists of ``(instruction index, memory, scratchpad index, element bytes)``. Each scratchpad
is written by one module only, in program order, so its sequence of writes is the same in any correct
implementation, whatever the interleaving of the modules: the traces are compared memory by memory, and
the divergence with the earliest instruction index is the first one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["first_divergence", "describe"]

_LANE_DTYPE = {"inp": np.int8, "wgt": np.int8, "acc": "<i4", "uop": "<u4"}


def first_divergence(golden, rtl):
    """The first divergent write, or None.

    Returns
    -------
    dict or None
        ``memory``, ``position`` (n-th write of that memory), ``golden``/``rtl`` (the two writes, either may be
        None when one trace is shorter), and ``compared`` (writes per memory that matched before it).
    """
    found = []
    compared = {}
    for mem in ("inp", "wgt", "uop", "acc"):
        g = [w for w in golden if w[1] == mem]
        r = [w for w in rtl if w[1] == mem]
        n = 0
        for n in range(max(len(g), len(r))):
            gw = tuple(g[n]) if n < len(g) else None
            rw = tuple(r[n]) if n < len(r) else None
            if gw != rw:
                idx = min(w[0] for w in (gw, rw) if w is not None)
                found.append({"memory": mem, "position": n, "golden": gw, "rtl": rw, "instruction": idx})
                break
        else:
            n = len(g)
        compared[mem] = n
    if not found:
        return None
    first = min(found, key=lambda d: (d["instruction"], d["position"]))
    first["compared"] = compared
    return first


def _lanes(mem, data: bytes):
    return np.frombuffer(data, dtype=_LANE_DTYPE[mem])


def describe(d, insn_names=None) -> str:
    """A readable sentence for a divergence from :func:`first_divergence`."""
    mem, g, r = d["memory"], d["golden"], d["rtl"]
    what = f"instruction {d['instruction']}"
    if insn_names and d["instruction"] < len(insn_names):
        what += f" ({insn_names[d['instruction']]})"
    head = f"first divergence: write #{d['position']} to the {mem} scratchpad, {what}"
    if g is None or r is None:
        have = "golden" if g is not None else "RTL"
        w = g if g is not None else r
        return f"{head}: only the {have} trace has it ({mem}[{w[2]}] by instruction {w[0]})"
    parts = []
    if g[0] != r[0]:
        parts.append(f"instruction golden {g[0]}, RTL {r[0]}")
    if g[2] != r[2]:
        parts.append(f"index golden {mem}[{g[2]}], RTL {mem}[{r[2]}]")
    if g[3] != r[3]:
        gl, rl = _lanes(mem, g[3]), _lanes(mem, r[3])
        lanes = np.flatnonzero(gl != rl)
        parts.append(f"{mem}[{g[2]}] data differs in {lanes.size} lane(s), first lane {lanes[0]}: "
                     f"golden {gl[lanes[0]]}, RTL {rl[lanes[0]]}")
    return head + ": " + "; ".join(parts)
