"""Videos in and out: files decoded with PyAV (mp4, webm, gif, ...), NumPy arrays and folders of frames; a
seeded sampler of fixed-length clips; FVD's reference preprocessing.

Frames are uint8 arrays of shape (T, H, W, 3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.errors import HarnessError

VIDEO_SUFFIXES = {".mp4", ".webm", ".gif", ".avi", ".mov", ".mkv"}
FRAME_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def read_video(path: Path) -> np.ndarray:
    """All frames of a video file, a ``.npy`` array (T, H, W, 3) or a folder of frame images (sorted by name)."""
    if path.is_dir():
        from PIL import Image

        frames = sorted(p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
        if not frames:
            raise HarnessError(f"{path}: a frame folder without images ({', '.join(sorted(FRAME_SUFFIXES))})")
        return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in frames])
    if path.suffix == ".npy":
        array = np.load(path)
        if array.ndim != 4 or array.shape[-1] != 3:
            raise HarnessError(f"{path}: a video array must be (frames, height, width, 3), not {array.shape}")
        return array.astype(np.uint8) if array.dtype != np.uint8 else array
    import av

    try:
        with av.open(str(path)) as container:
            return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])
    except (av.error.FFmpegError, ValueError) as exc:
        raise HarnessError(f"{path}: cannot decode this video ({exc})") from exc


def write_video(path: Path, frames: np.ndarray, fps: int = 8) -> None:
    """Write frames as a video file (MPEG-4 Part 2 in .mp4, which every FFmpeg build encodes) or ``.npy``."""
    if path.suffix == ".npy":
        np.save(path, frames)
        return
    import av

    height, width = frames.shape[1:3]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width - width % 2, height - height % 2, "yuv420p"
        stream.options = {"qscale": "1"}
        for frame in frames:
            image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[:stream.height, :stream.width]),
                                               format="rgb24")
            container.mux(stream.encode(image))
        container.mux(stream.encode())


def list_videos(folder: Path) -> list[Path]:
    """The videos in a folder: video files, ``.npy`` arrays and sub-folders of frames, sorted by name."""
    if not folder.is_dir():
        raise HarnessError(f"{folder}: not a folder of videos (mp4, webm, gif, .npy arrays or frame folders)")
    found = sorted(p for p in folder.iterdir()
                   if p.suffix.lower() in VIDEO_SUFFIXES | {".npy"} or (p.is_dir() and any(
                       q.suffix.lower() in FRAME_SUFFIXES for q in p.iterdir())))
    if not found:
        raise HarnessError(f"{folder}: no videos found (mp4, webm, gif, .npy arrays or frame folders)")
    return found


def sample_clip(frames: np.ndarray, length: int, rng: np.random.Generator, name: str = "video") -> np.ndarray:
    """A window of ``length`` consecutive frames at a seeded random start."""
    if len(frames) < length:
        raise HarnessError(f"{name} has {len(frames)} frames; FVD clips need {length}")
    start = int(rng.integers(0, len(frames) - length + 1))
    return frames[start:start + length]


def preprocess(clips: np.ndarray, size: int = 224):
    """FVD's reference input: (N, T, H, W, 3) uint8 → (N, 3, T, size, size) float32 in [−1, 1], resized
    bilinearly (frame by frame, ``align_corners=False``)."""
    import torch
    from torch.nn import functional as F

    x = torch.from_numpy(np.ascontiguousarray(clips)).float()  # N, T, H, W, C
    n, t, h, w, c = x.shape
    x = x.permute(0, 1, 4, 2, 3).reshape(n * t, c, h, w)
    if (h, w) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = x.reshape(n, t, c, size, size).permute(0, 2, 1, 3, 4)
    return x / 127.5 - 1.0
