"""TracedArray and TracingOps: opaque values that behave as a compiler's tracers do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from neuropil import Ops
from neuropil.reference import NumpyOps
from neuropil_testkit import TracedArray, TracingError, TracingOps
from neuropil_testkit._ops import concrete, trace

_RNG = np.random.default_rng(0)
V = _RNG.normal(size=(3, 4))
SURROGATE: Any = object()


def traced(x: Any = V) -> Any:
    return trace(np.array(x, dtype=np.float64))


def test_a_traced_array_is_not_a_numpy_array() -> None:
    x = traced()
    assert not isinstance(x, np.ndarray)
    assert (x.shape, x.ndim, x.dtype, x.size, len(x)) == ((3, 4), 2, np.float64, 12, 3)
    assert (np.shape(x), np.ndim(x)) == ((3, 4), 2)
    assert repr(x) == "TracedArray(shape=(3, 4), dtype=float64)"


def test_operators_compute_as_numpy() -> None:
    x, y = traced(), traced(V * 2 + 1)
    cases = [
        (x + y, V + (V * 2 + 1)),
        (2.0 - x, 2.0 - V),
        (x * 3, V * 3),
        (1.0 / y, 1.0 / (V * 2 + 1)),
        (x**2, V**2),
        (2.0**x, 2.0**V),
        (-x, -V),
        (abs(x), np.abs(V)),
        (np.float64(2.0) * x, 2.0 * V),
        (x[:, None, 1:3], V[:, None, 1:3]),
        (x[:, np.array([0, 2])], V[:, [0, 2]]),
        (x[..., -1], V[..., -1]),
    ]
    for got, want in cases:
        assert isinstance(got, TracedArray)
        np.testing.assert_array_equal(concrete(got), want)
    mask = x > 0.1
    assert isinstance(mask, TracedArray)
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(concrete(mask & (x < 1.0)), (V > 0.1) & (V < 1.0))
    np.testing.assert_array_equal(concrete(~mask), ~(V > 0.1))


@pytest.mark.parametrize(
    ("use", "message"),
    [
        (lambda x: bool(x > 0), r"truth test .*no Python branching on array values"),
        (lambda x: x > 0 and x, r"truth test"),
        (lambda x: float(x[0, 0]), r"float\(\) on an array"),
        (lambda x: int(x[0, 0]), r"int\(\) on an array"),
        (lambda x: range(x[0, 0]), r"use of an array as a Python index"),
        (lambda x: x.item(), r"\.item\(\) on an array"),
        (lambda x: x.tolist(), r"\.tolist\(\) on an array"),
        (lambda x: list(x), r"iterating over an array .*whole \[B, N\] arrays"),
        (lambda x: np.asarray(x), r"conversion of a traced array to numpy"),
        (lambda x: np.exp(x), r"numpy\.exp on a traced array: use ops\.exp"),
        (lambda x: np.tanh(x), r"numpy\.tanh on a traced array: use ops\.tanh"),
        (lambda x: np.sum(x), r"numpy\.sum on a traced array: use ops\.sum"),
        (lambda x: np.where(x > 0, x, 0), r"numpy\.where on a traced array: use ops\.where"),
        (lambda x: np.stack([x, x]), r"numpy\.stack on a traced array: no Python loops"),
        (lambda x: np.ones(4) + x, r"a numpy array mixed into traced arithmetic"),
        (lambda x: x * np.ones(4), r"a numpy array mixed into traced arithmetic \(\*\)"),
        (lambda x: x[x > 0], r"boolean-array indexing x\[mask\] has a data-dependent shape"),
        (lambda x: x[:, np.array([True, False, True, False])], r"boolean-array indexing"),
        (lambda x: x[np.array([0.0])], r"indexing with a float64 array"),
        (lambda x: x.__setitem__(0, 1.0), r"item assignment .*build a new array with ops\.where"),
    ],
    ids=[
        "bool",
        "and",
        "float",
        "int",
        "index",
        "item",
        "tolist",
        "iter",
        "asarray",
        "np-exp",
        "np-tanh",
        "np-sum",
        "np-where",
        "np-stack",
        "ndarray-left",
        "ndarray-right",
        "bool-mask",
        "static-bool-mask",
        "float-index",
        "setitem",
    ],
)
def test_host_round_trips_and_numpy_are_refused(use: Callable[[Any], Any], message: str) -> None:
    with pytest.raises(TracingError, match=message):
        use(traced())


def test_numpy_methods_are_missing_with_the_ops_method_named() -> None:
    with pytest.raises(AttributeError, match=r"no attribute \.sum.*use ops\.sum"):
        traced().sum()
    with pytest.raises(AttributeError, match=r"no attribute \.astype"):
        traced().astype(np.float32)


def test_tracing_ops_is_an_ops_and_computes_as_the_reference() -> None:
    ops, ref = TracingOps("float64"), NumpyOps("float64")
    assert isinstance(ops, Ops)
    x, pos = V, np.abs(V) + 0.1
    pairs: list[tuple[Any, Any]] = [
        (ops.exp(traced(x)), ref.exp(x)),
        (ops.log(traced(pos)), ref.log(pos)),
        (ops.abs(traced(x)), ref.abs(x)),
        (ops.sqrt(traced(pos)), ref.sqrt(pos)),
        (ops.tanh(traced(x)), ref.tanh(x)),
        (ops.sigmoid(traced(x)), ref.sigmoid(x)),
        (ops.where(traced(x) > 0, traced(x), 0.0), ref.where(x > 0, x, 0.0)),
        (ops.maximum(traced(x), 0.2), ref.maximum(x, 0.2)),
        (ops.minimum(0.2, traced(x)), ref.minimum(0.2, x)),
        (ops.clip(traced(x), -0.5, None), ref.clip(x, -0.5, None)),
        (ops.floor(traced(x)), ref.floor(x)),
        (ops.zeros_like(traced(x)), ref.zeros_like(x)),
        (ops.full_like(traced(x), 2.5), ref.full_like(x, 2.5)),
        (ops.asarray(0.25), ref.asarray(0.25)),
        (ops.sum(traced(x), axis=0), ref.sum(x, axis=0)),
        (ops.mean(traced(x)), ref.mean(x)),
        (ops.stop_gradient(traced(x)), ref.stop_gradient(x)),
        (ops.spike(traced(x), SURROGATE), ref.spike(x, SURROGATE)),
        (ops.normal((7, 1), (2, 3)), ref.normal((7, 1), (2, 3))),
        (ops.uniform((7, 1), (2, 3)), ref.uniform((7, 1), (2, 3))),
    ]
    for got, want in pairs:
        assert isinstance(got, TracedArray)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(concrete(got), want)


def test_ops_xp_takes_and_returns_traced_arrays() -> None:
    ops = TracingOps("float64")
    out = ops.xp.stack([traced(), traced()], axis=0)
    assert isinstance(out, TracedArray)
    assert out.shape == (2, 3, 4)
    assert ops.xp.float32 is np.float32


def test_spike_marks_survive_masking_only() -> None:
    ops = TracingOps("float64")
    s = ops.spike(traced(), SURROGATE)
    other = ops.spike(traced() - 0.5, SURROGATE)
    cond = traced() > 0.3
    marked = [
        s,
        ops.where(cond, s, 0.0),
        ops.where(cond, 0, s),
        ops.where(cond, s, other),
        ops.where(cond, s, ops.zeros_like(s)),
        s * (1.0 - cond * 1.0),
        ops.maximum(s, other),
        ops.minimum(s, 0.0),
        ops.asarray(s),
        ops.clip(s, 0.0, 1.0),
        np.float64(1.0) * s,
    ]
    unmarked = [
        traced(),
        ops.where(cond, 1.0, 0.0),
        ops.where(cond, s, 1.0),
        1.0 - s,
        s + 0.0,
        s > 0,
        ops.stop_gradient(s),
        ops.maximum(s, 0.5),
        -s,
    ]
    assert [x.is_spike for x in marked] == [True] * len(marked)
    assert [x.is_spike for x in unmarked] == [False] * len(unmarked)


def test_spike_needs_a_surrogate() -> None:
    with pytest.raises(TracingError, match=r"ops\.spike\(x, None\).*ctx\.surrogate"):
        TracingOps("float64").spike(traced(), None)  # type: ignore[arg-type]


def test_traced_arrays_are_unhashable_as_tracers_are() -> None:
    with pytest.raises(TypeError, match="unhashable"):
        hash(traced())
