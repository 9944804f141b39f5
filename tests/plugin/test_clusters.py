"""Clustered items (a question's rotated copies): summed differences, one value per unit, Korn-Graubard's interval."""

import numpy as np
import pytest
from llamafactory_domains.plugin.clusters import korn_graubard, one_per_unit, unit_sums
from llamafactory_domains.plugin.statistics import sign_flip_pvalues


def test_sign_flips_of_units_flip_a_unit_s_copies_together():
    differences = np.array([[1.0], [1.0], [1.0], [-1.0]])
    units = np.array([0, 0, 0, 1])
    sums = unit_sums(differences, units)
    assert sums.tolist() == [[3.0], [-1.0]]
    assert sign_flip_pvalues(sums, unit="question") == [(1.0, "exact sign-flip permutation of questions")]
    assert sign_flip_pvalues(differences)[0][0] == 0.625  # as independent items: 10 of 16 sign vectors
    assert one_per_unit(np.array([True, False, False, True]), units)
    assert not one_per_unit(np.array([True, True, False, False]), units)


@pytest.mark.parametrize("questions, copies, a, b", [(15, 4, 0.5, 1.5), (40, 4, 0.2, 2), (10, 2, 1, 9)])
def test_korn_graubard_covers_clustered_rates(questions, copies, a, b):
    """Questions whose copies are alike (each question's rate drawn from a beta): the interval holds the
    true rate in about 95% of 300 seeded samples or more, and never collapses."""
    rng, units, held = np.random.default_rng(7), np.repeat(np.arange(questions), copies), 0
    for _ in range(300):
        rates = rng.beta(a, b, questions)
        values = (rng.random((questions, copies)) < rates[:, None]).astype(float).ravel()
        low, high = korn_graubard(values, units)
        assert high > low
        held += low <= a / (a + b) <= high
    assert held / 300 >= 0.93
