"""Properties of the reference engine over random networks (hypothesis).

Each property compares two descriptions of the same network that the engine computes along
different code paths: dense against sparse weights, per-synapse delays against one projection
per delay, a batch against its samples run one by one.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import neuropil as npl

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def _case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, int]:
    n_pre = draw(st.integers(1, 6))
    n_post = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.6, (n_post, n_pre)) * (rng.random((n_post, n_pre)) < 0.6)
    d = rng.integers(0, 4, (n_post, n_pre))
    x = (rng.random((draw(st.integers(1, 25)), draw(st.integers(1, 3)), n_pre)) < 0.35) * 1.0
    model = draw(st.sampled_from(["lif", "cuba_lif", "alif", "if"]))
    return w, d, x, model, seed


def _net(model: str, n_pre: int, n_post: int) -> npl.Network:
    net = npl.Network(dt=1e-3)
    net.input("in", n_pre)
    net.population("n", n_post, model, v_th=0.4)
    net.probe("n", "spikes")
    net.probe("n", "v")
    return net


@SETTINGS
@given(_case())
def test_sparse_equals_dense(case: tuple[np.ndarray, np.ndarray, np.ndarray, str, int]) -> None:
    w, d, x, model, _ = case
    n_post, n_pre = w.shape
    dense = _net(model, n_pre, n_post)
    dense.connect("in", "n", "exponential", weights=w, delay=d)
    post, pre = np.nonzero(w)
    sparse = _net(model, n_pre, n_post)
    sparse.connect(
        "in",
        "n",
        "exponential",
        weights=w[post, pre],
        delay=d[post, pre],
        connectivity=npl.Connectivity.sparse(pre, post),
    )
    a = npl.simulate(dense, {"in": x})
    b = npl.simulate(sparse, {"in": x})
    np.testing.assert_array_equal(a["n.spikes"], b["n.spikes"])
    np.testing.assert_allclose(a["n.v"], b["n.v"], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(_case())
def test_per_synapse_delays_equal_one_projection_per_delay(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, str, int],
) -> None:
    w, d, x, model, _ = case
    n_post, n_pre = w.shape
    joint = _net(model, n_pre, n_post)
    joint.connect("in", "n", weights=w, delay=d)
    split = _net(model, n_pre, n_post)
    for k in range(4):
        split.connect("in", "n", weights=np.where(d == k, w, 0.0), delay=k)
    a = npl.simulate(joint, {"in": x})
    b = npl.simulate(split, {"in": x})
    np.testing.assert_array_equal(a["n.spikes"], b["n.spikes"])
    np.testing.assert_allclose(a["n.v"], b["n.v"], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(_case())
def test_batch_equals_samples_one_by_one(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, str, int],
) -> None:
    w, d, x, model, _ = case
    n_post, n_pre = w.shape
    net = _net(model, n_pre, n_post)
    net.connect("in", "n", "exponential", weights=w, delay=d)
    net.connect("n", "n", weights=np.full((n_post, n_post), -0.2), delay=1)
    sim = npl.compile(net)
    batched = sim.run({"in": x})
    for b in range(x.shape[1]):
        single = sim.run({"in": x[:, b : b + 1]})
        np.testing.assert_array_equal(batched["n.spikes"][:, b], single["n.spikes"][:, 0])
        np.testing.assert_allclose(batched["n.v"][:, b], single["n.v"][:, 0], rtol=1e-12)
