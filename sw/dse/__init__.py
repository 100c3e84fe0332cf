"""Analytic dataflow and energy model in the style of Interstellar (Yang et al., ASPLOS 2020).

A layer is the 7-loop convolution nest (:mod:`.layer`); an architecture is a PE array under a memory hierarchy
with an energy table (:mod:`.arch`, :mod:`.energy`); a mapping blocks, orders and unrolls the loops
(:mod:`.mapping`); :func:`evaluate` counts accesses per level and tensor and turns them into energy, cycles and
utilisation (:mod:`.model`); :mod:`.search` finds the best blocking, explores dataflows and memory sizes;
:mod:`.space` explores the complete spatial space exactly (branch and bound); :mod:`.onnx_layers` reads the layers of
a network (ONNX, graph folder, the ResNet-18 table); :mod:`.bridges` describes the generated engines (VTA, systolic
array) as architectures of the model.
"""

from .arch import Arch, MemLevel, load_arch
from .energy import PAPER_TABLE, EnergyTable, load_energy_table
from .layer import IRRELEVANT, LOOPS, TENSORS, DseError, Layer, load_layers
from .mapping import Mapping, format_dataflow, parse_dataflow
from .model import Result, evaluate

__all__ = ["Arch", "MemLevel", "load_arch", "PAPER_TABLE", "EnergyTable", "load_energy_table", "IRRELEVANT",
           "LOOPS", "TENSORS", "DseError", "Layer", "load_layers", "Mapping", "format_dataflow",
           "parse_dataflow", "Result", "evaluate"]
