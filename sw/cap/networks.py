"""Layer shapes of AlexNet, VGG-16, ResNet-18 and ResNet-50 (ImageNet, batch 1), built in code.

Each network is a list of layers: ``("conv", name, cin, cout, k, stride, pad, h_in)`` (square inputs),
``("fc", name, n_in, n_out)``, ``("maxpool", name, channels, k, stride, pad, h_in)``,
``("avgpool", name, channels, h_in)`` (global) and ``("add", name, n_elems)`` (residual additions).
"""

__all__ = ["NETWORKS", "network", "out_size", "HAWQ_LAYERS"]


def out_size(h, k, stride, pad):
    return (h + 2 * pad - k) // stride + 1


def _alexnet():
    L = [("conv", "conv1", 3, 96, 11, 4, 0, 227), ("maxpool", "pool1", 96, 3, 2, 0, 55),
         ("conv", "conv2", 96, 256, 5, 1, 2, 27), ("maxpool", "pool2", 256, 3, 2, 0, 27),
         ("conv", "conv3", 256, 384, 3, 1, 1, 13), ("conv", "conv4", 384, 384, 3, 1, 1, 13),
         ("conv", "conv5", 384, 256, 3, 1, 1, 13), ("maxpool", "pool5", 256, 3, 2, 0, 13),
         ("fc", "fc6", 9216, 4096), ("fc", "fc7", 4096, 4096), ("fc", "fc8", 4096, 1000)]
    return L


def _vgg16():
    L, h, cin = [], 224, 3
    for stage, (cout, n) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        for k in range(n):
            L.append(("conv", f"conv{stage}_{k + 1}", cin, cout, 3, 1, 1, h))
            cin = cout
        L.append(("maxpool", f"pool{stage}", cout, 2, 2, 0, h))
        h //= 2
    return L + [("fc", "fc6", 25088, 4096), ("fc", "fc7", 4096, 4096), ("fc", "fc8", 4096, 1000)]


def _resnet(blocks, bottleneck):
    L = [("conv", "conv1", 3, 64, 7, 2, 3, 224), ("maxpool", "pool1", 64, 3, 2, 1, 112)]
    h, cin = 56, 64
    for stage, n in enumerate(blocks):
        width = 64 << stage
        cout = width * 4 if bottleneck else width
        for b in range(n):
            stride = 2 if (b == 0 and stage > 0) else 1
            p = f"layer{stage + 1}.{b}"
            ho = out_size(h, 3, stride, 1)
            if bottleneck:
                L += [("conv", f"{p}.conv1", cin, width, 1, 1, 0, h),
                      ("conv", f"{p}.conv2", width, width, 3, stride, 1, h),
                      ("conv", f"{p}.conv3", width, cout, 1, 1, 0, ho)]
            else:
                L += [("conv", f"{p}.conv1", cin, width, 3, stride, 1, h),
                      ("conv", f"{p}.conv2", width, width, 3, 1, 1, ho)]
            if b == 0 and (stride != 1 or cin != cout):
                L.append(("conv", f"{p}.downsample", cin, cout, 1, stride, 0, h))
            L.append(("add", f"{p}.add", cout * ho * ho))
            cin, h = cout, ho
    return L + [("avgpool", "avgpool", cin, h), ("fc", "fc", cin, 1000)]


NETWORKS = {"alexnet": _alexnet, "vgg16": _vgg16, "resnet18": lambda: _resnet((2, 2, 2, 2), False),
            "resnet50": lambda: _resnet((3, 4, 6, 3), True)}

#: The ResNet-18 layers that HAWQ-V3's per-layer bit widths apply to, in the order of the JSON lists:
#: the 19 convolutions of the residual stages (downsample after the block's second conv); conv1 and fc
#: stay at 8 bits.
HAWQ_LAYERS = [name for kind, name, *_ in _resnet((2, 2, 2, 2), False)
               if kind == "conv" and name.startswith("layer")]


def network(name):
    """The layer list of ``name``; ValueError listing the networks otherwise."""
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; networks: {', '.join(NETWORKS)}")
    return NETWORKS[name]()
