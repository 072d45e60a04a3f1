"""Paired significance tests on per-sample outcomes of two runs over the same documents.

>>> test = mcnemar_exact([1, 1, 1, 0], [1, 0, 0, 0])
>>> round(test.difference, 2), test.discordant
(-0.5, (2, 0))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


@dataclass(frozen=True)
class PairedTest:
    """The difference candidate − baseline in a per-sample mean, its confidence interval and p-value."""

    test: str
    n: int
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    discordant: tuple[int, int] | None = None  # McNemar: (baseline right only, candidate right only)


def is_binary(values: Sequence[float]) -> bool:
    """True when every value is 0 or 1 (accuracy-like outcomes)."""
    return all(v in (0, 1) for v in values)


def mcnemar_exact(baseline: Sequence[float], candidate: Sequence[float], confidence: float = 0.95) -> PairedTest:
    """McNemar's exact test for paired 0/1 outcomes.

    The p-value is the two-sided exact binomial test on the discordant pairs (b: baseline right and candidate
    wrong, c: the reverse) with success probability 1/2. The interval is the Wald interval for a difference of
    paired proportions, (c − b)/n ± z·√(b + c − (c − b)²/n)/n.
    """
    n = _check_pairs(baseline, candidate)
    b = sum(1 for x, y in zip(baseline, candidate) if x == 1 and y == 0)
    c = sum(1 for x, y in zip(baseline, candidate) if x == 0 and y == 1)
    discordant = b + c
    tail = sum(math.comb(discordant, k) for k in range(min(b, c) + 1))
    p_value = min(1.0, 2 * tail / 2 ** discordant) if discordant else 1.0
    difference = (c - b) / n
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * math.sqrt(max(discordant - (c - b) ** 2 / n, 0.0)) / n
    return PairedTest("mcnemar-exact", n, difference, difference - half, difference + half, p_value, (b, c))


def paired_bootstrap(baseline: Sequence[float], candidate: Sequence[float], *, iterations: int = 10_000,
                     seed: int = 0, confidence: float = 0.95) -> PairedTest:
    """Paired bootstrap over documents for the difference of means.

    Documents are resampled with replacement, keeping each pair together. The interval is the percentile
    interval of the resampled mean differences; the two-sided p-value tests a zero mean difference by centring
    the resampled differences on zero (Efron & Tibshirani, An Introduction to the Bootstrap, §16.4).
    """
    n = _check_pairs(baseline, candidate)
    diffs = np.asarray(candidate, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    observed = float(diffs.mean())
    rng = np.random.default_rng(seed)
    means = np.empty(iterations)
    chunk = max(1, 2_000_000 // n)
    for start in range(0, iterations, chunk):
        stop = min(iterations, start + chunk)
        means[start:stop] = diffs[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    alpha = 1 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    extreme = np.count_nonzero(np.abs(means - observed) >= abs(observed) - 1e-12)
    p_value = min(1.0, (extreme + 1) / (iterations + 1))
    return PairedTest("paired-bootstrap", n, observed, float(low), float(high), float(p_value))


def paired_test(baseline: Sequence[float], candidate: Sequence[float]) -> PairedTest:
    """McNemar's exact test when both runs' outcomes are 0/1, else the paired bootstrap."""
    if is_binary(baseline) and is_binary(candidate):
        return mcnemar_exact(baseline, candidate)
    return paired_bootstrap(baseline, candidate)


def _check_pairs(baseline: Sequence[float], candidate: Sequence[float]) -> int:
    if len(baseline) != len(candidate) or not baseline:
        raise ValueError(f"paired tests need equally many outcomes, at least one ({len(baseline)} vs {len(candidate)})")
    return len(baseline)
