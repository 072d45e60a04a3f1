"""A built-in reference set for offline FVD runs: seeded clips of coloured shapes moving over a background."""

from __future__ import annotations

import numpy as np


def moving_shapes(count: int, frames: int = 16, size: int = 64, seed: int = 0) -> list[np.ndarray]:
    """``count`` uint8 clips (frames, size, size, 3): a square or disc moving in a straight line."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    clips = []
    for _ in range(count):
        background = rng.integers(0, 256, 3)
        colour = rng.integers(0, 256, 3)
        radius = int(rng.integers(size // 10, size // 4))
        start, velocity = rng.uniform(radius, size - radius, 2), rng.uniform(-2.5, 2.5, 2)
        disc = bool(rng.integers(0, 2))
        clip = np.empty((frames, size, size, 3), np.uint8)
        for t in range(frames):
            cx, cy = np.clip(start + velocity * t, radius, size - radius)
            inside = ((x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2) if disc else \
                ((abs(x - cx) <= radius) & (abs(y - cy) <= radius))
            clip[t] = np.where(inside[..., None], colour, background)
        clips.append(clip)
    return clips
