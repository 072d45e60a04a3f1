"""The Fréchet distance between two sets of features, as FVD (and FID) define it, in float64.

d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)

Covariances divide by N − 1 (``ddof=1``, NumPy's ``np.cov`` default, as the reference FVD code and
pytorch-fid do) unless ``ddof=0`` is asked for; the choice is part of the result's settings. The matrix
square root is SciPy's ``sqrtm``; when Σ₁Σ₂ is near-singular (fewer samples than dimensions) a small multiple
of the identity is added to both covariances, as pytorch-fid does, and tiny imaginary parts from round-off
are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FeatureStats:
    """Mean and covariance of a feature set, and how many samples made them."""

    mean: np.ndarray
    cov: np.ndarray
    n: int
    ddof: int


def feature_stats(features: np.ndarray, ddof: int = 1) -> FeatureStats:
    """Mean and covariance (rows are samples) in float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) <= ddof:
        raise ValueError(f"need a 2-d array with more than {ddof} rows, got shape {x.shape}")
    return FeatureStats(x.mean(axis=0), np.cov(x, rowvar=False, ddof=ddof), len(x), ddof)


def frechet_distance(a: FeatureStats, b: FeatureStats, eps: float = 1e-6) -> float:
    """The squared Fréchet distance between two Gaussians fitted to feature sets."""
    from scipy import linalg

    diff = a.mean - b.mean
    covmean = linalg.sqrtm(a.cov @ b.cov)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(a.cov)) * eps
        covmean = linalg.sqrtm((a.cov + offset) @ (b.cov + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff @ diff + np.trace(a.cov) + np.trace(b.cov) - 2.0 * np.trace(covmean))
