"""The integer network graph (IR, exact numpy reference, serialisation, ONNX import, built-in models).

See :mod:`sw.graph.ir` for the IR and its rounding rule, docs/networks.md for the whole story.
Heavy modules (``onnx_import``, ``models``, ``agreement``) import onnx/onnxruntime and are not imported here.
"""

from .ir import (DTYPES, OPS, Graph, GraphError, LayerParams, Node, Tensor, integer_layers,  # noqa: F401
                 quantize_multiplier, rounding_shift)
from .reference import dequantize, quantize_input, run  # noqa: F401
from .serialize import load, save  # noqa: F401
