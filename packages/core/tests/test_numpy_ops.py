"""NumpyOps: every method of the Ops protocol, results in the engine's dtype."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest

from neuropil import Ops
from neuropil.errors import EngineError
from neuropil.models import FAST_SIGMOID
from neuropil.reference._ops import NumpyOps

DTYPES = [np.float32, np.float64]


def test_is_an_ops() -> None:
    ops = NumpyOps("float32")
    assert isinstance(ops, Ops)
    assert ops.xp is np
    assert ops.dtype == np.dtype(np.float32)
    assert repr(ops) == "NumpyOps('float32')"


@pytest.mark.parametrize("bad", ["int32", np.float16, "complex128"])
def test_refuses_other_dtypes(bad: Any) -> None:
    with pytest.raises(EngineError, match=r"float32 or float64, got \w+; pass dtype='float32'"):
        NumpyOps(bad)


def test_refuses_non_dtypes() -> None:
    with pytest.raises(EngineError, match="is not a numpy dtype; pass 'float32' or 'float64'"):
        NumpyOps(cast(Any, object()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spike_is_strict_heaviside(dtype: Any) -> None:
    ops = NumpyOps(dtype)
    x = np.array([[-1.0, 0.0, 1e-30, 2.0]], dtype=dtype)
    out = ops.spike(x, FAST_SIGMOID.bind())
    np.testing.assert_array_equal(out, [[0.0, 0.0, 1.0, 1.0]])
    assert out.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_math(dtype: Any) -> None:
    ops = NumpyOps(dtype)
    x = np.array([0.25, 1.0, 4.0], dtype=dtype)
    cases = {
        "exp": np.exp(x),
        "log": np.log(x),
        "abs": x,
        "sqrt": np.array([0.5, 1.0, 2.0]),
        "tanh": np.tanh(x),
        "sigmoid": 1 / (1 + np.exp(-x)),
        "floor": np.array([0.0, 1.0, 4.0]),
    }
    for name, expected in cases.items():
        out = getattr(ops, name)(x)
        assert out.dtype == dtype, name
        np.testing.assert_allclose(out, expected, rtol=1e-6, err_msg=name)
    np.testing.assert_array_equal(ops.abs(np.array([-2.0, 3.0], dtype=dtype)), [2.0, 3.0])
    np.testing.assert_array_equal(ops.floor(np.array([-0.5, 2.5], dtype=dtype)), [-1.0, 2.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_does_not_overflow(dtype: Any) -> None:
    ops = NumpyOps(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = ops.sigmoid(np.array([-1000.0, 0.0, 1000.0], dtype=dtype))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])
    assert out.dtype == dtype


def test_python_floats_and_float64_params_do_not_upcast_float32() -> None:
    ops = NumpyOps(np.float32)
    v = np.ones((2, 3), dtype=np.float32)
    tau = np.array([0.01, 0.02, 0.03])  # a float64 per-neuron parameter
    assert ops.exp(-1e-3 / ops.asarray(tau)).dtype == np.float32
    assert ops.exp(-0.05).dtype == np.float32
    assert ops.where(v > 0, 1.5, tau).dtype == np.float32
    assert ops.maximum(v, tau).dtype == np.float32
    assert ops.minimum(0.5, tau).dtype == np.float32
    assert ops.clip(tau, 0.0, 0.015).dtype == np.float32
    assert ops.full_like(v, tau).dtype == np.float32
    assert (v * ops.asarray(tau)).dtype == np.float32


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_maximum_minimum(dtype: Any) -> None:
    ops = NumpyOps(dtype)
    a = np.array([[1.0, -2.0, 3.0]], dtype=dtype)
    out = ops.where(a > 0, a, 0.0)
    np.testing.assert_array_equal(out, [[1.0, 0.0, 3.0]])
    assert out.dtype == dtype
    np.testing.assert_array_equal(ops.maximum(a, 0.0), [[1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ops.minimum(a, np.array([0.0, 0.0, 5.0])), [[0.0, -2.0, 3.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_with_and_without_limits(dtype: Any) -> None:
    ops = NumpyOps(dtype)
    x = np.array([-2.0, 0.5, 2.0], dtype=dtype)
    np.testing.assert_array_equal(ops.clip(x, -1.0, 1.0), [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(ops.clip(x, None, 1.0), [-2.0, 0.5, 1.0])
    np.testing.assert_array_equal(ops.clip(x, 0.0, None), [0.0, 0.5, 2.0])
    np.testing.assert_array_equal(ops.clip(x, None, None), x)
    per_element = ops.clip(x, np.array([0.0, 0.75, 0.0]), np.array([1.0, 1.0, 1.5]))
    np.testing.assert_array_equal(per_element, [0.0, 0.75, 1.5])
    assert per_element.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_zeros_full_asarray(dtype: Any) -> None:
    ops = NumpyOps(dtype)
    x = np.ones((2, 3), dtype=np.float64)
    z = ops.zeros_like(x)
    assert z.shape == (2, 3)
    assert z.dtype == dtype
    assert not z.any()
    f = ops.full_like(x, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(f, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    assert f.dtype == dtype
    assert ops.full_like(x, 0.5).dtype == dtype
    a = ops.asarray([1, 2])
    assert a.dtype == dtype
    np.testing.assert_array_equal(a, [1.0, 2.0])
    same = np.zeros(3, dtype=dtype)
    assert ops.asarray(same) is same


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_and_mean(dtype: Any) -> None:
    ops = NumpyOps(dtype)
    x = np.arange(6, dtype=dtype).reshape(2, 3)
    np.testing.assert_array_equal(ops.sum(x), 15.0)
    np.testing.assert_array_equal(ops.sum(x, axis=0), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(ops.mean(x, axis=1), [1.0, 4.0])
    np.testing.assert_array_equal(ops.mean(x, axis=(0, 1)), 2.5)
    for out in (ops.sum(x), ops.mean(x), ops.sum(x, axis=0), ops.mean(x, axis=0)):
        assert isinstance(out, np.ndarray)
        assert out.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_stop_gradient_is_identity(dtype: Any) -> None:
    ops = NumpyOps(dtype)
    x = np.array([1.0, -2.0])
    out = ops.stop_gradient(x)
    np.testing.assert_array_equal(out, x)
    assert out.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_draws_are_deterministic_per_key(dtype: Any) -> None:
    ops = NumpyOps(dtype)
    a = ops.normal((7, 3, 1), (4, 5))
    assert a.shape == (4, 5)
    assert a.dtype == dtype
    np.testing.assert_array_equal(a, ops.normal((7, 3, 1), (4, 5)))
    assert not np.array_equal(a, ops.normal((7, 4, 1), (4, 5)))
    u = ops.uniform(np.array([7, 3, 2]), (1000,))
    assert u.dtype == dtype
    assert u.min() >= 0.0
    assert u.max() < 1.0
    np.testing.assert_array_equal(u, ops.uniform((7, 3, 2), (1000,)))
    assert ops.uniform(5, (3,)).shape == (3,)


def test_random_draws_follow_the_documented_generator() -> None:
    ops = NumpyOps(np.float64)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence((1, 2, 3))))
    np.testing.assert_array_equal(ops.normal((1, 2, 3), (5,)), rng.standard_normal(5))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence((1, 2, 3))))
    np.testing.assert_array_equal(ops.uniform((1, 2, 3), (5,)), rng.random(5))


def test_float32_draws_are_the_float64_draws_rounded() -> None:
    n64 = NumpyOps(np.float64).normal((0, 1), (100,))
    n32 = NumpyOps(np.float32).normal((0, 1), (100,))
    np.testing.assert_array_equal(n32, n64.astype(np.float32))


def test_uniform_float32_stays_below_one() -> None:
    ops = NumpyOps(np.float32)
    u = ops.uniform((0,), (200_000,))
    assert u.max() < 1.0


def test_random_needs_a_key() -> None:
    ops = NumpyOps(np.float64)
    with pytest.raises(EngineError, match=r"ops.normal needs a random key and got None; pass ctx"):
        ops.normal(None, (2,))
    with pytest.raises(EngineError, match=r"ops.uniform: the key must be non-negative integers"):
        ops.uniform((-1, 2), (2,))
