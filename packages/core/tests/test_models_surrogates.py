"""The standard surrogate gradients: formulas at hand-computed points, areas, dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuropil import SurrogateDefinition
from neuropil.models import ARCTAN, FAST_SIGMOID, TRIANGLE
from neuropil.reference._ops import NumpyOps

OPS = NumpyOps(np.float64)


@pytest.mark.parametrize(
    ("surrogate", "values", "x", "expected"),
    [
        # 1 / (1 + 25 |x|)^2
        (FAST_SIGMOID, {}, [0.0, 0.04, -0.12], [1.0, 0.25, 0.0625]),
        (FAST_SIGMOID, {"slope": 1.0}, [1.0, -3.0], [0.25, 0.0625]),
        # (slope / 2) / (1 + (pi / 2 slope x)^2): slope = 2, x = 1 / pi -> 1 / 2
        (ARCTAN, {}, [0.0, 1 / math.pi, -1 / math.pi], [1.0, 0.5, 0.5]),
        (ARCTAN, {"slope": 4.0}, [0.0, 1 / (2 * math.pi)], [2.0, 1.0]),
        # slope max(0, 1 - slope |x|)
        (TRIANGLE, {}, [0.0, 0.5, -0.75, 1.0, 3.0], [1.0, 0.5, 0.25, 0.0, 0.0]),
        (TRIANGLE, {"slope": 2.0}, [0.0, 0.25, -0.5, 0.6], [2.0, 1.0, 0.0, 0.0]),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_formula(
    surrogate: SurrogateDefinition, values: dict[str, float], x: list[float], expected: list[float]
) -> None:
    bound = surrogate.bind(**values)
    out = bound.derivative(OPS, np.array(x))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)
    assert bound.name == surrogate.name


@pytest.mark.parametrize(
    ("surrogate", "area"),
    [(ARCTAN, 1.0), (TRIANGLE, 1.0), (FAST_SIGMOID, 2 / 25)],
    ids=lambda v: getattr(v, "name", None),
)
def test_area_under_the_surrogate(surrogate: SurrogateDefinition, area: float) -> None:
    # The Heaviside's derivative has area 1; arctan and triangle keep it, fast_sigmoid has 2/slope.
    x = np.linspace(-500.0, 500.0, 1_000_001)
    y = surrogate.bind().derivative(OPS, x)
    integral = float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)))
    assert integral == pytest.approx(area, rel=2e-3)


@pytest.mark.parametrize("surrogate", [FAST_SIGMOID, ARCTAN, TRIANGLE], ids=lambda s: s.name)
def test_keeps_float32_and_does_not_mutate(surrogate: SurrogateDefinition) -> None:
    ops = NumpyOps(np.float32)
    x = np.linspace(-1, 1, 7, dtype=np.float32).reshape(1, 7)
    x.setflags(write=False)
    before = x.copy()
    out = surrogate.bind().derivative(ops, x)
    assert out.dtype == np.float32
    assert out.shape == (1, 7)
    assert np.all(out >= 0)
    assert out[0, 3] == out.max()  # peaks at threshold
    np.testing.assert_array_equal(x, before)


def test_params_are_scalar_and_positive() -> None:
    for surrogate in (FAST_SIGMOID, ARCTAN, TRIANGLE):
        for name, param in surrogate.params.items():
            assert not param.per_neuron, name
            assert not param.contains(0.0), name
            assert param.contains(param.default), name


def test_bind_refuses_unknown_params() -> None:
    with pytest.raises(
        ValueError, match="surrogate 'arctan' has no parameter 'alpha'; it has: slope"
    ):
        ARCTAN.bind(alpha=3.0)
