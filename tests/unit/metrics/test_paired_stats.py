"""Paired tests against their reference implementations (SciPy's exact binomial test) and their definitions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from harness.metrics.paired import is_binary, mcnemar_exact, paired_bootstrap, paired_test


@pytest.mark.parametrize("flips", [0, 3, 17, 40])
def test_mcnemar_p_value_is_scipys_exact_binomial_test(flips):
    rng = np.random.default_rng(flips)
    base = rng.integers(0, 2, 300)
    cand = base.copy()
    cand[rng.choice(300, flips, replace=False)] ^= 1
    cand[:flips // 3] = 0  # make the discordant counts unequal
    test = mcnemar_exact(list(base), list(cand))
    b, c = test.discordant
    assert b == int(((base == 1) & (cand == 0)).sum()) and c == int(((base == 0) & (cand == 1)).sum())
    expected = binomtest(min(b, c), b + c, 0.5).pvalue if b + c else 1.0
    assert test.p_value == pytest.approx(expected, rel=1e-9)
    assert test.difference == pytest.approx(cand.mean() - base.mean())
    assert test.ci_low <= test.difference <= test.ci_high


def test_identical_outcomes_are_not_significant():
    outcomes = [1, 0, 1, 1, 0] * 20
    assert mcnemar_exact(outcomes, outcomes).p_value == 1.0
    assert paired_bootstrap([0.3, 0.9, 0.5], [0.3, 0.9, 0.5]).p_value == 1.0


def test_bootstrap_finds_a_real_shift_and_covers_it():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 400)
    cand = base + 0.3 + rng.normal(0, 0.5, 400)
    test = paired_bootstrap(list(base), list(cand))
    assert test.p_value < 0.001
    assert test.ci_low < 0.3 < test.ci_high
    assert test.difference == pytest.approx(float((cand - base).mean()))


def test_bootstrap_calls_noise_noise():
    rng = np.random.default_rng(1)
    base = rng.normal(0, 1, 200)
    cand = base + rng.normal(0, 1, 200)  # no true difference
    assert paired_bootstrap(list(base), list(cand)).p_value > 0.05


def test_bootstrap_is_reproducible_with_its_seed():
    base, cand = [0.1, 0.4, 0.8, 0.3], [0.2, 0.4, 0.9, 0.1]
    assert paired_bootstrap(base, cand) == paired_bootstrap(base, cand)


def test_paired_test_picks_mcnemar_for_binary_outcomes_only():
    assert is_binary([0, 1, 1.0, True]) and not is_binary([0, 0.5])
    assert paired_test([1, 0, 1], [0, 0, 1]).test == "mcnemar-exact"
    assert paired_test([1, 0, 1], [0.5, 0, 1]).test == "paired-bootstrap"


def test_unpaired_input_is_refused():
    with pytest.raises(ValueError, match="equally many"):
        mcnemar_exact([1, 0], [1])
