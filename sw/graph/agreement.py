"""Agreement of the graph reference with onnxruntime, per layer and end to end.

    rows = layer_agreement(graph, "model.onnx", x_float)            # one row per integer ONNX tensor
    summary = summarize(rows)                                        # elements, mismatches, max |diff|
    agree = prediction_agreement(graph, "model.onnx", xs_float)     # fraction of equal argmax

onnxruntime's intermediate integer tensors are exposed by adding them as graph outputs in a copy of the model
(the ``QuantizeLinear`` outputs of a QDQ model, the ``QLinear*`` outputs of a QOperator model; the graph keeps
the correspondence in ``graph.meta["onnx_tensors"]``). Per layer, every graph node is fed onnxruntime's values of
its inputs (``isolated=True``), so a rounding difference in one layer does not propagate into the next; with
``isolated=False`` the graph runs end to end on its own values.
"""

from __future__ import annotations

import numpy as np

from .ir import Graph
from .reference import dequantize, quantize_input, run

__all__ = ["OrtIntermediates", "layer_agreement", "summarize", "prediction_agreement", "predict", "ort_session",
           "PRECISE"]

_ONNX_TYPE = {"int8": 3, "uint8": 2, "int32": 6}

#: onnxruntime session config for exact integer kernels. By default on x64 CPUs without AVX-512 VNNI,
#: onnxruntime rewrites int8 QDQ activations to uint8 and runs u8 x s8 kernels whose pairwise int16 sums
#: (vpmaddubsw) saturate, so its results can differ from the ONNX operator definitions by several LSBs;
#: ``session.x64quantprecision=1`` selects the slower exact kernels. See docs/networks.md.
PRECISE = {"session.x64quantprecision": "1"}


def ort_session(model, precise: bool = True, threads: int = 1):
    """An onnxruntime CPU session on a path or serialised model; ``precise`` selects the exact x64 kernels
    where onnxruntime has them (QDQ models; its QOperator int8 kernels are s8 x s8 and exact already, and some,
    such as QGemm, refuse the option: the default kernels are used then). ``session.precise`` says which."""
    import onnxruntime as rt
    src = model if isinstance(model, bytes) else str(model)

    def make(p):
        so = rt.SessionOptions()
        so.log_severity_level = 3
        so.intra_op_num_threads = threads
        if p:
            for k, v in PRECISE.items():
                so.add_session_config_entry(k, v)
        s = rt.InferenceSession(src, so, providers=["CPUExecutionProvider"])
        s.precise = p
        return s

    if precise:
        try:
            return make(True)
        except Exception:  # noqa: BLE001 - onnxruntime raises its own exception types
            pass
    return make(False)


class OrtIntermediates:
    """An onnxruntime session on a copy of the model whose integer intermediate tensors are graph outputs."""

    def __init__(self, graph: Graph, model_path, threads: int = 1, precise: bool = True):
        import onnx
        m = onnx.load(str(model_path))
        have = {o.name for o in m.graph.output}
        produced = {o for n in m.graph.node for o in n.output}
        self.names = {}  # onnx name -> graph tensor
        for onnx_name, t in graph.meta.get("onnx_tensors", {}).items():
            if onnx_name not in produced and onnx_name not in have:
                continue
            self.names[onnx_name] = t
            if onnx_name not in have:
                m.graph.output.append(onnx.helper.make_tensor_value_info(
                    onnx_name, _ONNX_TYPE[graph.tensors[t].dtype], None))
        self.session = ort_session(m.SerializeToString(), precise, threads)
        self.input = self.session.get_inputs()[0].name
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.float_output = m.graph.output[0].name

    def run(self, x):
        """``(float output, {graph tensor: onnxruntime value})`` for one float input."""
        res = dict(zip(self.outputs, self.session.run(None, {self.input: np.asarray(x, np.float32)})))
        return res[self.float_output], {t: res[o] for o, t in self.names.items() if o in res}


def layer_agreement(graph: Graph, model_path, x, isolated: bool = True, ort: OrtIntermediates | None = None):
    """Compare every graph tensor that onnxruntime also computes, for float input ``x``."""
    ort = ort or OrtIntermediates(graph, model_path)
    _, ov = ort.run(x)
    q = quantize_input(graph, x)
    vals = run(graph, q, substitute=ov if isolated else None)
    rows = []
    for n in [None] + list(graph.nodes):
        t = graph.inputs[0] if n is None else n.output
        if t not in ov:
            continue
        ours, theirs = vals[t].astype(np.int64), np.asarray(ov[t]).astype(np.int64).reshape(vals[t].shape)
        d = np.abs(ours - theirs)
        prod = graph.producer(t)
        rows.append({"tensor": t, "op": prod.op if prod else "input", "elements": int(d.size),
                     "mismatches": int((d != 0).sum()), "max_abs_diff": int(d.max(initial=0))})
    return rows


def summarize(rows_list) -> dict:
    """Totals over one or more :func:`layer_agreement` results (a list of row lists or one row list)."""
    if rows_list and isinstance(rows_list[0], dict):
        rows_list = [rows_list]
    el = sum(r["elements"] for rows in rows_list for r in rows)
    mm = sum(r["mismatches"] for rows in rows_list for r in rows)
    mx = max((r["max_abs_diff"] for rows in rows_list for r in rows), default=0)
    worst = min((1 - r["mismatches"] / r["elements"] for rows in rows_list for r in rows), default=1.0)
    return {"elements": el, "mismatches": mm, "agree_fraction": 1 - mm / el if el else 1.0,
            "worst_layer_agree_fraction": worst, "max_abs_diff": mx}


def predict(graph: Graph, x) -> int:
    """Predicted class of the graph reference for float input ``x`` (argmax of the dequantised output)."""
    out = graph.outputs[0]
    v = run(graph, quantize_input(graph, x))[out]
    return int(np.argmax(dequantize(graph, out, v).reshape(-1)))


def prediction_agreement(graph: Graph, model_path, xs, precise: bool = True) -> dict:
    """Predicted classes of the graph reference and of onnxruntime (exact kernels unless ``precise=False``)
    on each float input in ``xs``."""
    s = ort_session(model_path, precise)
    name = s.get_inputs()[0].name
    ours, theirs = [], []
    for x in xs:
        x = np.asarray(x, np.float32)
        theirs.append(int(np.argmax(s.run(None, {name: x})[0].reshape(-1))))
        ours.append(predict(graph, x))
    ours, theirs = np.array(ours), np.array(theirs)
    return {"n": len(xs), "agree": int((ours == theirs).sum()), "ours": ours, "onnxruntime": theirs}
