"""The Fréchet distance against an independent float64 computation and the closed form for Gaussians."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from harness.metrics.frechet import feature_stats, frechet_distance


def _independent(x: np.ndarray, y: np.ndarray) -> float:
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x.T), np.cov(y.T)
    root = linalg.sqrtm(s1.dot(s2)).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * root))


def test_matches_an_independent_scipy_computation():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 16)), rng.normal(0.3, 1.2, size=(280, 16))
    assert frechet_distance(feature_stats(x), feature_stats(y)) == pytest.approx(_independent(x, y), rel=1e-9)


def test_a_set_against_itself_is_zero_and_order_does_not_matter():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 20)) * rng.uniform(0.5, 3, 20)
    scale = np.trace(np.cov(x.T))
    assert abs(frechet_distance(feature_stats(x), feature_stats(x))) < 1e-9 * scale
    y = rng.normal(size=(400, 20))
    shuffled = rng.permutation(x)
    assert frechet_distance(feature_stats(shuffled), feature_stats(y)) == pytest.approx(
        frechet_distance(feature_stats(x), feature_stats(y)), rel=1e-9)


def test_recovers_the_closed_form_for_two_gaussians():
    rng = np.random.default_rng(2)
    d = 4
    mu1, mu2 = np.zeros(d), np.array([1.0, -2.0, 0.5, 0.0])
    a = rng.normal(size=(d, d))
    s1, s2 = np.diag([1.0, 2.0, 0.5, 1.5]), a @ a.T + np.eye(d)
    exact = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real))
    x = rng.multivariate_normal(mu1, s1, size=200_000)
    y = rng.multivariate_normal(mu2, s2, size=200_000)
    assert frechet_distance(feature_stats(x), feature_stats(y)) == pytest.approx(exact, rel=0.02)


def test_ddof_is_explicit_and_changes_the_covariance():
    x = np.random.default_rng(3).normal(size=(10, 3))
    assert np.allclose(feature_stats(x, ddof=0).cov * 10 / 9, feature_stats(x).cov)
    assert feature_stats(x).ddof == 1 and feature_stats(x, ddof=0).ddof == 0


def test_fewer_samples_than_dimensions_still_gives_a_finite_value():
    rng = np.random.default_rng(4)
    value = frechet_distance(feature_stats(rng.normal(size=(20, 50))), feature_stats(rng.normal(size=(20, 50))))
    assert np.isfinite(value) and value > 0
