"""Prompts derived from a ground-truth mask, as SAM's evaluations and the RITM clicker make them.

Points are (x, y) pixel coordinates; labels 1 (foreground) or 0 (background); boxes are (x0, y0, x1, y1).
"""

from __future__ import annotations

import numpy as np


def _deepest(region: np.ndarray) -> tuple[int, int]:
    """The pixel of ``region`` farthest from its boundary (the image border counts as boundary)."""
    from scipy.ndimage import distance_transform_edt

    distance = distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return int(x), int(y)


def point_prompt(mask: np.ndarray) -> tuple[int, int]:
    """One positive click: the maximum of the mask's distance transform."""
    return _deepest(mask)


def box_prompt(mask: np.ndarray, jitter: float = 0.0, rng: np.random.Generator | None = None,
               ) -> tuple[float, float, float, float]:
    """The mask's tight box; with ``jitter`` > 0 each side moves by up to that fraction of the box's size."""
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
    if jitter > 0:
        rng = rng or np.random.default_rng(0)
        w, h = x1 - x0 + 1, y1 - y0 + 1
        dx0, dx1 = rng.uniform(-jitter, jitter, 2) * w
        dy0, dy1 = rng.uniform(-jitter, jitter, 2) * h
        height, width = mask.shape
        x0, x1 = np.clip([x0 + dx0, x1 + dx1], 0, width - 1)
        y0, y1 = np.clip([y0 + dy0, y1 + dy1], 0, height - 1)
    return float(x0), float(y0), float(x1), float(y1)


def next_click(prediction: np.ndarray, truth: np.ndarray) -> tuple[int, int, int] | None:
    """The RITM clicker: a click at the deepest pixel of the largest error region, positive where the
    prediction misses the object and negative where it spills over; None when the prediction is exact."""
    from scipy.ndimage import distance_transform_edt

    missed, spilled = truth & ~prediction, prediction & ~truth
    if not missed.any() and not spilled.any():
        return None
    depth_missed = distance_transform_edt(np.pad(missed, 1))[1:-1, 1:-1].max() if missed.any() else -1
    depth_spilled = distance_transform_edt(np.pad(spilled, 1))[1:-1, 1:-1].max() if spilled.any() else -1
    positive = depth_missed >= depth_spilled
    x, y = _deepest(missed if positive else spilled)
    return x, y, int(positive)
