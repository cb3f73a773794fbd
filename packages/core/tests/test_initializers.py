"""Seeded weight initialisers and the fan-in of each connectivity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuropil import WeightInit
from neuropil._connectivity import fan_in
from neuropil._initializers import check_init, init_weights


def _rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def test_constant() -> None:
    w = init_weights(WeightInit("constant", {"value": 0.25}), (3, 2), fan_in=2)
    assert w.dtype == np.float64
    np.testing.assert_array_equal(w, np.full((3, 2), 0.25))


def test_uniform_and_normal_are_the_documented_pcg64_draws() -> None:
    u = init_weights(WeightInit("uniform", {"low": -1.0, "high": 2.0}, seed=5), (4, 3), 3)
    np.testing.assert_array_equal(u, _rng(5).uniform(-1.0, 2.0, (4, 3)))
    n = init_weights(WeightInit("normal", {"mean": 1.0, "std": 0.5}, seed=9), (7,), 1)
    np.testing.assert_array_equal(n, _rng(9).normal(1.0, 0.5, (7,)))
    defaults = init_weights(WeightInit("normal"), (5,), 1)
    np.testing.assert_array_equal(defaults, _rng(0).normal(0.0, 1.0, (5,)))


def test_kaiming_scales_with_fan_in() -> None:
    ku = init_weights(WeightInit("kaiming_uniform", {"gain": 2.0}, seed=1), (200, 300), 300)
    bound = 2.0 * math.sqrt(3.0 / 300)
    np.testing.assert_array_equal(ku, _rng(1).uniform(-bound, bound, (200, 300)))
    assert np.abs(ku).max() <= bound
    kn = init_weights(WeightInit("kaiming_normal", seed=2), (400, 100), 100)
    np.testing.assert_array_equal(kn, _rng(2).normal(0.0, 1.0 / math.sqrt(100), (400, 100)))
    assert kn.std() == pytest.approx(0.1, rel=0.02)


def test_same_seed_same_weights_other_seed_other_weights() -> None:
    a = init_weights(WeightInit("normal", seed=3), (10,), 1)
    b = init_weights(WeightInit("normal", seed=3), (10,), 1)
    c = init_weights(WeightInit("normal", seed=4), (10,), 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    ("init", "message"),
    [
        (WeightInit("gauss"), "init: unknown weight initialiser 'gauss' (choose one of"),
        (WeightInit("normal", {"sigma": 1.0}), "params.sigma: the normal initialiser has no"),
        (WeightInit("constant"), "params.value: the constant initialiser needs 'value'"),
        (WeightInit("normal", {"std": -1.0}), "params.std: std must be >= 0, got -1"),
        (WeightInit("normal", {"std": float("nan")}), "params.std: std must be finite"),
        (WeightInit("normal", {"std": "big"}), "params.std: std must be a number"),  # type: ignore[dict-item]
        (WeightInit("normal", seed=-1), "seed: seed must be an integer >= 0, got -1"),
        (WeightInit("uniform", {"low": 2.0}), "params.low: uniform needs low <= high"),
    ],
)
def test_errors(init: WeightInit, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        init_weights(init, (2,), 1)
    assert check_init(init)


def test_did_you_mean_for_kind() -> None:
    assert check_init(WeightInit("kaiming_unifrom")) == [
        (
            "init",
            "unknown weight initialiser 'kaiming_unifrom'; did you mean 'kaiming_uniform'? "
            "(choose one of constant, kaiming_normal, kaiming_uniform, normal, uniform)",
        )
    ]


def test_fan_in_per_connectivity() -> None:
    assert fan_in("dense", 30, 20) == 30.0
    assert fan_in("conv2d", 0, 0, pre_shape=(3, 8, 8), kernel_size=(5, 4)) == 60.0
    assert fan_in("sparse", 30, 20, nnz=50) == 2.5
    assert fan_in("list", 30, 20, nnz=5) == 1.0
    assert fan_in("random", 30, 20, nnz=0) == 1.0
    assert fan_in("one_to_one", 20, 20) == 1.0
    with pytest.raises(ValueError, match="unknown connectivity kind 'star'"):
        fan_in("star", 1, 1)
