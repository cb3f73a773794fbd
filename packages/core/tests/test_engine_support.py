"""The shared checks of run inputs and parameter values (every engine calls them)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

import neuropil
from neuropil.errors import EngineError


def _net() -> neuropil.ResolvedNetwork:
    net = neuropil.Network(dt=1e-3)
    net.input("in", 4, shape=(2, 2))
    net.population("pop", 3, "lif")
    net.connect("in", "pop", sign="excitatory")
    return neuropil.resolve(net)


def test_layout_from_shapes_alone() -> None:
    net = _net()
    assert neuropil.check_input_layout(net, {"in": ((10, 5, 2, 2), "u")}, None) == (10, 5)
    assert neuropil.check_input_layout(net, {"in": ((10, 5, 4), "f")}, 7) == (7, 5)
    assert neuropil.check_input_layout(net, {}, 3) == (3, 1)


@pytest.mark.parametrize(
    ("inputs", "steps", "message"),
    [
        ({"inn": ((3, 1, 4), "f")}, None, r"no input named 'inn'; did you mean 'in'\?"),
        ({"in": ((3, 1, 4), "c")}, None, "must hold numbers .* kind 'c'"),
        ({"in": ((3, 1, 5), "f")}, None, r"must be \[T, B, 2, 2\] .* got shape \(3, 1, 5\)"),
        ({"in": ((3, 1, 4), "f")}, 4, "has 3 steps but the run asks for 4"),
        ({}, None, r"pass the network's inputs \('in' \[T, B, 2, 2\]\)"),
        ({"in": ((3, 1, 4), "f")}, -1, "steps must be a whole number >= 0"),
    ],
)
def test_layout_mistakes(
    inputs: dict[str, tuple[tuple[int, ...], str]], steps: int | None, message: str
) -> None:
    with pytest.raises(EngineError, match=message):
        neuropil.check_input_layout(_net(), inputs, steps)


def test_inputs_are_flattened_and_must_be_finite() -> None:
    arrays, steps, batch = neuropil.check_inputs(_net(), {"in": np.ones((3, 2, 2, 2))}, None)
    assert arrays["in"].shape == (3, 2, 4)
    assert (steps, batch) == (3, 2)
    with pytest.raises(EngineError, match="'in' contains NaN"):
        neuropil.check_inputs(_net(), {"in": np.full((3, 2, 4), np.nan)}, None)


def test_parameter_values() -> None:
    net = _net()
    shapes = {"pop.tau_mem": (), "in->pop.weights": (3, 4), "in->pop.delay": ()}
    ok = neuropil.check_parameter_values(net, shapes, {"pop.tau_mem": [0.01, 0.02, 0.03]})
    assert ok["pop.tau_mem"].dtype == np.float64
    bad: list[tuple[dict[str, npt.ArrayLike], str]] = [
        ({"in->pop.delay": 2}, "delays are fixed at compile time"),
        ({"pop.tau_mm": 0.01}, r"no parameter named 'pop.tau_mm'; did you mean 'pop.tau_mem'\?"),
        ({"pop.tau_mem": -1.0}, r"'pop.tau_mem' must lie in"),
        ({"pop.tau_mem": [0.01, 0.02]}, "takes a scalar or 3 values"),
        ({"in->pop.weights": np.ones((4, 3))}, r"has shape \(3, 4\), got \(4, 3\)"),
        ({"in->pop.weights": -np.ones((3, 4))}, "excitatory, so its weights must be >= 0"),
        ({"pop.tau_mem": np.inf}, "NaN or infinite"),
    ]
    for values, message in bad:
        with pytest.raises(EngineError, match=message):
            neuropil.check_parameter_values(net, shapes, values)


def test_synapse_views() -> None:
    net = neuropil.Network(dt=1e-3)
    net.input("in", 3)
    net.population("a", 2, "lif")
    net.population("b", 3, "lif")
    net.connect("in", "a", name="dense")
    net.connect("in", "b", name="one", connectivity=neuropil.Connectivity.one_to_one())
    net.connect("a", "b", name="sparse", connectivity=neuropil.Connectivity.sparse([0, 1], [2, 0]))
    projections = {p.name: p for p in neuropil.resolve(net).projections}
    x = np.arange(6.0).reshape(2, 3)  # [B, N]
    dense = neuropil.synapse_view(projections["dense"])
    assert dense.pre(x).shape == (2, 1, 3)
    assert dense.post(x[:, :2]).shape == (2, 2, 1)
    assert neuropil.synapse_view(projections["one"]).pre(x) is x
    sparse = neuropil.synapse_view(projections["sparse"], lambda a: a + 0)
    assert sparse.pre(x[:, :2]).tolist() == [[0.0, 1.0], [3.0, 4.0]]
    assert sparse.post(x).tolist() == [[2.0, 0.0], [5.0, 3.0]]


def test_delay_groups() -> None:
    net = neuropil.Network(dt=1e-3)
    net.input("in", 3)
    net.population("a", 2, "lif")
    net.connect("in", "a", name="one")
    net.connect("in", "a", name="per", delay=np.array([[1, 2, 1], [2, 2, 1]]))
    projections = {p.name: p for p in neuropil.resolve(net).projections}
    (whole,) = neuropil.delay_groups(projections["one"])
    assert (whole.delay, whole.kind, whole.select) == (1, "dense", None)
    by_delay = {g.delay: g for g in neuropil.delay_groups(projections["per"])}
    assert sorted(by_delay) == [1, 2]
    ones = by_delay[1]
    assert ones.kind == "sparse"
    assert ones.select is not None
    assert ones.select.tolist() == [0, 2, 5]  # row-major positions in [N_post, N_pre]
    assert ones.pre_idx is not None
    assert ones.post_idx is not None
    assert (ones.pre_idx.tolist(), ones.post_idx.tolist()) == ([0, 2, 2], [0, 0, 1])
