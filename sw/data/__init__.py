"""Project data shipped with the code: layer tables and published precision plans.

Found relative to this package, so they work from a clone, an installed wheel or any working directory.

``resnet18_layers.json``
    ResNet-18 convolution layers C1..C11 (TVM/VTA benchmark shapes) with MACs and instance counts.
``mobilenet_group_layers.json``
    MobileNet 1.0 grouped/depthwise layers of the TVM/VTA group_conv2d benchmark.
``hawq_v3_resnet18.json``
    HAWQ-V3 per-layer bit widths for ResNet-18 (int4, Low, Medium, High, int8) as BF-IMNA Table VII uses them.
"""

from pathlib import Path

__all__ = ["DATA_DIR", "path", "RESNET18_LAYERS", "MOBILENET_GROUP_LAYERS", "HAWQ_V3_RESNET18"]

DATA_DIR = Path(__file__).resolve().parent
RESNET18_LAYERS = DATA_DIR / "resnet18_layers.json"
MOBILENET_GROUP_LAYERS = DATA_DIR / "mobilenet_group_layers.json"
HAWQ_V3_RESNET18 = DATA_DIR / "hawq_v3_resnet18.json"


def path(name: str) -> Path:
    """Path of the data file ``name`` (e.g. ``"resnet18_layers.json"``); ``FileNotFoundError`` if absent."""
    p = DATA_DIR / name
    if not p.is_file():
        raise FileNotFoundError(f"no project data file {name!r} in {DATA_DIR}")
    return p
