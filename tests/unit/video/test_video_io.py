"""Video readers and writers, the seeded clip sampler, FVD preprocessing and the extractor loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.errors import HarnessError
from harness.video.fvd import count_warnings, extract, fvd, load_extractor
from harness.video.io import list_videos, preprocess, read_video, sample_clip, write_video


def _smooth_video(frames: int = 20, height: int = 48, width: int = 64, shift: int = 0) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([np.stack([(x * 4 + t * 3 + shift) % 256, (y * 5 + t * 2) % 256, np.full_like(x, 128)], -1)
                     for t in range(frames)]).astype(np.uint8)


def test_videos_round_trip_through_mp4_npy_gif_and_frame_folders(tmp_path):
    from PIL import Image

    video = _smooth_video()
    write_video(tmp_path / "a.mp4", video)
    write_video(tmp_path / "b.npy", video)
    Image.fromarray(video[0]).save(tmp_path / "c.gif", save_all=True,
                                   append_images=[Image.fromarray(f) for f in video[1:]], duration=100)
    (tmp_path / "d").mkdir()
    for i, frame in enumerate(video):
        Image.fromarray(frame).save(tmp_path / "d" / f"{i:03d}.png")
    assert [p.name for p in list_videos(tmp_path)] == ["a.mp4", "b.npy", "c.gif", "d"]
    assert np.abs(read_video(tmp_path / "a.mp4").astype(int) - video).mean() < 12  # lossy, but the same video
    assert (read_video(tmp_path / "b.npy") == video).all() and (read_video(tmp_path / "d") == video).all()
    assert read_video(tmp_path / "c.gif").shape == video.shape


def test_clips_are_seeded_windows_and_short_videos_are_refused():
    video = np.arange(30)[:, None, None, None].repeat(2, 1).repeat(2, 2).repeat(3, 3).astype(np.uint8)
    a = sample_clip(video, 16, np.random.default_rng(3))
    assert (a == sample_clip(video, 16, np.random.default_rng(3))).all()
    assert list(a[:, 0, 0, 0]) == list(range(a[0, 0, 0, 0], a[0, 0, 0, 0] + 16))
    with pytest.raises(HarnessError, match="has 10 frames; FVD clips need 16"):
        sample_clip(video[:10], 16, np.random.default_rng(0))


def test_preprocessing_is_the_reference_one():
    clip = _smooth_video(16)[None]
    x = preprocess(clip)
    assert x.shape == (1, 3, 16, 224, 224) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    same_size = preprocess(_smooth_video(16, 224, 224)[None])
    assert torch.allclose(same_size[0, :, 0], torch.from_numpy(_smooth_video(16, 224, 224)[0]).permute(2, 0, 1)
                          .float() / 127.5 - 1)


def test_random_extractor_features_and_fvd_against_itself(tmp_path):
    extractor = load_extractor("random", "cpu")
    assert extractor.name == "random-i3d-seed0" and not extractor.torchscript
    clips = [_smooth_video(16, 32, 32, shift=s) for s in range(3)]
    features = extract(extractor, clips, device="cpu", batch_size=2)
    assert features.shape == (3, 400) and features.dtype == np.float64
    assert abs(fvd(features, features)) < 1e-9
    torch.save(extractor.module.state_dict(), tmp_path / "i3d.pt")
    from_file = load_extractor(str(tmp_path / "i3d.pt"), "cpu")
    assert not from_file.torchscript and len(from_file.sha256) == 64
    assert np.allclose(extract(from_file, clips[:1], device="cpu"), features[:1], atol=1e-6)


def test_missing_weights_and_small_counts_are_explained(tmp_path):
    with pytest.raises(HarnessError, match="I3D weights not found at .*i3d_torchscript.pt"):
        load_extractor(str(tmp_path / "i3d_torchscript.pt"), "cpu")
    warnings = count_warnings(16, 3000)
    assert any("fewer than the reference 2048" in w for w in warnings)
    assert any("covariance is singular" in w for w in warnings)
