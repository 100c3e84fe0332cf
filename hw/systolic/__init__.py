"""TPU-style weight-stationary systolic array (issue 3): one component per unit of the paper's figure.

``PE`` -> ``SystolicArray`` (R x C PEs), ``Serializer`` (per row), ``Accumulator`` + ``Deserializer`` (per
column), ``VectorMemory`` (one single-port SRAM per row/column), ``Sequencer`` (fold loops and the skewed
address stream), ``DMA`` (DRAM <-> memories) and ``Systolic`` (the engine with its host registers).
"""
