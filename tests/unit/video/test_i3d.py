"""The I3D feature extractor: shapes, size and the SAME padding it shares with TensorFlow's I3D."""

from __future__ import annotations

import torch

from harness.video.i3d import InceptionI3d, _same_padding, random_i3d


def test_sixteen_frame_224_clips_give_400_features():
    model = random_i3d(seed=0)
    clips = torch.rand(2, 3, 16, 224, 224, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        features = model(clips)
    assert features.shape == (2, 400) and torch.isfinite(features).all()
    with torch.no_grad():
        again = random_i3d(seed=0)(clips[:1])
    assert torch.allclose(again, features[:1], atol=1e-5)  # seeded, and one clip does not depend on the other


def test_the_architecture_is_i3ds():
    model = InceptionI3d()
    assert 12_000_000 < sum(p.numel() for p in model.parameters()) < 13_000_000  # the paper's 12M (RGB stream)
    names = list(model.state_dict())
    assert "end_points.Mixed_5c.b3b.conv3d.weight" in names and "logits.conv3d.bias" in names


def test_same_padding_is_tensorflows():
    # TensorFlow: out = ceil(in / stride); pad_total = max((out - 1) * stride + kernel - in, 0)
    for size in range(1, 40):
        for kernel in (1, 2, 3, 7):
            for stride in (1, 2):
                out = -(-size // stride)
                total = max((out - 1) * stride + kernel - size, 0)
                assert sum(_same_padding(size, kernel, stride)) == total
